// The analog mode as the simulator applies it, with known answers: programming-noise std of the mapped
// weights, power-law drift of whole blocks and its compensation, read noise resampled every MVM (and
// reproducible by seed), the column-sum read-noise shortcut against its variance formula, and an
// analog spec without any non-ideality equal to exact mode.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder } from '../compiler/ir/builder.js';
import type { Graph } from '../compiler/ir/types.js';
import { lower } from '../compiler/lower/lower.js';
import type { Schedule } from '../compiler/lower/schedule.js';
import { integerWeights } from '../compiler/passes/quantize/int8-executor.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { Rng } from '../compiler/util/rng.js';
import { analogDevices } from '../sim/analog.js';
import { layerAccumulator } from '../sim/crossbar.js';
import { prepareAdc } from '../sim/devices/adc.js';
import { EXACT_DEVICES, idealLevels, Simulator } from '../sim/simulate.js';
import type { AcceleratorSpec, DeviceSpec } from '../sim/spec/types.js';
import { weightDigits } from '../sim/weight-digits.js';
import { TEST_SPEC } from './sim-helpers.js';

const K = 96;
const N = 24;

/** One int8 dense layer K -> N, PTQ on seeded uniform inputs. */
function denseGraph(): { graph: Graph; x: Float32Array } {
  const b = new GraphBuilder('dense', 3);
  const x = b.input('x', [K]);
  b.dense(x, N, { id: 'fc' });
  const g = b.build(['fc']);
  const rng = new Rng(5);
  const calib = Float32Array.from({ length: 64 * K }, () => rng.next());
  return { graph: quantizeGraph(g, { x: calib, n: 64 }, DEFAULT_QUANTIZE).graph, x: calib };
}

/** 256 columns: the layer is one block. Gmin 20 µS: programming noise is (almost) never clipped at 0 S. */
const withDevices = (d: Partial<DeviceSpec>): AcceleratorSpec => ({ ...TEST_SPEC, crossbar: { ...TEST_SPEC.crossbar, cols: 256, gMinUs: 20 }, devices: { ...TEST_SPEC.devices, ...d } });

function blockOf(s: Schedule) {
  const layer = s.layers.find((l) => l.layer === 'fc')!;
  const block = s.blocks.find((b) => b.layer === 'fc')!;
  return { layer, block };
}

function digitsOf(graph: Graph, spec: AcceleratorSpec) {
  const node = graph.nodes[0];
  const p = valueParams(graph);
  const L = integerWeights(node, p.get(node.inputs[0])!, p.get(node.id)!);
  return { L, digits: weightDigits(L.weights, spec), pin: p.get(node.inputs[0])! };
}

describe('analog mode, known answers', () => {
  it('programming noise: the mapped weights deviate with std sqrt(2)·σ (a differential pair) within 5%', () => {
    const { graph } = denseGraph();
    const sigma = 0.02;
    const spec = withDevices({ programmingNoise: { model: 'gaussian', stdFractionOfRange: sigma } });
    const s = lower(graph, spec);
    const { layer, block } = blockOf(s);
    const { digits } = digitsOf(graph, spec);
    const ideal = idealLevels(block, digits, N);
    let sum2 = 0;
    let count = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const cells = analogDevices(spec, { seed, timeS: 0 }).cells(layer, block, digits);
      for (let i = 0; i < ideal.length; i++) sum2 += (cells.levels[i] - ideal[i]) ** 2;
      count += ideal.length;
    }
    // levels are in units of ΔG = range / (2^cellBits − 1): the expected std in levels is sqrt(2)·σ·3
    assert.equal(s.blocks.length, 1);
    const expected = Math.sqrt(2) * sigma * 3;
    const got = Math.sqrt(sum2 / count);
    assert.ok(Math.abs(got / expected - 1) < 0.05, `std ${got} vs ${expected}`);
  });

  it('drift: a block at t follows the power law exactly (ν fixed) and global compensation undoes it', () => {
    const { graph } = denseGraph();
    const nu = 0.06;
    const t0 = 20;
    const spec = withDevices({ drift: { model: 'power-law', nuMean: nu, nuStd: 0, t0S: t0 }, driftCompensation: true });
    const s = lower(graph, spec);
    const { layer, block } = blockOf(s);
    const { digits } = digitsOf(graph, spec);
    const ideal = idealLevels(block, digits, N);
    for (const t of [1, 3600, 86400, 3.15576e7]) {
      const cells = analogDevices(spec, { seed: 3, timeS: t }).cells(layer, block, digits);
      const f = ((t + t0) / t0) ** -nu;
      let worst = 0;
      for (let i = 0; i < ideal.length; i++) if (ideal[i] !== 0) worst = Math.max(worst, Math.abs(cells.levels[i] / (ideal[i] * f) - 1));
      assert.ok(worst < 1e-5, `t=${t}: worst relative deviation from the power law ${worst}`);
      assert.ok(Math.abs(cells.gain * f - 1) < 1e-5, `compensation gain ${cells.gain} vs ${1 / f}`);
    }
  });

  it('read noise is resampled at every MVM; the same seed reproduces the same runs', () => {
    const { graph, x } = denseGraph();
    const spec = withDevices({ readNoise: { model: 'gaussian', stdFractionOfRange: 0.02 } });
    const s = lower(graph, spec);
    const a = new Simulator(graph, s, analogDevices(spec, { seed: 9, timeS: 0 }));
    const keep = new Set(['fc']);
    const r1 = a.run(x, 64, { keep }).codes.get('fc')!;
    const r2 = a.run(x, 64, { keep }).codes.get('fc')!;
    let diff = 0;
    for (let i = 0; i < r1.length; i++) if (r1[i] !== r2[i]) diff++;
    assert.ok(diff > 0.05 * r1.length, `only ${diff} of ${r1.length} outputs changed between two reads`);
    const b = new Simulator(graph, s, analogDevices(spec, { seed: 9, timeS: 0 }));
    assert.deepEqual(b.run(x, 64, { keep }).codes.get('fc'), r1);
    assert.deepEqual(b.run(x, 64, { keep }).codes.get('fc'), r2);
  });

  it('read noise on the column sums: the accumulator variance equals Σ_t Σ_s (2^t·sig_s)²·Σ_k d²·var within 6%', () => {
    const { graph, x } = denseGraph();
    const sigma = 0.01;
    const spec = withDevices({ readNoise: { model: 'gaussian', stdFractionOfRange: sigma } });
    const s = lower(graph, spec);
    const { layer, block } = blockOf(s);
    const { L, digits, pin } = digitsOf(graph, spec);
    const dev = analogDevices(spec, { seed: 4, timeS: 0 });
    const cells = dev.cells(layer, block, digits);
    const qmin = -128;
    const u = Float32Array.from({ length: K }, (_, k) => Math.round(x[k] / pin.scale) + pin.zeroPoint - qmin);
    const job = { spec, mapping: layer, blocks: [block], codes: L.weights, codes16: Int16Array.from(L.weights), significance: digits.significance, zeroPoint: pin.zeroPoint, qmin, cells: () => cells, adc: digits.significance.map(() => prepareAdc({ bits: 24, signed: true, fullScale: (2 ** 23 - 1) * 1e-4 })), normals: dev.normals, lossless: false };
    // an ADC with a 1e-4 step: its rounding adds nothing measurable
    const R = 3000;
    const samples = Array.from({ length: R }, () => layerAccumulator(job, u, 1, () => 0));
    const S = digits.slices;
    for (const n of [0, 7, 23]) {
      const m = samples.reduce((a, v) => a + v[n], 0) / R;
      const v = samples.reduce((a, y) => a + (y[n] - m) ** 2, 0) / (R - 1);
      let expected = 0;
      for (let t = 0; t < layer.inputCycles; t++) {
        for (let sl = 0; sl < S; sl++) {
          let colVar = 0;
          for (let k = 0; k < K; k++) colVar += ((u[k] >> t) & 1) * cells.readVariance![(k * S + sl) * N + n];
          expected += (2 ** t * digits.significance[sl]) ** 2 * colVar;
        }
      }
      // the sample variance of R Gaussian draws has relative std sqrt(2/R) = 2.6%
      assert.ok(Math.abs(v / expected - 1) < 0.06, `column ${n}: variance ${v} vs ${expected}`);
    }
  });

  it('an analog spec without non-idealities equals exact mode bit for bit (digit by digit)', () => {
    const { graph, x } = denseGraph();
    const spec = { ...withDevices({}), adc: { ...TEST_SPEC.adc, bits: 7 } };
    const s = lower(graph, spec);
    const keep = new Set(['fc']);
    const exact = new Simulator(graph, s, EXACT_DEVICES).run(x, 64, { keep, digits: true }).codes.get('fc');
    const analog = new Simulator(graph, s, analogDevices(spec, { seed: 1, timeS: 0 })).run(x, 64, { keep }).codes.get('fc');
    assert.deepEqual(analog, exact);
  });
});
