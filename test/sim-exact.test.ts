// The CIM simulator's exact mode against the integer-only reference executor, the weight-digit
// encodings, the lowering and its verifier, and the cost model recomputed by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lower } from '../compiler/lower/lower.js';
import { printSchedule, utilisation } from '../compiler/lower/print.js';
import type { Schedule } from '../compiler/lower/schedule.js';
import { scheduleProblems } from '../compiler/lower/verify.js';
import { integerLayers, runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { measureInputActivity } from '../sim/cost/activity.js';
import { costOf } from '../sim/cost/model.js';
import { calibrateAdc } from '../sim/calibrate.js';
import { Simulator } from '../sim/simulate.js';
import { weightDigits } from '../sim/weight-digits.js';
import { resolveModel } from '../compiler/models/registry.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { fashionImages } from './helpers.js';
import { quantizedVgg, specWith, TEST_SPEC } from './sim-helpers.js';

const allCodes = Float64Array.from({ length: 255 }, (_, i) => i - 127);

describe('weight digits', () => {
  for (const signed of ['differential', 'offset', 'twos-complement'] as const) {
    for (const cb of [1, 2, 3, 4, 7]) {
      it(`${signed}, ${cb}-bit cells: Σ significance·(plus − minus − reference) = w for every int8 code`, () => {
        const spec = specWith(128, cb, signed);
        if (signed !== 'differential' && cb === 7) return; // 7-bit cells only make sense as one differential cell
        const d = weightDigits(allCodes, spec);
        for (let i = 0; i < allCodes.length; i++) {
          let w = 0;
          for (let s = 0; s < d.slices; s++) {
            const level = d.plus[s][i] - (d.minus ? d.minus[s][i] : d.reference[s]);
            assert.ok(d.plus[s][i] < 2 ** cb, `level ${d.plus[s][i]} exceeds ${cb} bits`);
            w += d.significance[s] * level;
          }
          assert.equal(w, allCodes[i]);
        }
      });
    }
  }
});

function differing(a: Map<string, Int32Array>, b: Map<string, Int32Array>): { diff: number; total: number } {
  let diff = 0;
  let total = 0;
  for (const [k, v] of a) {
    const w = b.get(k)!;
    for (let i = 0; i < v.length; i++, total++) if (v[i] !== w[i]) diff++;
  }
  return { diff, total };
}

describe('exact mode == the integer-only executor, bit for bit (fmnist-vgg)', () => {
  const configs: [number, number, 'differential' | 'offset' | 'twos-complement', number][] = [
    [64, 1, 'differential', 1],
    [128, 2, 'offset', 1],
    [256, 4, 'twos-complement', 2],
    [128, 4, 'differential', 4],
  ];
  for (const [size, cb, signed, dac] of configs) {
    it(`${size}x${size} arrays, ${cb}-bit cells, ${signed}, ${dac}-bit DAC: every code of every layer, digit by digit and lossless`, async () => {
      const g = await quantizedVgg();
      const n = 3;
      const { x } = await fashionImages('test', n);
      const keep = new Set(g.nodes.map((q) => q.id));
      const ref = runInt8(g, x, n, { keep });
      const s = lower(g, specWith(size, cb, signed, dac));
      assert.deepEqual(scheduleProblems(s, g), []);
      const sim = new Simulator(g, s);
      for (const digits of [true, false]) {
        const r = sim.run(x, n, { keep, digits });
        const { diff, total } = differing(ref.codes, r.codes);
        assert.ok(total > 60000, `${total} codes compared`);
        assert.equal(diff, 0, `${diff} of ${total} codes differ (${digits ? 'digits' : 'lossless'})`);
      }
    });
  }

  it('mixed precision (conv2 4-bit, fc1 6-bit weights in 8-bit cells): codes in their ranges, exact mode == the integer executor', async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const calib = await fashionImages('train', 64);
    const g = quantizeGraph(graph, { x: calib.x, n: 64 }, { ...DEFAULT_QUANTIZE, layerWeightBits: { conv2: 4, fc1: 6 } }).graph;
    const wmax = (id: string) => {
      const n = g.nodes.find((q) => q.id === id)!;
      const k = n.weights.kernel.data as Float32Array;
      const scales = n.quant!.weightScales!;
      let m = 0;
      for (let i = 0; i < k.length; i++) m = Math.max(m, Math.abs(Math.round(k[i] / scales[i % scales.length])));
      return [n.quant!.weightBits, m];
    };
    assert.deepEqual([wmax('conv2'), wmax('fc1'), wmax('conv3')], [[4, 7], [6, 31], [8, 127]]);
    assert.throws(() => quantizeGraph(graph, { x: calib.x, n: 64 }, { ...DEFAULT_QUANTIZE, layerWeightBits: { conv9: 4 } }), { message: /^no conv2d\/dense\/depthwise layer 'conv9' to give 4-bit weights \(layers: conv1, conv2, / });
    const n = 3;
    const { x } = await fashionImages('test', n);
    const keep = new Set(g.nodes.map((q) => q.id));
    const s = lower(g, specWith(128, 2, 'offset'));
    assert.ok(s.notes.includes('conv2: 4-bit weights stored as 8-bit'), s.notes.join('; '));
    const { diff, total } = differing(runInt8(g, x, n, { keep }).codes, new Simulator(g, s).run(x, n, { keep, digits: true }).codes);
    assert.equal(diff, 0, `${diff} of ${total} codes differ`);
  });

  it('centred ADC ranges (adc.center calibrated): half the span of a zero-centred range for one-sided sums; the centres added back exactly (fused kernel and general path)', async () => {
    const g = await quantizedVgg();
    const n = 3;
    const { x } = await fashionImages('test', n);
    const keep = new Set(g.nodes.map((q) => q.id));
    const ref = runInt8(g, x, n, { keep });
    for (const dac of [1, 8]) {
      const base = specWith(128, 2, 'offset', dac);
      const spec = { ...base, adc: { ...base.adc, bits: 20, range: 'calibrated' as const, calibrationPercentile: 100, center: 'calibrated' as const } };
      // calibrated on the images it runs, at the 100th percentile: every column sum is inside its range
      const cal = calibrateAdc(g, spec, x, n, 100);
      const zero = calibrateAdc(g, { ...spec, adc: { ...spec.adc, center: 'zero' } }, x, n, 100);
      // offset scheme, 2-bit cells: the reference digits of 127 are 3, 3, 3, 1, so digits 0..2 of every
      // column sum are <= 0: the centred range [c − FS, c + FS] spans [min, max], half of [−|min|, |min|]
      for (const [layer, fs] of cal.fullScale) {
        const c = cal.center!.get(layer)!;
        for (let d = 0; d < 3; d++) {
          assert.ok(c[d] < 0 && c[d] + fs[d] <= 1, `${layer} digit ${d}: centre ${c[d]}, full scale ${fs[d]}`);
          assert.ok(fs[d] <= zero.fullScale.get(layer)![d] / 2 + 0.5, `${layer} digit ${d}: ${fs[d]} vs ${zero.fullScale.get(layer)![d]}`);
        }
      }
      const s = lower(g, spec, { calibratedFullScale: cal.fullScale, calibratedCenter: cal.center });
      assert.deepEqual(s.layers.find((l) => l.layer === 'conv2')!.adc!.step, [1, 1, 1, 1]);
      const r = new Simulator(g, s).run(x, n, { keep });
      const { diff, total } = differing(ref.codes, r.codes);
      assert.ok(total > 60000, `${total} codes compared`);
      assert.equal(diff, 0, `${dac}-bit DAC: ${diff} of ${total} codes differ`);
    }
  });

  it('a finite ADC over the largest column sum rounds: conv1 (27 levels) stays exact at 6 bits, conv2 error falls with every bit', async () => {
    const g = await quantizedVgg();
    const n = 2;
    const { x } = await fashionImages('test', n);
    const keep = new Set(['conv1', 'conv2']);
    const ref = runInt8(g, x, n, { keep }).codes;
    const errors: number[] = [];
    for (const bits of [5, 6, 8, 10]) {
      const s = lower(g, { ...TEST_SPEC, adc: { ...TEST_SPEC.adc, bits } });
      const conv1 = s.layers.find((l) => l.layer === 'conv1')!;
      const conv2 = s.layers.find((l) => l.layer === 'conv2')!;
      // conv1: 9 rows × 3 (2-bit cells) × 1 (bit-serial) = 27 = its largest column sum
      assert.equal(conv1.adc!.maxSum, 27);
      // conv2: 96 rows × 3 = 288; the step is 288 / (2^(bits-1) - 1), or 1
      assert.deepEqual(conv2.adc!.step, new Array(4).fill(Math.max(1, 288 / (2 ** (bits - 1) - 1))));
      const r = new Simulator(g, s).run(x, n, { keep }).codes;
      if (bits >= 6) assert.deepEqual(r.get('conv1'), ref.get('conv1'));
      const a = ref.get('conv2')!;
      const b = r.get('conv2')!;
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
      errors.push(sum / a.length);
    }
    // 5, 6, 8 bits round conv2's column sums (each conversion off by up to step/2); 10 bits: step 1, exact
    assert.ok(errors[0] > errors[1] && errors[1] > errors[2] && errors[2] > 0, `mean |error| (LSB) ${errors.join(', ')}`);
    assert.equal(errors[3], 0);
  });
});

describe('lowering and the schedule verifier', () => {
  it('fmnist-vgg on 128x128: blocks, rounds, duplication, text form', async () => {
    const g = await quantizedVgg();
    const s = lower(g, TEST_SPEC);
    assert.equal(s.rounds, 1);
    const conv2 = s.layers.find((l) => l.layer === 'conv2')!;
    // conv2: 3·3·32 = 288 rows -> 3 row blocks of 96; 32 columns × 4 digits × 2 = 256 physical columns -> 2 column blocks
    assert.equal(conv2.rows, 288);
    const b2 = s.blocks.filter((b) => b.layer === 'conv2' && b.replica === 0);
    assert.deepEqual(b2.map((b) => [b.rows, b.cols]), [[[0, 96], [0, 16]], [[0, 96], [16, 32]], [[96, 192], [0, 16]], [[96, 192], [16, 32]], [[192, 288], [0, 16]], [[192, 288], [16, 32]]]);
    assert.ok(s.arraysUsed <= s.arraysAvailable);
    const text = printSchedule(s);
    assert.match(text, /layer conv2: conv2d on crossbar/);
    assert.match(text, /factors: K=288 N=32 digits=4/);
    const u = utilisation(s);
    assert.ok(u.total > 0 && u.total <= 1);
  });

  it('a model that does not fit is reprogrammed in rounds; no duplication then', async () => {
    const g = await quantizedVgg();
    const spec = { ...TEST_SPEC, architecture: { ...TEST_SPEC.architecture, tiles: 2, arraysPerTile: 8 } };
    const s = lower(g, spec);
    assert.ok(s.rounds > 1);
    assert.deepEqual(scheduleProblems(s, g), []);
    assert.ok(s.blocks.every((b) => b.replica === 0 && b.array < 16));
    const programs = s.steps.filter((st) => st.kind === 'program');
    assert.equal(programs.length, s.rounds);
    assert.ok(programs.every((p) => p.kind === 'program' && p.perInference));
    assert.match(s.notes.join('\n'), /programming rounds/);
    assert.ok(costOf(s).energyPj.program > 0);
  });

  it('rejects hand-broken schedules with messages naming the block / step', async () => {
    const g = await quantizedVgg();
    const s = lower(g, { ...TEST_SPEC, architecture: { ...TEST_SPEC.architecture, duplicate: false } });
    const b = s.blocks.find((x) => x.layer === 'conv2')!;
    const dup: Schedule = { ...s, blocks: [...s.blocks, { ...b, id: 'conv2/copy', array: s.arraysUsed }] };
    const p1 = scheduleProblems(dup, g);
    assert.ok(p1.some((m) => /layer conv2 replica 0: weight \(row 0, col 0\) mapped twice \(blocks conv2\/r0c0 and conv2\/copy\)/.test(m)), p1.join('\n'));
    assert.ok(p1.some((m) => m === 'block conv2/copy: 0 mvm steps (expected exactly 1)'), p1.join('\n'));
    const over: Schedule = { ...s, blocks: s.blocks.map((x) => (x.id === b.id ? { ...x, rowOffset: 100 } : x)) };
    assert.deepEqual(scheduleProblems(over, g), [`block ${b.id}: rows 100..196 exceed the array's 128 rows (over capacity)`]);
    const missing: Schedule = { ...s, blocks: s.blocks.filter((x) => x.id !== b.id), steps: s.steps.filter((st) => !(st.kind === 'mvm' && st.block === b.id)) };
    assert.deepEqual(scheduleProblems(missing, g), ['layer conv2 replica 0: 1536 weights not mapped (first: row 0, col 0)', `step conv2:accumulate: depends on unknown step ${b.id}:mvm`]);
    const adcs: Schedule = { ...s, steps: s.steps.map((st) => (st.kind === 'mvm' && st.block === b.id ? { ...st, adcs: 32, columnsPerAdc: 2 } : st)) };
    assert.deepEqual(scheduleProblems(adcs, g), [`step ${b.id}:mvm: uses 32 ADCs, an array has 16 (adc.perArray)`]);
    const cyc: Schedule = { ...s, steps: s.steps.map((st) => (st.id === 'program0' ? { ...st, deps: ['conv1:accumulate'] } : st)) };
    assert.ok(scheduleProblems(cyc, g).some((m) => m.startsWith('steps form a dependency cycle: program0 -> ')), scheduleProblems(cyc, g).join('\n'));
    const overlap: Schedule = { ...s, blocks: s.blocks.map((x) => (x.layer === 'conv3' && x.rows[0] === 0 ? { ...x, array: b.array } : x)) };
    assert.ok(scheduleProblems(overlap, g).some((m) => / overlap on array /.test(m)));
  });
});

describe('cost model', () => {
  it('one mvm step and one layer recomputed by hand', async () => {
    const g = await quantizedVgg();
    const spec = { ...TEST_SPEC, architecture: { ...TEST_SPEC.architecture, duplicate: false } };
    const s = lower(g, spec);
    const c = costOf(s);
    const st = s.steps.find((x) => x.kind === 'mvm' && x.layer === 'conv2')!;
    assert.equal(st.kind, 'mvm');
    if (st.kind !== 'mvm') return;
    // conv2 block r0c0: 96 rows × 16 weights (64 conversions, 128 physical columns); 784 vectors, 8 input bits
    assert.deepEqual([st.activeRows, st.conversions, st.adcs, st.columnsPerAdc, st.vectors, st.inputCycles], [96, 64, 16, 4, 784, 8]);
    const sc = c.steps.find((x) => x.step === st.id)!;
    const cycles = 784 * 8;
    assert.equal(sc.timeNs, cycles * (10 + 4 * 1.5));
    assert.equal(sc.energyPj.adc, cycles * 64 * 2);
    assert.equal(sc.energyPj.dac, cycles * 96 * 0.05);
    // cell reads: Σ G of the block's 96 × 128 cells, each at Gmin + level·ΔG (1 µS + level·33 µS); a
    // weight w puts |w|'s base-4 digits on one cell of each pair and level 0 on the other
    const w = integerLayers(g).get('conv2')!.weights; // [288 × 32]
    let digitSum = 0;
    for (let k = 0; k < 96; k++) {
      for (let n = 0; n < 16; n++) {
        for (let m = Math.abs(w[k * 32 + n]); m > 0; m = Math.floor(m / 4)) digitSum += m % 4;
      }
    }
    const sumG = 96 * 128 * 1 + 33 * digitSum;
    assert.ok(Math.abs(st.cellConductanceUs - sumG) < 1e-6, `${st.cellConductanceUs} vs ${sumG}`);
    // default input activity 0.5: a cycle draws 0.5·ΣG at 0.2 V for 10 ns (µS·V²·ns = fJ)
    assert.equal(st.inputActivity, 0.5);
    const arrayPj = (cycles * 0.5 * sumG * 0.2 ** 2 * 10) / 1000;
    assert.ok(Math.abs(sc.energyPj.array - arrayPj) < 1e-9 * arrayPj, `${sc.energyPj.array} vs ${arrayPj}`);
    // a measured activity scales it
    const measured = costOf(lower(g, spec, { inputActivity: new Map([['conv2', 0.125]]) })).steps.find((x) => x.step === st.id)!;
    assert.ok(Math.abs(measured.energyPj.array - arrayPj / 4) < 1e-9 * arrayPj);
    assert.equal(sc.energyPj.buffer, (96 * 1 + 16 * 4) * 784 * 0.5);
    assert.equal(sc.energyPj.interconnect, 16 * 4 * 784 * 1);
    // the layer: six blocks on six arrays in parallel, then the accumulate step on the digital unit
    const layer = c.layers.find((l) => l.layer === 'conv2')!;
    const acc = 784 * 32 * 4; // requantizations × 4 ops
    assert.ok(Math.abs(layer.timeNs - (cycles * 16 + (acc / 64) * 2)) < 1e-6, `${layer.timeNs}`);
    const total = c.layers.reduce((a, l) => a + l.timeNs, 0);
    assert.ok(Math.abs(c.latencyNs - total) < 1e-6);
    assert.ok(Math.abs(c.tops - (2 * c.macs) / c.latencyNs / 1e3) < 1e-9);
  });

  it('input activity: the density of 1 bits of u = q + 128 per input cycle, by hand for fc2', async () => {
    const g = await quantizedVgg();
    const { x } = await fashionImages('test', 8);
    const activity = measureInputActivity(g, TEST_SPEC, x, 8, 3);
    const input = g.nodes.find((n) => n.id === 'fc2')!.inputs[0];
    const codes = runInt8(g, x, 8, { keep: new Set([input]) }).codes.get(input)!;
    let ones = 0;
    for (const q of codes) for (let u = q + 128; u > 0; u >>= 1) ones += u & 1;
    const expected = ones / (codes.length * 8);
    assert.ok(Math.abs(activity.get('fc2')! - expected) < 1e-12, `${activity.get('fc2')} vs ${expected}`);
    assert.ok(expected > 0.01 && expected < 0.5, `${expected}`);
    for (const id of ['conv1', 'conv2', 'conv6', 'fc1']) assert.ok(activity.get(id)! > 0 && activity.get(id)! < 1, id);
  });
});
