// QAT activation ranges as an exponential moving average of the training batches (qat-ranges.ts), with
// a known answer: at learning rate 0 on one fixed batch the first layer's batch range never changes, so
// after k steps its range is m^k·r0 + (1 - m^k)·r_batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { allOf, classificationSet, loadFashionMnist } from '../compiler/data/index.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { verify } from '../compiler/ir/graph.js';
import { type Graph, type Node, QAT_RANGE_WEIGHT } from '../compiler/ir/types.js';
import { fakeQuantForward } from '../compiler/passes/quantize/fake-quant.js';
import { fromRangeState, RANGE_MOMENTUM, withRangeState } from '../compiler/passes/quantize/qat-ranges.js';
import { quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { paramsFromRange, valueParams } from '../compiler/passes/quantize/scheme.js';
import { initBackend } from '../compiler/train/backend.js';
import { paramsFromGraph } from '../compiler/train/executor.js';
import { type TrainConfig, train } from '../compiler/train/trainer.js';

function smallNet(): Graph {
  const b = new GraphBuilder('qat-ranges', 4);
  let h = b.input('image', [28, 28, 1]);
  h = b.relu(b.conv2d(h, { id: 'c1', filters: 8, kernel: 3, strides: 2, padding: 'same' }), { id: 'r1' });
  h = b.dense(b.flatten(h, { id: 'f' }), 10, { id: 'fc' });
  return b.build([b.softmax(h, { id: 'sm' })]);
}

const rangeOf = (g: Graph, id: string) => Array.from(g.nodes.find((n) => n.id === id)!.weights[QAT_RANGE_WEIGHT].data);

function setRange(g: Graph, id: string, r: readonly number[]): Graph {
  return { ...g, nodes: g.nodes.map((n): Node => (n.id === id ? ({ ...n, weights: { ...n.weights, [QAT_RANGE_WEIGHT]: { dtype: 'float32', shape: [r.length], data: Float32Array.from(r) } } } as Node) : n)) };
}

test('QAT ranges: an EMA of the batch min/max (first layer exact: m^k·r0 + (1 - m^k)·r_batch), the same with 0 and 2 workers; weights untouched at lr 0', async () => {
  await initBackend();
  const fm = await loadFashionMnist();
  const n = 32;
  const data = classificationSet({ data: fm.train, indices: allOf(fm.train).indices.subarray(0, n) });
  const x = new Float32Array(n * 784);
  data.fill(Array.from({ length: n }, (_, i) => i), x, new Float32Array(n));
  const q = quantizeGraph(smallNet(), { x, n }).graph;
  const state = withRangeState(q, 'asymmetric');
  // the state reproduces the calibrated (scale, zero point) exactly
  const back = valueParams(fromRangeState(state));
  for (const [v, p] of valueParams(q)) {
    assert.equal(back.get(v)!.zeroPoint, p.zeroPoint, v);
    assert.ok(Math.abs(back.get(v)!.scale / p.scale - 1) < 1e-6, `${v}: ${back.get(v)!.scale} vs ${p.scale}`);
  }
  // start c1 far off: three times its calibrated top
  const r0 = rangeOf(state, 'c1');
  const g = setRange(state, 'c1', [r0[0], 3 * r0[1], 0]);
  const batch = new Map<string, [number, number]>();
  tf.tidy(() => fakeQuantForward(g, paramsFromGraph(g), tf.tensor(x, [n, 28, 28, 1]), { training: true, onActivationRange: (id, lo, hi) => batch.set(id, [lo, hi]) }, true));
  const rb = batch.get('c1')!;
  assert.equal(rb[0], 0, 'observed after the fused relu');
  assert.ok(rb[1] > 0.2 * r0[1] && rb[1] < 1.5 * r0[1], `batch top ${rb[1]} vs calibrated ${r0[1]}`);
  const k = 5;
  const cfg: TrainConfig = { epochs: k, batchSize: n, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0 }, loss: 'crossEntropy', seed: 1 };
  // the trainer's float32 EMA, step by step
  const want = Float32Array.of(r0[0], 3 * r0[1]);
  for (let i = 0; i < k; i++) for (const j of [0, 1]) want[j] = RANGE_MOMENTUM * want[j] + (1 - RANGE_MOMENTUM) * rb[j];
  for (const workers of [0, 2]) {
    const res = await train(g, data, undefined, cfg, { workers });
    const r = rangeOf(res.graph, 'c1');
    assert.ok(Math.abs(r[1] - want[1]) <= 1e-6 * want[1] && r[0] === want[0], `workers ${workers}: c1 range ${r} vs ${Array.from(want)}`);
    assert.equal(r[2], 0, 'the scheme flag is not averaged');
    assert.deepEqual(res.graph.nodes.find((nd) => nd.id === 'c1')!.weights.kernel.data, g.nodes.find((nd) => nd.id === 'c1')!.weights.kernel.data);
    // fc sees c1's changing grid, so only its direction is checked: it moved off its start
    assert.notDeepEqual(rangeOf(res.graph, 'fc').slice(0, 2), rangeOf(g, 'fc').slice(0, 2));
    // the end of QAT: (scale, zero point) from the final ranges, no range weights left
    const done = fromRangeState(res.graph);
    const p = paramsFromRange(r[0], r[1], 8, 'asymmetric');
    const c1 = done.nodes.find((nd) => nd.id === 'c1')!;
    assert.deepEqual([c1.quant!.outputScale, c1.quant!.outputZeroPoint, Object.keys(c1.weights).sort()], [p.scale, p.zeroPoint, ['bias', 'kernel']]);
  }
});

test('the verifier takes an actRange weight only on a quantized node, and only of shape [3]', () => {
  const float = smallNet();
  assert.throws(() => verify(setRange(float, 'c1', [0, 1, 0])), { message: "node 'c1': unexpected weight 'actRange' for conv2d" });
  const quantized: Graph = { ...float, nodes: float.nodes.map((n): Node => (n.id === 'c1' ? ({ ...n, quant: { activationBits: 8, outputScale: 0.1, outputZeroPoint: -128 } } as Node) : n)) };
  verify(setRange(quantized, 'c1', [0, 1, 0]));
  assert.throws(() => verify(setRange(quantized, 'c1', [0, 1])), { message: "node 'c1': unexpected weight 'actRange' for conv2d" });
});
