// Graph IR: hand-counted params/MACs of the reference models, verifier errors, printer, serialization.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  deserializeGraph,
  type Graph,
  GraphBuilder,
  graphStats,
  loadGraph,
  type Node,
  OpKind,
  printGraph,
  samePads,
  saveGraph,
  serializeGraph,
  verify,
} from '../compiler/ir/index.js';
import { fmnistDncnn, fmnistResnet, fmnistVgg } from '../compiler/models/reference.js';

test('fmnist-vgg params and MACs equal a hand count', () => {
  const s = graphStats(fmnistVgg());
  // conv k*k*cin*cout (no bias, BN follows), BN 4*c, dense in*out (+bias on the last).
  const convs = [
    [1, 32, 28],
    [32, 32, 28],
    [32, 64, 14],
    [64, 64, 14],
    [64, 128, 7],
    [128, 128, 7],
  ];
  const convParams = convs.reduce((a, [i, o]) => a + 9 * i * o, 0);
  const bnParams = 4 * (32 + 32 + 64 + 64 + 128 + 128 + 128);
  const denseParams = 1152 * 128 + (128 * 10 + 10);
  assert.equal(s.totalParams, convParams + bnParams + denseParams);
  assert.equal(s.totalParams, 437_034);
  const convMacs = convs.reduce((a, [i, o, hw]) => a + hw * hw * 9 * i * o, 0);
  assert.equal(s.totalMacs, convMacs + 1152 * 128 + 128 * 10);
  assert.equal(s.totalMacs, 29_275_904);
});

test('fmnist-dncnn params and MACs equal a hand count', () => {
  const s = graphStats(fmnistDncnn());
  const params = 9 * 1 * 32 + 32 + 6 * (9 * 32 * 32 + 4 * 32) + 9 * 32 * 1 + 1;
  assert.equal(s.totalParams, params);
  assert.equal(s.totalMacs, 28 * 28 * 9 * (32 + 6 * 32 * 32 + 32));
});

test('fmnist-resnet params and MACs equal a hand count', () => {
  const s = graphStats(fmnistResnet());
  const conv = (k: number, i: number, o: number) => k * k * i * o;
  const bn = (c: number) => 4 * c;
  const params =
    conv(3, 1, 16) + bn(16) +
    (conv(3, 16, 16) + bn(16) + conv(3, 16, 16) + bn(16)) +
    (conv(3, 16, 32) + bn(32) + conv(3, 32, 32) + bn(32) + conv(1, 16, 32) + bn(32)) +
    (conv(3, 32, 64) + bn(64) + conv(3, 64, 64) + bn(64) + conv(1, 32, 64) + bn(64)) +
    (64 * 10 + 10);
  assert.equal(s.totalParams, params);
  const macs =
    28 * 28 * conv(3, 1, 16) +
    28 * 28 * 2 * conv(3, 16, 16) +
    14 * 14 * (conv(3, 16, 32) + conv(3, 32, 32) + conv(1, 16, 32)) +
    7 * 7 * (conv(3, 32, 64) + conv(3, 64, 64) + conv(1, 32, 64)) +
    64 * 10;
  assert.equal(s.totalMacs, macs);
});

test('samePads matches TensorFlow for odd/even sizes, stride 2 and dilation', () => {
  assert.deepEqual(samePads([28, 28, 1], [3, 3], [1, 1]), [1, 1, 1, 1]);
  // 28 / 2 = 14 outputs need 27 + 3 - 28 = 1 extra row: TF puts it at the end.
  assert.deepEqual(samePads([28, 28, 1], [3, 3], [2, 2]), [0, 0, 1, 1]);
  assert.deepEqual(samePads([7, 8, 1], [2, 2], [2, 2]), [0, 0, 1, 0]);
  assert.deepEqual(samePads([10, 10, 1], [3, 3], [1, 1], [2, 2]), [2, 2, 2, 2]);
});

function tiny(): Graph {
  const b = new GraphBuilder('tiny', 7);
  const x = b.input('x', [4, 4, 2]);
  const c = b.conv2d(x, { id: 'c', filters: 3, kernel: 3, padding: 'same' });
  const r = b.relu(c, { id: 'r' });
  const f = b.flatten(r, { id: 'f' });
  return b.build([b.dense(f, 2, { id: 'd' })]);
}

test('printGraph gives the canonical text', () => {
  assert.equal(
    printGraph(tiny()),
    [
      'graph "tiny" {',
      '  input %x: f32[4,4,2]',
      '  %c = conv2d(%x) {dilations=[1,1] filters=3 groups=1 kernel=[3,3] pads=[1,1,1,1] strides=[1,1] useBias=true} weights{bias: f32[3], kernel: f32[3,3,2,3]} -> f32[4,4,3]',
      '  %r = relu(%c) -> f32[4,4,3]',
      '  %f = flatten(%r) -> f32[48]',
      '  %d = dense(%f) {units=2 useBias=true} weights{bias: f32[2], kernel: f32[48,2]} -> f32[2]',
      '  return %d',
      '}',
      '',
    ].join('\n'),
  );
});

const withNode = (g: Graph, i: number, patch: (n: Node) => Node): Graph => ({ ...g, nodes: g.nodes.map((n, k) => (k === i ? patch(n) : n)) });

test('verifier names dangling values, cycles, shape and weight mismatches', () => {
  const g = tiny();
  assert.throws(() => verify(withNode(g, 1, (n) => ({ ...n, inputs: ['nope'] }) as Node)), { message: "node 'r': dangling input 'nope': no graph input or node produces it" });
  assert.throws(() => verify({ ...g, outputs: ['zz'] }), { message: "dangling graph output 'zz'" });
  assert.throws(() => verify(withNode(g, 0, (n) => ({ ...n, inputs: ['r'] }) as Node)), { message: "node 'c': cycle: c -> r -> c" });
  const bad = withNode(g, 0, (n) => ({ ...n, weights: { ...n.weights, kernel: { dtype: 'float32', shape: [3, 3, 1, 3], data: new Float32Array(27) } } }) as Node);
  assert.throws(() => verify(bad), { message: "node 'c': weight 'kernel' has shape [3, 3, 1, 3], attrs and input imply [3, 3, 2, 3]" });
  const short = withNode(g, 3, (n) => ({ ...n, weights: { ...n.weights, bias: { dtype: 'float32', shape: [2], data: new Float32Array(1) } } }) as Node);
  assert.throws(() => verify(short), { message: "node 'd': weight 'bias' holds 1 elements, shape [2] needs 2" });
  const b = new GraphBuilder('mismatch');
  const x = b.input('x', [4, 4, 2]);
  const p = b.maxPool(x, 2, { id: 'p' });
  assert.throws(() => b.addValues([x, p], { id: 'sum' }), { message: "node 'sum': add inputs differ in shape: [4, 4, 2] vs [2, 2, 2]" });
  assert.throws(() => verify(withNode(g, 3, (n) => ({ ...n, inputs: ['r'] }) as Node)), { message: "node 'd': dense expects a flat input, got [4, 4, 3] (insert a flatten)" });
});

test('serialization round-trips exactly, including odd float bit patterns and quant fields', async () => {
  const g = tiny();
  const k = g.nodes[0].weights.kernel.data as Float32Array;
  k[0] = -0;
  k[1] = NaN;
  k[2] = 1.4e-45; // smallest subnormal
  k[3] = 3.4028234663852886e38;
  const q: Graph = withNode(g, 3, (n) => ({ ...n, quant: { weightBits: 8, activationBits: 8, weightScales: Float32Array.from([0.1, 0.2]), outputScale: 0.05, outputZeroPoint: -3 } }) as Node);
  const { json, weights } = serializeGraph(q);
  const back = deserializeGraph(json, weights);
  assert.equal(printGraph(back), printGraph(q));
  assert.deepEqual(back.nodes[3].quant, q.nodes[3].quant);
  for (let i = 0; i < q.nodes.length; i++) {
    for (const [name, w] of Object.entries(q.nodes[i].weights)) {
      const a = new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
      const bw = back.nodes[i].weights[name].data;
      assert.deepEqual(new Uint8Array(bw.buffer, bw.byteOffset, bw.byteLength), a, `${q.nodes[i].id}.${name}`);
    }
  }
  // Serializing the deserialized graph gives identical bytes.
  const again = serializeGraph(back);
  assert.equal(again.json, json);
  assert.deepEqual(again.weights, weights);
});

test('saveGraph/loadGraph round-trip on disk; corrupt weights are named errors', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tandem-ir-'));
  const g = fmnistResnet();
  const target = path.join(dir, 'model');
  await saveGraph(target, g);
  assert.deepEqual((await readdir(dir)).sort(), ['model']);
  assert.deepEqual((await readdir(target)).sort(), ['graph.json', 'weights.bin']);
  const back = await loadGraph(target);
  assert.equal(printGraph(back), printGraph(g));
  const bin = await readFile(path.join(target, 'weights.bin'));
  bin[100] ^= 1;
  await writeFile(path.join(target, 'weights.bin'), bin);
  await assert.rejects(loadGraph(target), (e: Error) => e.message.startsWith(`${path.join(target, 'graph.json')}: weights SHA-256 is `));
  await assert.rejects(loadGraph(path.join(dir, 'absent')), { message: `${path.join(dir, 'absent', 'graph.json')}: cannot read Tandem model (ENOENT)` });
});

test('op table covers every OpKind with shape inference', () => {
  const b = new GraphBuilder('all', 3);
  const x = b.input('x', [9, 9, 4]);
  const c = b.conv2d(x, { filters: 4, kernel: 3, groups: 2, dilations: 2, padding: 'same' });
  const d = b.depthwiseConv2d(c, { kernel: 3, strides: 2, padding: 'same', depthMultiplier: 2 });
  const bn = b.batchNorm(d);
  const acts = [b.relu(bn), b.relu6(bn), b.leakyRelu(bn, 0.1), b.sigmoid(bn)];
  const s = b.addValues(acts.slice(0, 2));
  const cat = b.concat([s, acts[2], acts[3]], 2);
  const mp = b.maxPool(cat, 2, { strides: 1, padding: 'same' });
  const ap = b.avgPool(b.pad(mp, [1, 0, 0, 1], 0.5), 3, { strides: 2 });
  const g1 = b.globalAvgPool(ap);
  const r = b.reshape(b.flatten(ap), [b.shape(ap)[0] * b.shape(ap)[1], b.shape(ap)[2]]);
  const out = b.softmax(b.dense(b.dropout(g1, 0.5), 3));
  const g = b.build([out, r]);
  const seen = new Set(g.nodes.map((n) => n.op));
  for (const k of Object.values(OpKind)) assert.ok(seen.has(k), `op ${k} exercised`);
  const shapes = verify(g);
  assert.deepEqual(shapes.get(d), [5, 5, 8]);
  assert.deepEqual(shapes.get(cat), [5, 5, 24]);
  // pad [1,0,0,1] makes 6x6; a 3x3 window at stride 2 fits twice.
  assert.deepEqual(shapes.get(ap), [2, 2, 24]);
  assert.deepEqual(shapes.get(r), [4, 24]);
});
