// IR drop solved exactly (sim/devices/ir-drop.ts): known answers against a direct dense nodal solve of
// the whole resistor network (Gaussian elimination), written here independently of the solver. Gate
// drive's mean field against the exact open-row ladder of every input, and the schedule fields it reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { lower } from '../compiler/lower/lower.js';
import { printSchedule } from '../compiler/lower/print.js';
import { Rng } from '../compiler/util/rng.js';
import type { LayerMapping, Schedule, WeightBlock } from '../compiler/lower/schedule.js';
import { scheduleProblems } from '../compiler/lower/verify.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { fillUniform, irDropEffectiveConductances, irDropFirstOrder, irDropLoss, irDropSolve, type WireResistance } from '../sim/devices/index.js';
import { analogDevices, blockLayout, scheduleInputActivity } from '../sim/analog.js';
import { PRESETS } from '../sim/spec/presets.js';
import type { AcceleratorSpec } from '../sim/spec/types.js';
import { weightDigits } from '../sim/weight-digits.js';
import { TEST_SPEC } from './sim-helpers.js';

/**
 * Output currents (µS·V) of the network for inputs x (V), by nodal analysis: unknowns are the row-wire
 * nodes r(i, j) and column-wire nodes c(i, j) (a zero-resistance wire pins its nodes to the driver's
 * x_i or the sense amplifier's 0 V), driver i before r(i, 0), sense amplifier j after c(k−1, j).
 */
function denseSolve(g: ArrayLike<number>, k: number, n: number, w: WireResistance, x: ArrayLike<number>): Float64Array {
  const gr = w.rowOhm > 0 ? 1e6 / w.rowOhm : Infinity;
  const gc = w.colOhm > 0 ? 1e6 / w.colOhm : Infinity;
  const index = new Map<string, number>();
  const node = (key: string) => {
    let id = index.get(key);
    if (id === undefined) index.set(key, (id = index.size));
    return id;
  };
  // a node is an unknown index, or a fixed voltage
  type Node = { id: number } | { v: number };
  const r = (i: number, j: number): Node => (gr === Infinity ? { v: x[i] } : { id: node(`r${i},${j}`) });
  const c = (i: number, j: number): Node => (gc === Infinity ? { v: 0 } : { id: node(`c${i},${j}`) });
  const edges: [Node, Node, number][] = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) {
      edges.push([r(i, j), c(i, j), g[i * n + j]]);
      if (gr !== Infinity) edges.push([j === 0 ? { v: x[i] } : r(i, j - 1), r(i, j), gr]);
      if (gc !== Infinity) edges.push([c(i, j), i === k - 1 ? { v: 0 } : c(i + 1, j), gc]);
    }
  }
  const size = index.size;
  const a = Array.from({ length: size }, () => new Float64Array(size + 1)); // [A | b]
  for (const [p, q, cond] of edges) {
    for (const [u, v] of [[p, q], [q, p]] as const) {
      if (!('id' in u)) continue;
      a[u.id][u.id] += cond;
      if ('id' in v) a[u.id][v.id] -= cond;
      else a[u.id][size] += cond * v.v;
    }
  }
  // Gaussian elimination with partial pivoting
  for (let col = 0; col < size; col++) {
    let piv = col;
    for (let row = col + 1; row < size; row++) if (Math.abs(a[row][col]) > Math.abs(a[piv][col])) piv = row;
    [a[col], a[piv]] = [a[piv], a[col]];
    for (let row = col + 1; row < size; row++) {
      const f = a[row][col] / a[col][col];
      if (f !== 0) for (let m = col; m <= size; m++) a[row][m] -= f * a[col][m];
    }
  }
  const v = new Float64Array(size);
  for (let row = size - 1; row >= 0; row--) {
    let s = a[row][size];
    for (let m = row + 1; m < size; m++) s -= a[row][m] * v[m];
    v[row] = s / a[row][row];
  }
  const volt = (nd: Node) => ('id' in nd ? v[nd.id] : nd.v);
  // the current into sense amplifier j is the sum of its column's cell currents (KCL)
  const y = new Float64Array(n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) y[j] += g[i * n + j] * (volt(r(i, j)) - volt(c(i, j)));
  return y;
}

/** x (k) · G (k×n). */
function apply(x: ArrayLike<number>, g: ArrayLike<number>, k: number, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) y[j] += x[i] * g[i * n + j];
  return y;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  let scale = 0;
  for (let q = 0; q < expected.length; q++) scale = Math.max(scale, Math.abs(expected[q]));
  for (let q = 0; q < expected.length; q++) assert.ok(Math.abs(actual[q] - expected[q]) <= rel * scale, `${what} [${q}]: ${actual[q]} vs ${expected[q]} (tolerance ${rel} × ${scale})`);
}

const conductances = (k: number, n: number, seed: number, gMax = 200) => fillUniform(new Float32Array(k * n), new Rng(seed), 1, gMax);

describe('IR drop, exact', () => {
  // strong drops (R·ΣG along a wire ~ 0.5–1): the solve must be exact, not only first order
  const both: WireResistance = { rowOhm: 40, colOhm: 70 };

  it('G_eff equals the dense nodal solve to 1e-9 relative, entry by entry (6×5, 5×6, 7×7; both wires)', () => {
    for (const [k, n, seed] of [[6, 5, 1], [5, 6, 2], [7, 7, 3]]) {
      const g = conductances(k, n, seed);
      const eff = irDropSolve(g, k, n, both);
      for (let i = 0; i < k; i++) {
        const unit = new Float64Array(k);
        unit[i] = 1;
        assertClose(eff.subarray(i * n, (i + 1) * n), denseSolve(g, k, n, both, unit), 1e-9, `${k}×${n} row ${i}`);
      }
      // the drop is large here, so agreeing is not trivial: the worst cell loses > 10%
      assert.ok(irDropLoss(g, eff).worst > 0.1, `${k}×${n} worst loss ${irDropLoss(g, eff).worst}`);
    }
  });

  it('superposition: the dense solve of random inputs equals x·G_eff to 1e-9 relative (bits, DAC levels, signed)', () => {
    const k = 6;
    const n = 5;
    const g = conductances(k, n, 4);
    const eff = irDropSolve(g, k, n, both);
    const rng = new Rng(5);
    for (let trial = 0; trial < 12; trial++) {
      const x = Float64Array.from({ length: k }, () => (trial < 4 ? (rng.next() < 0.5 ? 1 : 0) : trial < 8 ? Math.floor(rng.next() * 256) : rng.next() * 2 - 1));
      assertClose(apply(x, eff, k, n), denseSolve(g, k, n, both, x), 1e-9, `trial ${trial}`);
    }
  });

  it('one cell: G/(1 + G·(R_row + R_col)) exactly', () => {
    const g = Float32Array.from([150]);
    const eff = irDropSolve(g, 1, 1, both)[0];
    const expected = 150 / (1 + 150e-6 * (40 + 70));
    assert.ok(Math.abs(eff - expected) <= 1e-12 * expected, `${eff} vs ${expected}`);
  });

  it('R = 0 gives G exactly; float32 output is the double solve rounded', () => {
    const g = conductances(8, 9, 6);
    assert.deepEqual(irDropEffectiveConductances(g, 8, 9, { rowOhm: 0, colOhm: 0 }), g);
    assert.deepEqual(irDropEffectiveConductances(g, 8, 9, both), Float32Array.from(irDropSolve(g, 8, 9, both)));
  });

  it('the ladder solve (one wire at 0) equals the dense solve and the general solver in the limit', () => {
    const k = 7;
    const n = 6;
    const g = conductances(k, n, 7);
    for (const w of [{ rowOhm: 0, colOhm: 70 }, { rowOhm: 40, colOhm: 0 }]) {
      const eff = irDropSolve(g, k, n, w);
      for (let i = 0; i < k; i++) {
        const unit = new Float64Array(k);
        unit[i] = 1;
        assertClose(eff.subarray(i * n, (i + 1) * n), denseSolve(g, k, n, w, unit), 1e-12, `row ${w.rowOhm} Ω, col ${w.colOhm} Ω: row ${i}`);
      }
      // the general (Schur + CG) solve tends to it linearly as the zero wire's resistance ε → 0
      const gap = (eps: number) => {
        const near = irDropSolve(g, k, n, { rowOhm: w.rowOhm || eps, colOhm: w.colOhm || eps });
        let d = 0;
        for (let q = 0; q < g.length; q++) d = Math.max(d, Math.abs(near[q] - eff[q]) / g[q]);
        return d;
      };
      const [d3, d4] = [gap(1e-3), gap(1e-4)];
      assert.ok(d4 < 1e-6 && d3 / d4 > 9 && d3 / d4 < 11, `${JSON.stringify(w)}: general solver off by ${d3} at 1 mΩ, ${d4} at 0.1 mΩ`);
    }
  });

  it('the first-order model agrees to second order: its error falls ~4× when R halves', () => {
    const k = 16;
    const n = 12;
    const g = conductances(k, n, 8, 100);
    let last = 0;
    for (const scale of [1, 0.5, 0.25]) {
      const w = { rowOhm: 2 * scale, colOhm: 3 * scale };
      const exact = irDropSolve(g, k, n, w);
      const first = irDropFirstOrder(g, k, n, w);
      let err = 0;
      for (let q = 0; q < g.length; q++) err = Math.max(err, Math.abs(first[q] - exact[q]) / g[q]);
      const loss = irDropLoss(g, exact).worst;
      // second order: the error is a few times the square of the worst loss
      assert.ok(err < 4 * loss * loss, `R × ${scale}: first-order error ${err}, worst loss ${loss}`);
      if (last) {
        const ratio = last / err;
        assert.ok(ratio > 3.6 && ratio < 4.4, `R × ${scale}: error ratio ${ratio} (${last} -> ${err})`);
      }
      last = err;
    }
  });

  it('the drop grows with the distance from the drivers and the sense amplifiers', () => {
    const k = 32;
    const n = 32;
    const g = new Float32Array(k * n).fill(50);
    const eff = irDropSolve(g, k, n, { rowOhm: 2, colOhm: 2 });
    for (let j = 1; j < n; j++) assert.ok(eff[j] < eff[j - 1], `row 0, column ${j}: ${eff[j]} !< ${eff[j - 1]}`);
    for (let i = 1; i < k; i++) assert.ok(eff[i * n] > eff[(i - 1) * n], `column 0, row ${i}: ${eff[i * n]} !> ${eff[(i - 1) * n]}`);
  });

  it('a 128×128 block solves well under a second of CPU (both wires), and the ladder in milliseconds', () => {
    const k = 128;
    const n = 128;
    const g = conductances(k, n, 9, 167);
    for (const [w, budgetMs] of [[{ rowOhm: 2.12, colOhm: 2.12 }, 1000], [{ rowOhm: 6.36, colOhm: 2.12 }, 1000], [{ rowOhm: 0, colOhm: 2.12 }, 20]] as const) {
      // CPU time of this process: the machine may be shared
      const t0 = process.cpuUsage();
      const eff = irDropSolve(g, k, n, w);
      const t1 = process.cpuUsage(t0);
      const ms = (t1.user + t1.system) / 1000;
      const loss = irDropLoss(g, eff);
      console.log(`  128×128, row ${w.rowOhm} Ω, col ${w.colOhm} Ω: ${ms.toFixed(1)} ms, loss mean ${(100 * loss.mean).toFixed(1)}%, worst ${(100 * loss.worst).toFixed(1)}%`);
      assert.ok(ms < budgetMs, `${ms} ms`);
    }
  });

  it('rejects bad wires and shapes naming them', () => {
    const g = conductances(2, 2, 10);
    assert.throws(() => irDropSolve(g, 2, 2, { rowOhm: -1, colOhm: 0 }), { message: 'ir drop: wire resistance rowOhm = -1: expected a finite number >= 0' });
    assert.throws(() => irDropSolve(g, 2, 3, both), { message: 'ir drop: 4 conductances are not 2×3' });
  });
});

describe('IR drop on a block layout', () => {
  it('packs the digits (pairs, then the reference columns) and unpacks them unchanged', () => {
    const [Kb, S, Nb] = [3, 2, 4];
    const plus = Float32Array.from({ length: Kb * S * Nb }, (_, i) => i + 1);
    const minus = plus.map((v) => 100 + v);
    const pairs = blockLayout(Kb, S, Nb, true, false);
    assert.equal(pairs.cols, 16);
    const g = pairs.pack(plus, minus);
    // row 0: weight column 0's digit 0 (+, −), digit 1 (+, −), then weight column 1
    assert.deepEqual(Array.from(g.subarray(0, 6)), [1, 101, 5, 105, 2, 102]);
    assert.deepEqual(pairs.unpack(g), { plus, minus, ref: undefined });
    const ref = Float32Array.from({ length: Kb * S }, (_, i) => 50 + i);
    const offset = blockLayout(Kb, S, Nb, false, true);
    assert.equal(offset.cols, 10);
    const h = offset.pack(plus, undefined, ref);
    assert.deepEqual(Array.from(h.subarray(8, 10)), [50, 51]);
    assert.deepEqual(offset.unpack(h), { plus, minus: undefined, ref });
  });

  it('the analog model reads levels (G_eff − G_eff of the reference)/ΔG, reference columns in the network', () => {
    // offset scheme, 2-bit cells: 5 rows × 2 weights × 4 digits + 4 reference columns; ideal devices
    const spec: AcceleratorSpec = {
      ...TEST_SPEC,
      crossbar: { ...TEST_SPEC.crossbar, rowWireResistanceOhm: 20, colWireResistanceOhm: 50 },
      weights: { bits: 8, cellsPerWeight: 4, signed: 'offset' },
    };
    const [K, N, S] = [5, 2, 4];
    const codes = Float64Array.from({ length: K * N }, (_, i) => ((i * 53) % 255) - 127);
    const digits = weightDigits(codes, spec);
    const block: WeightBlock = { id: 'b', layer: 'l', replica: 0, rows: [0, K], cols: [0, N], diagonal: false, array: 0, rowOffset: 0, colOffset: 0, physicalRows: K, physicalCols: N * S, round: 0 };
    const layer = { layer: 'l', cols: N } as LayerMapping;
    const { levels } = analogDevices(spec, { seed: 1, timeS: 0 }).cells(layer, block, digits);
    // the physical row k by hand: weight n's digits s at column n·S + s, then the reference of digit s
    const dG = (100 - 1) / 3;
    const cols = N * S + S;
    const g = new Float64Array(K * cols);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) g[k * cols + n * S + s] = 1 + dG * digits.plus[s][k * N + n];
      for (let s = 0; s < S; s++) g[k * cols + N * S + s] = 1 + dG * digits.reference[s];
    }
    const wires = { rowOhm: 20, colOhm: 50 };
    for (let k = 0; k < K; k++) {
      const unit = new Float64Array(K);
      unit[k] = 1;
      const eff = denseSolve(g, K, cols, wires, unit); // row k of G_eff
      for (let s = 0; s < S; s++) {
        for (let n = 0; n < N; n++) {
          const expected = (eff[n * S + s] - eff[N * S + s]) / dG;
          const got = levels[(k * S + s) * N + n];
          assert.ok(Math.abs(got - expected) <= 1e-5 * 3, `row ${k} digit ${s} weight ${n}: ${got} vs ${expected}`);
        }
      }
    }
  });
});

/**
 * Gate drive, exact for one input: the column current (µS·V, V_read = 1) of a column ladder (segments
 * 1/R, the last into the 0 V sense amplifier) whose only rungs are the active rows' cells, each from
 * 1 V to its node; the inactive rows' cells are open. A tridiagonal solve (Thomas), O(k).
 */
function gateLadderExact(g: ArrayLike<number>, active: ArrayLike<boolean>, colOhm: number): number {
  const k = g.length;
  const gc = 1e6 / colOhm;
  const d = new Float64Array(k);
  const b = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const rung = active[i] ? g[i] : 0;
    d[i] = (i > 0 ? gc : 0) + gc + rung;
    b[i] = rung;
    if (i > 0) {
      const f = gc / d[i - 1];
      d[i] -= f * gc;
      b[i] += f * b[i - 1];
    }
  }
  return (gc * b[k - 1]) / d[k - 1]; // g_c·v_{k−1}
}

/** rram-128's cells: 2-bit levels from Gmin to Gmax (µS), uniformly random. */
const rramLevels = (k: number, rng: Rng) => Float64Array.from({ length: k }, () => 1e6 / 9e5 + (1e6 / 6e3 - 1e6 / 9e5) * (Math.floor(rng.next() * 4) / 3));

describe('IR drop, gate-driven inputs (mean field)', () => {
  const col = 2.12; // rram-128's colWireResistanceOhm

  it('the exact per-input ladder equals the dense nodal solve with the open cells removed', () => {
    const k = 9;
    const rng = new Rng(11);
    const g = rramLevels(k, rng);
    for (let t = 0; t < 5; t++) {
      const active = Array.from({ length: k }, () => rng.next() < 0.5);
      const open = g.map((v, i) => (active[i] ? v : 0));
      const y = denseSolve(open, k, 1, { rowOhm: 0, colOhm: 40 }, new Float64Array(k).fill(1))[0];
      const exact = gateLadderExact(g, active, 40);
      assert.ok(Math.abs(exact - y) <= 1e-12 * y, `input ${t}: ${exact} vs ${y}`);
    }
  });

  it('a = 1 is the voltage drive; a = 0 and R = 0 give G; bad activity and a row wire are rejected', () => {
    const [k, n] = [40, 7];
    const g = conductances(k, n, 12, 167);
    const wires = { rowOhm: 0, colOhm: col };
    assertClose(irDropSolve(g, k, n, wires, { gateActivity: 1 }), irDropSolve(g, k, n, wires), 1e-12, 'a = 1');
    assert.deepEqual(irDropSolve(g, k, n, wires, { gateActivity: 0 }), Float64Array.from(g));
    assert.deepEqual(irDropEffectiveConductances(g, k, n, { rowOhm: 0, colOhm: 0 }, { gateActivity: 0.3 }), g);
    assert.throws(() => irDropSolve(g, k, n, wires, { gateActivity: 1.5 }), { message: 'ir drop: gate drive activity = 1.5: expected a number in [0, 1]' });
    assert.throws(() => irDropSolve(g, k, n, { rowOhm: 1, colOhm: col }, { gateActivity: 0.5 }), { message: 'ir drop: gate drive with wire resistance rowOhm = 1: expected 0 (a word line drives gates and carries no cell current)' });
  });

  it('against the exact open-row ladder of every input (rram-128-like columns): column-current error measured', () => {
    const k = 128;
    const rng = new Rng(13);
    // measured bounds per activity: [mean |error|, 99th percentile, |bias|]; the measured values are printed
    const bounds: Record<number, [number, number, number]> = { 0.05: [0.025, 0.09, 0.008], 0.2: [0.035, 0.11, 0.006], 0.5: [0.031, 0.1, 0.004], 0.8: [0.02, 0.065, 0.002] };
    for (const a of [0.05, 0.2, 0.5, 0.8]) {
      const err: number[] = [];
      const voltageErr: number[] = [];
      let bias = 0;
      let loss = 0;
      for (let c = 0; c < 64; c++) {
        const g = rramLevels(k, rng);
        const gate = irDropSolve(g, k, 1, { rowOhm: 0, colOhm: col }, { gateActivity: a });
        const voltage = irDropSolve(g, k, 1, { rowOhm: 0, colOhm: col });
        for (let t = 0; t < 200; t++) {
          const active = Array.from({ length: k }, () => rng.next() < a);
          if (!active.includes(true)) continue;
          const exact = gateLadderExact(g, active, col);
          let [mean, held, ideal] = [0, 0, 0];
          for (let i = 0; i < k; i++) if (active[i]) [mean, held, ideal] = [mean + gate[i], held + voltage[i], ideal + g[i]];
          err.push(Math.abs(mean - exact) / exact);
          voltageErr.push(Math.abs(held - exact) / exact);
          bias += (mean - exact) / exact;
          loss += 1 - exact / ideal;
        }
      }
      const m = err.length;
      err.sort((p, q) => p - q);
      const meanErr = err.reduce((p, q) => p + q, 0) / m;
      const p99 = err[Math.floor(0.99 * m)];
      const heldErr = voltageErr.reduce((p, q) => p + q, 0) / m;
      console.log(`  a = ${a}: exact loss ${(100 * loss / m).toFixed(1)}%; mean field |error| mean ${(100 * meanErr).toFixed(2)}%, p99 ${(100 * p99).toFixed(2)}%, bias ${(100 * bias / m).toFixed(2)}%; rows held at 0 V: |error| mean ${(100 * heldErr).toFixed(1)}% (${m} inputs)`);
      const [bMean, bP99, bBias] = bounds[a];
      assert.ok(meanErr < bMean && p99 < bP99 && Math.abs(bias / m) < bBias, `a = ${a}: mean ${meanErr}, p99 ${p99}, bias ${bias / m}`);
      // the voltage model (inactive cells loading the column) is far off for a gate-driven array
      if (a < 0.8) assert.ok(heldErr > 3 * meanErr, `a = ${a}: voltage model |error| ${heldErr}`);
    }
  });

  it('the analog model solves each block at its MvmStep activity (default 0.5), reference columns included', () => {
    const rram = PRESETS['rram-128'];
    const spec: AcceleratorSpec = { ...rram, adc: { ...rram.adc, range: 'max' }, devices: TEST_SPEC.devices };
    const [K, N, S] = [20, 3, 4];
    const b = new GraphBuilder('gate', 3);
    b.dense(b.input('x', [K]), N, { id: 'fc' });
    const rng = new Rng(14);
    const graph = quantizeGraph(b.build(['fc']), { x: Float32Array.from({ length: 32 * K }, () => rng.next()), n: 32 }, DEFAULT_QUANTIZE).graph;
    const s = lower(graph, spec, { inputActivity: new Map([['fc', 0.25]]) });
    const activity = scheduleInputActivity(s);
    const block = s.blocks.find((x) => x.layer === 'fc')!;
    assert.equal(activity.get(block.id), 0.25);
    const layer = s.layers.find((l) => l.layer === 'fc')!;
    const codes = Float64Array.from({ length: K * N }, (_, i) => ((i * 37) % 255) - 127);
    const digits = weightDigits(codes, spec);
    const dG = (rram.crossbar.gMaxUs - rram.crossbar.gMinUs) / 3;
    const cols = N * S + S;
    const g = new Float64Array(K * cols);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) for (let d = 0; d < S; d++) g[k * cols + n * S + d] = rram.crossbar.gMinUs + dG * digits.plus[d][k * N + n];
      for (let d = 0; d < S; d++) g[k * cols + N * S + d] = rram.crossbar.gMinUs + dG * digits.reference[d];
    }
    const levelsAt = (a: number) => {
      const eff = irDropSolve(g, K, cols, { rowOhm: 0, colOhm: rram.crossbar.colWireResistanceOhm }, { gateActivity: a });
      return Float64Array.from({ length: K * S * N }, (_, i) => {
        const [k, d, n] = [Math.floor(i / (S * N)), Math.floor(i / N) % S, i % N];
        return (eff[k * cols + n * S + d] - eff[k * cols + N * S + d]) / dG;
      });
    };
    for (const [a, map] of [[0.25, activity], [0.5, undefined]] as const) {
      const { levels } = analogDevices(spec, { seed: 1, timeS: 0, inputActivity: map }).cells(layer, block, digits);
      assertClose(levels, levelsAt(a), 1e-5, `activity ${a}`);
    }
    // the two activities give visibly different cells: the solve does read it
    const [l25, l50] = [levelsAt(0.25), levelsAt(0.5)];
    assert.ok(l25.some((v, i) => Math.abs(v - l50[i]) > 0.05), 'activity 0.25 vs 0.5');
  });

  it('the schedule carries each mvm step\'s conductance and activity: printed, and checked by the verifier', () => {
    const b = new GraphBuilder('fields', 3);
    b.dense(b.input('x', [24]), 5, { id: 'fc' });
    const rng = new Rng(15);
    const graph = quantizeGraph(b.build(['fc']), { x: Float32Array.from({ length: 32 * 24 }, () => rng.next()), n: 32 }, DEFAULT_QUANTIZE).graph;
    const s = lower(graph, TEST_SPEC, { inputActivity: new Map([['fc', 0.1875]]) });
    const step = s.steps.find((st) => st.kind === 'mvm')!;
    assert.ok(step.kind === 'mvm');
    assert.match(printSchedule(s), new RegExp(`step ${step.id}: mvm block ${step.block} .* adcs=\\S+ G=${Number(step.cellConductanceUs.toPrecision(6))}uS activity=0.1875`));
    assert.deepEqual(scheduleProblems(s, graph), []);
    const broken = (edit: object): Schedule => ({ ...s, steps: s.steps.map((st) => (st.id === step.id ? { ...st, ...edit } : st)) });
    assert.deepEqual(scheduleProblems(broken({ inputActivity: 1.5 }), graph), [`step ${step.id}: inputActivity = 1.5, expected a number in [0, 1]`]);
    assert.deepEqual(scheduleProblems(broken({ inputActivity: undefined }), graph), [`step ${step.id}: inputActivity = undefined, expected a number in [0, 1]`]);
    assert.deepEqual(scheduleProblems(broken({ cellConductanceUs: -3 }), graph), [`step ${step.id}: cellConductanceUs = -3, expected a finite number >= 0 (µS)`]);
    assert.deepEqual(scheduleProblems(broken({ cellConductanceUs: Infinity }), graph), [`step ${step.id}: cellConductanceUs = Infinity, expected a finite number >= 0 (µS)`]);
  });
});
