// CIM-aware QAT (sim/qat-model.ts): the training forward against the simulator's exact digit-by-digit
// mode, straight-through gradients, seeded noise.
import assert from 'node:assert/strict';
import { before, describe, it, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { allOf, classificationSet, loadFashionMnist } from '../compiler/data/index.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import type { Graph } from '../compiler/ir/types.js';
import { OpKind } from '../compiler/ir/types.js';
import { lower } from '../compiler/lower/lower.js';
import type { Schedule } from '../compiler/lower/schedule.js';
import { codesOf, fakeQuantForward } from '../compiler/passes/quantize/fake-quant.js';
import { withRangeState } from '../compiler/passes/quantize/qat-ranges.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { acceleratorModel, type AcceleratorSpec, withAccelerator } from '../compiler/train/accelerator.js';
import { initBackend } from '../compiler/train/backend.js';
import { disposeParams, paramsFromGraph } from '../compiler/train/executor.js';
import { type TrainConfig, train } from '../compiler/train/trainer.js';
import { calibrateAdc } from '../sim/calibrate.js';
import { ANALOG_NOISE, cimAccelerator, type CimNoise, EXACT_NOISE } from '../sim/qat-model.js';
import { Simulator } from '../sim/simulate.js';
import { PRESETS } from '../sim/spec/presets.js';
import { fashionImages } from './helpers.js';
import { quantizedVgg } from './sim-helpers.js';

const N_IMAGES = 4;

describe('CIM-aware QAT forward (fmnist-vgg on rram-128)', () => {
  let graph: Graph;
  let schedule: Schedule;
  /** The same with centred ADC ranges (adc.center 'calibrated'). */
  let centred: Schedule;
  let x: Float32Array;
  let layers: string[];
  before(async () => {
    await initBackend();
    graph = await quantizedVgg();
    const spec = PRESETS['rram-128'];
    const calib = await fashionImages('train', 32);
    schedule = lower(graph, spec, { calibratedFullScale: calibrateAdc(graph, spec, calib.x, 32, spec.adc.calibrationPercentile!).fullScale });
    const cspec = { ...spec, adc: { ...spec.adc, calibrationPercentile: 99.9, center: 'calibrated' as const } };
    const cal = calibrateAdc(graph, cspec, calib.x, 32, 99.9);
    centred = lower(graph, cspec, { calibratedFullScale: cal.fullScale, calibratedCenter: cal.center });
    x = (await fashionImages('test', N_IMAGES)).x;
    layers = graph.nodes.filter((n) => n.op === OpKind.Conv2d || n.op === OpKind.Dense).map((n) => n.id);
  });

  /** Per-layer output codes of the training forward (fake-quant with STE snapping, the CIM model in the loop). */
  function trainingCodes(noise: CimNoise, seed = 0, sched = schedule): Map<string, Int32Array> {
    const model = acceleratorModel(cimAccelerator(sched, noise, 7) as AcceleratorSpec);
    const values = valueParams(graph);
    const params = paramsFromGraph(graph);
    const out = tf.tidy(() => fakeQuantForward(graph, params, tf.tensor4d(x, [N_IMAGES, 28, 28, 1]), withAccelerator(model, { outputs: layers, seed }, values), true).map((t) => t.dataSync() as Float32Array));
    disposeParams(params);
    return new Map(layers.map((id, i) => [id, codesOf(out[i], values.get(id)!)]));
  }

  for (const which of ['zero-centred', 'centred'] as const) {
    it(`noise off: every code of every crossbar layer equals the simulator exact mode (digit by digit), ${which} ADC ranges`, () => {
      const sched = which === 'centred' ? centred : schedule;
      if (which === 'centred') assert.ok(sched.layers.some((l) => l.adc?.center?.some((c) => c !== 0)));
      const sim = new Simulator(graph, sched).run(x, N_IMAGES, { digits: true, keep: new Set(layers) });
      const mine = trainingCodes(EXACT_NOISE, 0, sched);
      for (const id of layers) {
        const a = sim.codes.get(id)!;
        const b = mine.get(id)!;
        assert.equal(b.length, a.length, id);
        let differ = 0;
        let max = 0;
        for (let i = 0; i < a.length; i++) {
          const d = Math.abs(a[i] - b[i]);
          if (d) differ++;
          max = Math.max(max, d);
        }
        assert.equal(differ, 0, `${id}: ${differ} of ${a.length} codes differ (max ${max} LSB)`);
      }
    });
  }

  it('training: the value is the simulated layer, the gradient the ideal layer\'s (straight-through)', () => {
    const node = graph.nodes.find((n) => n.id === 'conv3')!;
    const model = acceleratorModel(cimAccelerator(schedule, EXACT_NOISE, 7) as AcceleratorSpec);
    const values = valueParams(graph);
    const pin = values.get(node.inputs[0])!;
    const params = paramsFromGraph(graph);
    const w = params.get(node.id)!;
    tf.tidy(() => {
      // an input on its grid: codes 0..40 above the zero point
      const x = tf.mul(tf.floor(tf.randomUniform([2, 14, 14, 32], 0, 41, 'float32', 3)), pin.scale);
      const r = tf.randomNormal([2, 14, 14, 64], 0, 1, 'float32', 4);
      const ideal = (ins: readonly tf.Tensor[], ws: Record<string, tf.Tensor>) => tf.add(tf.conv2d(ins[0] as tf.Tensor4D, ws.kernel as tf.Tensor4D, 1, 'same'), ws.bias);
      const through = (xx: tf.Tensor, k: tf.Tensor) => tf.sum(tf.mul(model.layer(node, [xx], { ...w, kernel: k }, ideal, { seed: 0, training: true, input: pin })!, r));
      const direct = (xx: tf.Tensor, k: tf.Tensor) => tf.sum(tf.mul(ideal([xx], { ...w, kernel: k }), r));
      const [gx, gk] = tf.grads(through)([x, w.kernel]);
      const [ix, ik] = tf.grads(direct)([x, w.kernel]);
      assert.deepEqual(gx.dataSync(), ix.dataSync());
      assert.deepEqual(gk.dataSync(), ik.dataSync());
      const value = model.layer(node, [x], w, ideal, { seed: 0, training: true, input: pin })!;
      const simulated = model.layer(node, [x], w, ideal, { seed: 0, training: false, input: pin })!;
      assert.deepEqual(value.dataSync(), simulated.dataSync());
      // the ADC makes it differ from the ideal layer
      assert.ok(tf.max(tf.abs(tf.sub(value, ideal([x], w)))).dataSync()[0] > 0);
    });
    disposeParams(params);
  });

  it('noise on: reproducible by seed, different between steps', () => {
    const a = trainingCodes(ANALOG_NOISE, 1).get('conv6')!;
    const b = trainingCodes(ANALOG_NOISE, 1).get('conv6')!;
    const c = trainingCodes(ANALOG_NOISE, 2).get('conv6')!;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // and the noise changes the codes (stuck cells, programming and read noise on rram-128)
    assert.notDeepEqual(a, trainingCodes(EXACT_NOISE).get('conv6')!);
  });
});

test('CIM-aware QAT lowers the training loss of a small quantized CNN on rram-128 (5-bit ADCs in the loop)', async () => {
  await initBackend();
  const b = new GraphBuilder('cim-qat', 5);
  let h = b.input('image', [28, 28, 1]);
  h = b.relu(b.conv2d(h, { id: 'c1', filters: 16, kernel: 3, strides: 2, padding: 'same' }), { id: 'r1' });
  h = b.relu(b.conv2d(h, { id: 'c2', filters: 16, kernel: 3, strides: 2, padding: 'same' }), { id: 'r2' });
  const float = b.build([b.softmax(b.dense(b.flatten(h, { id: 'f' }), 10, { id: 'fc' }), { id: 'sm' })]);
  const train_ = await fashionImages('train', 256);
  const q = quantizeGraph(float, { x: train_.x, n: 64 }, DEFAULT_QUANTIZE).graph;
  const spec = PRESETS['rram-128'];
  const schedule = lower(q, spec, { calibratedFullScale: calibrateAdc(q, spec, train_.x, 64, 100).fullScale });
  const fm = await loadFashionMnist();
  const data = classificationSet({ data: fm.train, indices: allOf(fm.train).indices.subarray(0, 256) });
  const cfg: TrainConfig = { epochs: 3, batchSize: 64, optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.05 }, loss: 'crossEntropy', seed: 2 };
  const r = await train(withRangeState(q, 'asymmetric'), data, undefined, cfg, { workers: 0, accelerator: cimAccelerator(schedule, EXACT_NOISE, 3) });
  const [first, , last] = r.history.map((e) => e.trainLoss);
  assert.ok(last < 0.8 * first, `loss ${first} -> ${last}`);
});
