// Training engine: gradients against finite differences, data-parallel workers against in-process,
// bit-exact resume from a checkpoint, and learning on real Fashion-MNIST.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { allOf, classificationSet, loadFashionMnist, splitTrainVal } from '../compiler/data/index.js';
import { type Graph, GraphBuilder } from '../compiler/ir/index.js';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../compiler/train/backend.js';
import { disposeParams, forward, paramsFromGraph } from '../compiler/train/executor.js';
import type { Dataset } from '../compiler/train/dataset.js';
import { evaluate } from '../compiler/train/evaluate.js';
import { packParams, paramLayout } from '../compiler/train/flat-params.js';
import { ReplicaPool } from '../compiler/train/pool.js';
import { Replica } from '../compiler/train/replica.js';
import { train, type TrainConfig } from '../compiler/train/trainer.js';
import { CancelledError } from '../compiler/util/progress.js';

function smallNet(seed: number, opts: { bn?: boolean; dropout?: boolean } = {}): Graph {
  const b = new GraphBuilder('small', seed);
  let h = b.input('x', [28, 28, 1]);
  h = b.conv2d(h, { filters: 6, kernel: 3, strides: 2, padding: 'same', useBias: !opts.bn });
  if (opts.bn) h = b.batchNorm(h);
  h = b.relu(h);
  h = b.depthwiseConv2d(h, { kernel: 3, padding: 'same' });
  h = b.maxPool(h, 2);
  h = b.conv2d(h, { filters: 12, kernel: 3, padding: 'same', dilations: 2 });
  h = b.depthwiseConv2d(h, { kernel: 3, padding: 'same', dilations: 2 });
  if (opts.bn) h = b.batchNorm(h);
  h = b.relu(h);
  h = b.globalAvgPool(h);
  if (opts.dropout) h = b.dropout(h, 0.2);
  return b.build([b.softmax(b.dense(h, 10))]);
}

let fm: Awaited<ReturnType<typeof loadFashionMnist>> | undefined;
async function fashion() {
  return (fm ??= await loadFashionMnist());
}
async function realBatch(n: number): Promise<{ x: Float32Array; y: Float32Array }> {
  const ds = classificationSet(allOf((await fashion()).train));
  const x = new Float32Array(n * 784);
  const y = new Float32Array(n);
  ds.fill(
    Array.from({ length: n }, (_, i) => i),
    x,
    y,
  );
  return { x, y };
}

test('backend: wasm with Tandem kernels when tfjs-node is absent', async () => {
  const info = await initBackend();
  assert.equal(info.name, 'wasm');
  assert.match(info.reason, /tfjs-node not usable/);
  assert.ok(info.registeredKernels.includes('Conv2DBackpropFilter'));
});

test('gradients match central finite differences (conv stride 2, dilated conv and depthwise, BN, pool, dense)', async () => {
  await initBackend();
  const g = smallNet(11, { bn: true });
  const layout = paramLayout(g);
  const p = packParams(g, layout);
  const r = new Replica(g, layout, 'crossEntropy');
  const { x, y } = await realBatch(16);
  const grad = new Float32Array(layout.size);
  r.step(p, x, y, 16, 0, grad);
  const scratch = new Float32Array(layout.size);
  // The 12 largest-magnitude trainable coordinates, where float32 differences are meaningful.
  const coords = Array.from(grad.keys())
    .sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a]))
    .slice(0, 12);
  const eps = 3e-3;
  for (const i of coords) {
    const q = p.slice();
    q[i] = p[i] + eps;
    const up = r.step(q, x, y, 16, 0, scratch).loss;
    q[i] = p[i] - eps;
    const down = r.step(q, x, y, 16, 0, scratch).loss;
    const fd = (up - down) / (2 * eps);
    const slot = layout.slots.find((s) => i >= s.offset && i < s.offset + s.length)!;
    assert.ok(Math.abs(fd - grad[i]) <= 0.03 * Math.abs(grad[i]) + 1e-4, `${slot.node}.${slot.name}[${i - slot.offset}]: analytic ${grad[i]} vs finite difference ${fd}`);
  }
});

test('two worker threads give the in-process gradient and whole-batch BN statistics', async () => {
  const { x, y } = await realBatch(64);
  const g = smallNet(12);
  const layout = paramLayout(g);
  const local = await ReplicaPool.create(g, layout, 1, { loss: 'crossEntropy', workers: 0 });
  const threads = await ReplicaPool.create(g, layout, 1, { loss: 'crossEntropy', workers: 2 });
  try {
    const a = await local.step(x, y, 64, 5);
    const b = await threads.step(x, y, 64, 5);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `loss ${a.loss} vs ${b.loss}`);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < a.grad.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a.grad[i] - b.grad[i]));
      maxAbs = Math.max(maxAbs, Math.abs(a.grad[i]));
    }
    assert.ok(maxDiff <= 1e-5 * Math.max(1, maxAbs), `max grad diff ${maxDiff} (max |g| ${maxAbs})`);
    assert.equal(a.correct, b.correct);
  } finally {
    await local.close();
    await threads.close();
  }
  // With BN, the first BN's statistics depend only on the input: combined shard stats must equal
  // the whole batch's (law of total variance).
  const gb = smallNet(13, { bn: true });
  const lb = paramLayout(gb);
  const l2 = await ReplicaPool.create(gb, lb, 1, { loss: 'crossEntropy', workers: 0 });
  const t2 = await ReplicaPool.create(gb, lb, 1, { loss: 'crossEntropy', workers: 2 });
  try {
    const a = await l2.step(x, y, 64, 5);
    const b = await t2.step(x, y, 64, 5);
    const c = gb.nodes.find((n) => n.op === 'batchNorm')!.weights.mean.data.length;
    for (let i = 0; i < 2 * c; i++) assert.ok(Math.abs(a.stats[i] - b.stats[i]) <= 1e-5 * Math.max(1, Math.abs(a.stats[i])), `stat ${i}: ${a.stats[i]} vs ${b.stats[i]}`);
  } finally {
    await l2.close();
    await t2.close();
  }
});

function subset(n: number, offset: number): Promise<Dataset> {
  return fashion().then((f) => {
    const all = allOf(f.train);
    return classificationSet({ data: f.train, indices: all.indices.subarray(offset, offset + n) });
  });
}

test('a run cancelled mid-epoch and resumed from its checkpoint ends bit-identical to an uninterrupted run', async () => {
  const data = await subset(384, 0);
  const g = smallNet(21, { bn: true, dropout: true });
  const cfg: TrainConfig = {
    epochs: 2,
    batchSize: 64,
    optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 1e-4 },
    schedule: { kind: 'cosine', lr: 0.05, warmupSteps: 2 },
    loss: 'crossEntropy',
    seed: 9,
  };
  const straight = await train(g, data, undefined, cfg, { workers: 0 });
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'tandem-ckpt-')), 'ck');
  const ac = new AbortController();
  await assert.rejects(
    train(g, data, undefined, cfg, { workers: 0, checkpointDir: dir, signal: ac.signal, onProgress: (e) => e.done === 8 && ac.abort() }),
    (e: Error) => e instanceof CancelledError && e.message === `training cancelled at epoch 2, step 2 (checkpoint in ${dir})`,
  );
  const resumed = await train(g, data, undefined, cfg, { workers: 0, checkpointDir: dir });
  assert.deepEqual(resumed.resumedFrom, { epoch: 1, stepInEpoch: 2 });
  const la = paramLayout(straight.graph);
  assert.deepEqual(packParams(resumed.graph, la), packParams(straight.graph, la));
  // A checkpoint is never resumed into another config.
  await assert.rejects(train(g, data, undefined, { ...cfg, seed: 10 }, { workers: 0, checkpointDir: dir }), (e: Error) => e.message.startsWith(`${dir}: checkpoint belongs to a different model, config or dataset`));
});

test('learns Fashion-MNIST: a LeNet-sized CNN reaches > 75% validation accuracy after one epoch of 4000 images', async () => {
  const f = await fashion();
  const { train: tr, val } = splitTrainVal(f.train, { seed: 1, valFraction: 1 / 12 });
  const trainSet = classificationSet({ data: f.train, indices: tr.indices.subarray(0, 4000) });
  const valSet = classificationSet({ data: f.train, indices: val.indices.subarray(0, 1000) });
  const b = new GraphBuilder('lenet', 31);
  let h = b.input('x', [28, 28, 1]);
  h = b.maxPool(b.relu(b.batchNorm(b.conv2d(h, { filters: 16, kernel: 3, padding: 'same', useBias: false }))), 2);
  h = b.maxPool(b.relu(b.batchNorm(b.conv2d(h, { filters: 32, kernel: 3, padding: 'same', useBias: false }))), 2);
  const lenet = b.build([b.softmax(b.dense(b.flatten(h), 10))]);
  const res = await train(
    lenet,
    trainSet,
    valSet,
    { epochs: 1, batchSize: 64, optimizer: { kind: 'adam' }, schedule: { kind: 'constant', lr: 3e-3 }, loss: 'crossEntropy', seed: 3 },
    { workers: 2 },
  );
  const acc = res.history[0].valAccuracy!;
  assert.ok(acc > 0.75, `validation accuracy ${acc}`);
  // evaluate() on the trained graph agrees with the trainer's own validation pass.
  const q = await evaluate(res.graph, valSet, 'classification', { workers: 0 });
  assert.equal(q.task, 'classification');
  assert.ok(Math.abs((q as { accuracy: number }).accuracy - acc) < 1e-9);
});

test('dilated convs: the training path (explicitly dilated kernels) equals the inference path', async () => {
  await initBackend();
  const b = new GraphBuilder('dilated', 41);
  let h = b.input('x', [15, 15, 3]);
  h = b.conv2d(h, { filters: 4, kernel: 3, strides: 2, dilations: 2, padding: 'same' });
  h = b.depthwiseConv2d(h, { kernel: [3, 2], dilations: [2, 3], padding: [1, 2, 0, 1], depthMultiplier: 2 });
  const g = b.build([b.conv2d(h, { filters: 2, kernel: 2, dilations: [1, 2], groups: 2 })]);
  const x = Float32Array.from({ length: 2 * 15 * 15 * 3 }, (_, i) => Math.sin(i * 0.37));
  const params = paramsFromGraph(g);
  const [infer, trainMode] = [false, true].map((training) =>
    tf.tidy(() => forward(g, params, [tf.tensor(x, [2, 15, 15, 3])], { training })[0].dataSync() as Float32Array),
  );
  disposeParams(params);
  assert.equal(infer.length, trainMode.length);
  let d = 0;
  for (let i = 0; i < infer.length; i++) d = Math.max(d, Math.abs(infer[i] - trainMode[i]));
  assert.ok(d <= 1e-5, `max |diff| ${d}`);
});
