// int8 quantization: BN folding, PTQ calibration, and the integer-only executor against the
// fake-quantized float model on real Fashion-MNIST images.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { verify } from '../compiler/ir/graph.js';
import type { Graph, Node } from '../compiler/ir/types.js';
import { resolveModel } from '../compiler/models/registry.js';
import { foldBatchNorms } from '../compiler/passes/fold-bn.js';
import { checkInt8 } from '../compiler/passes/quantize/check-int8.js';
import { codesOf, fakeQuant, fakeQuantForward } from '../compiler/passes/quantize/fake-quant.js';
import { runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { snapWeights } from '../compiler/passes/quantize/snap-weights.js';
import { disposeParams, paramsFromGraph, runGraph } from '../compiler/train/executor.js';
import { maxAbsDiff } from './io-graphs.js';
import { fashionImages as images } from './helpers.js';


describe('BN folding', () => {
  for (const name of ['fmnist-vgg', 'fmnist-resnet'] as const) {
    it(`${name}: every batchNorm folds into its conv/dense and outputs stay equal (<= 1e-5)`, async () => {
      const { graph } = await resolveModel(name);
      const folded = foldBatchNorms(graph);
      verify(folded);
      assert.equal(folded.nodes.filter((n) => n.op === 'batchNorm').length, 0);
      const { x } = await images('test', 32);
      const d = maxAbsDiff((await runGraph(graph, x, 32))[0], (await runGraph(folded, x, 32))[0]);
      assert.ok(d <= 1e-5, `max |diff| ${d}`);
    });
  }
});

describe('fake quantization', () => {
  it('snaps to the grid and leaves one tensor behind (no activation-sized temporaries until the pass ends)', () => {
    const p = { bits: 8, scale: 0.5, zeroPoint: 3 };
    tf.tidy(() => {
      const x = tf.tensor1d([0.2, 0.26, -1.74, 100, -100, 1.25]);
      for (const ste of [false, true]) {
        const before = tf.memory().numTensors;
        const y = fakeQuant(x, p, ste);
        assert.equal(tf.memory().numTensors, before + 1);
        // codes round(x / 0.5) + 3 (half away from zero), clamped to [-128, 127]: 3, 4, 0, 127, -128, 6
        assert.deepEqual(Array.from(y.dataSync()), [0, 0.5, -1.5, 62, -65.5, 1.5]);
      }
    });
  });
});

describe('integer-only executor', () => {
  it('a hand-computed dense layer: codes, bias, requantization and clamping', () => {
    const b = new GraphBuilder('known', 1);
    const x = b.input('x', [2]);
    b.dense(x, 2, { id: 'd' });
    const g0 = b.build(['d']);
    const node = g0.nodes[0];
    // real = 0.5·q (z = 0) in; weights [[1, -2], [0.5, 1]] at per-channel scales 0.5 and 1/64; bias [0.25, -1]
    const g: Graph = {
      ...g0,
      inputs: [{ ...g0.inputs[0], quant: { bits: 8, scale: 0.5, zeroPoint: 0 } }],
      nodes: [
        {
          ...node,
          weights: {
            kernel: { dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, -2, 0.5, 1]) },
            bias: { dtype: 'float32', shape: [2], data: Float32Array.from([0.25, -1]) },
          },
          quant: { weightBits: 8, activationBits: 8, weightScales: Float32Array.from([0.5, 1 / 64]), outputScale: 0.25, outputZeroPoint: 10 },
        } as Node,
      ],
    };
    // x = [3, -1.5] -> q_x = [6, -3]; q_w = [[2, -128 -> -127], [1, 64]]; q_b = [0.25/0.25, -1/(0.5/64)] = [1, -128]
    // acc = [6·2 + (-3)·1 + 1, 6·(-127) + (-3)·64 - 128] = [10, -1082]
    // y = 10 + round(acc · s_x·s_w / s_y) = [10 + round(10·0.25/0.25), 10 + round(-1082·(0.5/64)/0.25)] = [20, 10 - 34] = [20, -24]
    const r = runInt8(g, Float32Array.from([3, -1.5]), 1, { keep: new Set(['d']) });
    assert.deepEqual([...r.codes.get('d')!], [20, -24]);
    assert.deepEqual([...r.outputs[0]], [2.5, -8.5]);
  });

  it('fmnist-vgg PTQ: the fake-quant model gives the executor\'s codes bit for bit (every value, end to end and op by op); loops = GEMM', async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const calib = await images('train', 64);
    const { graph: q, rows } = quantizeGraph(graph, { x: calib.x, n: 64 }, DEFAULT_QUANTIZE);
    assert.ok(rows.filter((r) => r.op !== 'input').every((r) => r.sqnrDb > 25), rows.map((r) => `${r.value} ${r.sqnrDb.toFixed(1)}`).join(', '));
    const test = await images('test', 48);
    const c = checkInt8(q, test.x, 48, { batch: 48 });
    assert.deepEqual(c.inexact, []);
    assert.equal(c.argmaxMismatches, 0);
    assert.ok(c.endToEnd.total > 48 * 28 * 28 * 32, `${c.endToEnd.total} codes compared`);
    assert.equal(c.endToEnd.differing, 0, `${c.endToEnd.differing} codes differ end to end (max ${c.endToEnd.maxLsb} LSB)`);
    assert.equal(c.layerwise.differing, 0, `${c.layerwise.differing} codes differ op by op (max ${c.layerwise.maxLsb} LSB at ${c.worstLayer})`);
    const correct = c.predictions.filter((p, i) => p === test.y[i]).length;
    assert.ok(correct >= 43, `${correct}/48 correct`);
    const keep = new Set(['conv1', 'conv3', 'fc1']);
    const a = runInt8(q, test.x, 4, { keep });
    const b = runInt8(q, test.x, 4, { keep, loops: true });
    for (const k of keep) assert.deepEqual(a.codes.get(k), b.codes.get(k), k);
  });

  it('fmnist-resnet PTQ: bit for bit through residual adds, projections and global average pooling', async () => {
    const { graph } = await resolveModel('fmnist-resnet');
    const calib = await images('train', 32);
    const { graph: q } = quantizeGraph(graph, { x: calib.x, n: 32 }, DEFAULT_QUANTIZE);
    assert.ok(q.nodes.filter((n) => n.op === 'add').length >= 3);
    const test = await images('test', 16);
    const c = checkInt8(q, test.x, 16, { batch: 16 });
    assert.deepEqual(c.inexact, []);
    assert.equal(c.argmaxMismatches, 0);
    assert.equal(c.endToEnd.differing, 0, `${c.endToEnd.differing} of ${c.endToEnd.total} codes differ (max ${c.endToEnd.maxLsb} LSB)`);
    assert.equal(c.layerwise.differing, 0, `max ${c.layerwise.maxLsb} LSB at ${c.worstLayer}`);
  });

  it('weights other than the graph\'s (QAT\'s current ones) are snapped as snapWeights snaps them', async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const calib = await images('train', 16);
    const { graph: q } = quantizeGraph(graph, { x: calib.x, n: 16 }, DEFAULT_QUANTIZE);
    // QAT moved the weights off their grids
    const moved: Graph = { ...q, nodes: q.nodes.map((n) => (n.weights.kernel ? ({ ...n, weights: { ...n.weights, kernel: { ...n.weights.kernel, data: (n.weights.kernel.data as Float32Array).map((v, i) => v * (1 + 0.01 * Math.sin(i))) } } } as Node) : n)) };
    const test = await images('test', 8);
    const weights = paramsFromGraph(moved);
    const out = tf.tidy(() => fakeQuantForward(q, weights, tf.tensor(test.x, [8, 28, 28, 1]), { outputs: ['fc2'] })[0].dataSync());
    disposeParams(weights);
    const fc2 = (g: Graph) => runInt8(g, test.x, 8, { keep: new Set(['fc2']) }).codes.get('fc2')!;
    const p = valueParams(q).get('fc2')!;
    assert.notDeepEqual(fc2(snapWeights(moved)), fc2(q)); // the moved weights do change the codes
    assert.deepEqual(codesOf(out as Float32Array, p), fc2(snapWeights(moved)));
  });

  it('bad requests: bits outside 2..16, an empty calibration set, an op with no integer definition', async () => {
    const { graph } = await resolveModel('fmnist-vgg', { allowUntrained: true });
    const calib = { x: new Float32Array(784), n: 1 };
    assert.throws(() => quantizeGraph(graph, calib, { ...DEFAULT_QUANTIZE, weightBits: 1 }), { message: 'weight bits 1: expected an integer in 2..16' });
    assert.throws(() => quantizeGraph(graph, calib, { ...DEFAULT_QUANTIZE, activationBits: 17 }), { message: 'activation bits 17: expected an integer in 2..16' });
    assert.throws(() => quantizeGraph(graph, { x: new Float32Array(0), n: 0 }, DEFAULT_QUANTIZE), { message: 'calibration set has 0 images: at least 1 is needed' });
    const b = new GraphBuilder('sig', 1);
    const x = b.input('x', [4]);
    const g = b.build([b.sigmoid(b.dense(x, 3, { id: 'd' }), { id: 'act' })]);
    assert.throws(() => quantizeGraph(g, { x: new Float32Array(4), n: 1 }, DEFAULT_QUANTIZE), { message: "node 'act': cannot quantize: sigmoid has no integer-only definition" });
    assert.throws(() => runInt8(graph, new Float32Array(784), 1), { message: "graph input 'image' has no quantization parameters: run the quantize pass first" });
  });
});
