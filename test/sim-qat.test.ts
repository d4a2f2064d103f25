// CIM-aware QAT (sim/qat-model.ts): the training forward against the simulator's exact digit-by-digit
// mode, straight-through gradients, seeded noise.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../compiler/ir/types.js';
import { OpKind } from '../compiler/ir/types.js';
import { lower } from '../compiler/lower/lower.js';
import type { Schedule } from '../compiler/lower/schedule.js';
import { codesOf, fakeQuantForward } from '../compiler/passes/quantize/fake-quant.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { acceleratorModel, type AcceleratorSpec, withAccelerator } from '../compiler/train/accelerator.js';
import { initBackend } from '../compiler/train/backend.js';
import { disposeParams, paramsFromGraph } from '../compiler/train/executor.js';
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
  let x: Float32Array;
  let layers: string[];
  before(async () => {
    await initBackend();
    graph = await quantizedVgg();
    const spec = PRESETS['rram-128'];
    const calib = await fashionImages('train', 32);
    schedule = lower(graph, spec, { calibratedFullScale: calibrateAdc(graph, spec, calib.x, 32, spec.adc.calibrationPercentile!) });
    x = (await fashionImages('test', N_IMAGES)).x;
    layers = graph.nodes.filter((n) => n.op === OpKind.Conv2d || n.op === OpKind.Dense).map((n) => n.id);
  });

  /** Per-layer output codes of the training forward (fake-quant with STE snapping, the CIM model in the loop). */
  function trainingCodes(noise: CimNoise, seed = 0): Map<string, Int32Array> {
    const model = acceleratorModel(cimAccelerator(schedule, noise, 7) as AcceleratorSpec);
    const values = valueParams(graph);
    const params = paramsFromGraph(graph);
    const out = tf.tidy(() => fakeQuantForward(graph, params, tf.tensor4d(x, [N_IMAGES, 28, 28, 1]), withAccelerator(model, { outputs: layers, seed }, values), true).map((t) => t.dataSync() as Float32Array));
    disposeParams(params);
    return new Map(layers.map((id, i) => [id, codesOf(out[i], values.get(id)!)]));
  }

  it('noise off: every code of every crossbar layer equals the simulator exact mode (digit by digit)', () => {
    const sim = new Simulator(graph, schedule).run(x, N_IMAGES, { digits: true, keep: new Set(layers) });
    const mine = trainingCodes(EXACT_NOISE);
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

  it('noise on: reproducible by seed, different between steps', () => {
    const a = trainingCodes(ANALOG_NOISE, 1).get('conv6')!;
    const b = trainingCodes(ANALOG_NOISE, 1).get('conv6')!;
    const c = trainingCodes(ANALOG_NOISE, 2).get('conv6')!;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});
