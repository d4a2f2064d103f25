// Structural pruning: dependency groups from the Graph, physical removal, and the known answers of
// SEEDS §4 (a zero-weight channel and a gamma = 0 channel leave the outputs unchanged once its constant
// is folded into the consumer).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allOf, classificationSet, loadFashionMnist } from '../compiler/data/index.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { graphStats, verify } from '../compiler/ir/graph.js';
import { type Graph, type Node } from '../compiler/ir/types.js';
import { resolveModel } from '../compiler/models/registry.js';
import { pruneChannels } from '../compiler/passes/prune/apply.js';
import { channelGroups } from '../compiler/passes/prune/groups.js';
import { runGraph } from '../compiler/train/executor.js';
import { Rng } from '../compiler/util/rng.js';
import { maxAbsDiff } from './io-graphs.js';

async function realImages(n: number): Promise<Float32Array> {
  const fm = await loadFashionMnist();
  const x = new Float32Array(n * 784);
  classificationSet(allOf(fm.test)).fill(
    Array.from({ length: n }, (_, i) => i),
    x,
    new Float32Array(n),
  );
  return x;
}

/** A copy of g with fn applied to node `id`'s float32 weight `name` (in place on a copy of its data). */
function editWeight(g: Graph, id: string, name: string, fn: (w: Float32Array, shape: readonly number[]) => void): Graph {
  return {
    ...g,
    nodes: g.nodes.map((n) => {
      if (n.id !== id) return n;
      const t = n.weights[name];
      const data = Float32Array.from(t.data as Float32Array);
      fn(data, t.shape);
      return { ...n, weights: { ...n.weights, [name]: { dtype: 'float32', shape: t.shape, data } } } as Node;
    }),
  };
}

/** Zero output channel c of a [.., cout] kernel. */
const zeroOut = (c: number) => (w: Float32Array, shape: readonly number[]) => {
  const cout = shape[shape.length - 1];
  for (let i = c; i < w.length; i += cout) w[i] = 0;
};

const range = (n: number, drop: readonly number[] = []) => Array.from({ length: n }, (_, i) => i).filter((i) => !drop.includes(i));

describe('channel groups', () => {
  it('fmnist-vgg: one group per conv and fc1, fc2 fixed by the graph output; conv6 reaches fc1 through flatten', async () => {
    const { graph } = await resolveModel('fmnist-vgg', { allowUntrained: true });
    const { groups } = channelGroups(graph);
    const prunable = groups.filter((g) => !g.fixed).map((g) => g.id);
    assert.deepEqual(prunable, ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'conv6', 'fc1']);
    const fc2 = groups.find((g) => g.id === 'fc2')!;
    assert.match(fc2.fixed!, /softmax 'softmax'|graph output/);
    const c6 = groups.find((g) => g.id === 'conv6')!;
    assert.deepEqual(c6.perChannel.map((u) => u.node), ['bn6']);
    assert.equal(c6.consumers.length, 1);
    assert.deepEqual(c6.consumers[0].map, { kind: 'flat', space: c6.spaces[0], channels: 128, positions: 9 });
    assert.equal(groups.find((g) => g.id === 'image')!.fixed, "graph input 'image'");
  });

  it('fmnist-resnet: channels tied across each residual add form one group', async () => {
    const { graph } = await resolveModel('fmnist-resnet', { allowUntrained: true });
    const { groups } = channelGroups(graph);
    const of = (p: string) => groups.find((g) => g.producers.includes(p))!;
    assert.deepEqual(of('stem').producers, ['stem', 's1_conv2']);
    assert.deepEqual(of('s2_conv2').producers, ['s2_conv2', 's2_proj']);
    assert.deepEqual(of('s3_conv2').producers, ['s3_conv2', 's3_proj']);
    assert.deepEqual(of('s2_conv1').producers, ['s2_conv1']);
    assert.deepEqual(of('stem').consumers.map((u) => u.node), ['s1_conv1', 's2_conv1', 's2_proj']);
    assert.deepEqual(of('s3_conv2').consumers.map((u) => u.node), ['fc']);
    assert.equal(of('fc').fixed !== undefined, true);
  });
});

describe('pruneChannels', () => {
  it('a channel whose weights are all zero: removing it changes no output (<= 1e-6), params and MACs drop exactly', async () => {
    const { graph: ref } = await resolveModel('fmnist-vgg');
    // conv6 channels 5 and 77 carry only BN's constant shift; their removal folds it into fc1 -> bn_fc1
    let g = editWeight(ref, 'conv6', 'kernel', zeroOut(5));
    g = editWeight(g, 'conv6', 'kernel', zeroOut(77));
    const r = pruneChannels(g, new Map([['conv6', range(128, [5, 77])]]));
    assert.deepEqual(r.folds, [{ group: 'conv6', consumer: 'fc1', into: 'batchNorm mean', channels: 18, exact: true }]);
    const x = await realImages(64);
    const [a] = await runGraph(g, x, 64);
    const [b] = await runGraph(r.graph, x, 64);
    const d = maxAbsDiff(a, b);
    assert.ok(d <= 1e-6, `max |diff| ${d}`);
    const before = graphStats(g);
    const after = graphStats(r.graph);
    // conv6 loses 2 filters (3·3·128 each), bn6 2 × 4, fc1 2 × 9 rows of 128
    assert.equal(before.totalParams - after.totalParams, 2 * 9 * 128 + 2 * 4 + 2 * 9 * 128);
    const macs = (st: typeof before, id: string) => st.nodes.find((n) => n.id === id)!.macs;
    assert.equal(macs(before, 'conv6') - macs(after, 'conv6'), 2 * 7 * 7 * 9 * 128);
    assert.equal(macs(before, 'fc1') - macs(after, 'fc1'), 2 * 9 * 128);
  });

  it("a channel whose BN gamma is 0: folding its shift keeps outputs equal (<= 1e-5); without folding they change", async () => {
    const { graph: ref } = await resolveModel('fmnist-vgg');
    // gamma 0 and a positive shift (the trained bn6 shifts are all <= 0, which the following ReLU would silence anyway)
    const drop = [3, 40];
    let g = editWeight(ref, 'bn6', 'gamma', (w) => drop.forEach((c) => (w[c] = 0)));
    g = editWeight(g, 'bn6', 'beta', (w) => drop.forEach((c) => (w[c] = 0.8)));
    const kept = new Map([['conv6', range(128, drop)]]);
    const x = await realImages(64);
    const [a] = await runGraph(g, x, 64);
    const [b] = await runGraph(pruneChannels(g, kept).graph, x, 64);
    const d = maxAbsDiff(a, b);
    assert.ok(d <= 1e-5, `folded: max |diff| ${d}`);
    const [c] = await runGraph(pruneChannels(g, kept, { fold: false }).graph, x, 64);
    assert.ok(maxAbsDiff(a, c) > 1e-3, `without folding the outputs must differ (${maxAbsDiff(a, c)})`);
  });

  it('conv consumers: exact with valid padding, reported inexact with zero padding; useBias turned on', async () => {
    const rng = new Rng(4);
    const build = (padding: 'same' | 'valid') => {
      const b = new GraphBuilder('t', 9);
      const x = b.input('x', [8, 8, 3]);
      let h = b.conv2d(x, { id: 'c1', filters: 6, kernel: 3, padding: 'same', useBias: false });
      h = b.batchNorm(h, { id: 'bn1' });
      h = b.relu(h, { id: 'r1' });
      h = b.conv2d(h, { id: 'c2', filters: 4, kernel: 3, padding, useBias: false });
      return b.build([b.relu(h, { id: 'r2' })]);
    };
    for (const padding of ['valid', 'same'] as const) {
      let g = build(padding);
      g = editWeight(g, 'bn1', 'beta', (w) => w.forEach((_, i) => (w[i] = rng.normal())));
      g = editWeight(g, 'bn1', 'beta', (w) => (w[2] = 1.5));
      g = editWeight(g, 'bn1', 'gamma', (w) => (w[2] = 0));
      const r = pruneChannels(g, new Map([['c1', range(6, [2])]]));
      assert.deepEqual(r.folds, [{ group: 'c1', consumer: 'c2', into: 'bias', channels: 1, exact: padding === 'valid' }]);
      const c2 = r.graph.nodes.find((n) => n.id === 'c2')!;
      assert.equal((c2.attrs as { useBias: boolean }).useBias, true);
      const input = Float32Array.from({ length: 5 * 8 * 8 * 3 }, () => rng.normal());
      const d = maxAbsDiff((await runGraph(g, input, 5))[0], (await runGraph(r.graph, input, 5))[0]);
      if (padding === 'valid') assert.ok(d <= 1e-5, `valid: max |diff| ${d}`);
      else assert.ok(d > 1e-4, `same: borders differ (${d})`);
    }
  });

  it('fmnist-resnet: pruning through residual adds keeps the graph valid and shrinks every tied layer', async () => {
    const { graph } = await resolveModel('fmnist-resnet');
    const kept = new Map([
      ['stem', range(16, [0, 1, 2, 3])],
      ['s2_conv2', range(32, [4, 9, 30])],
      ['s2_conv1', range(32, [0])],
      ['s3_conv2', range(64, [63])],
    ]);
    const r = pruneChannels(graph, kept);
    verify(r.graph);
    const out = (id: string) => (r.graph.nodes.find((n) => n.id === id)!.weights.kernel.shape as number[]).at(-1);
    assert.deepEqual(['stem', 's1_conv2', 's2_conv2', 's2_proj', 's2_conv1', 's3_conv2', 's3_proj'].map(out), [12, 12, 29, 29, 31, 63, 63]);
    assert.deepEqual([...r.graph.nodes.find((n) => n.id === 'fc')!.weights.kernel.shape], [63, 10]);
    assert.deepEqual([...r.graph.nodes.find((n) => n.id === 's1_conv1')!.weights.kernel.shape], [3, 3, 12, 16]);
    assert.ok(graphStats(r.graph).totalParams < graphStats(graph).totalParams);
    const x = await realImages(8);
    const [y] = await runGraph(r.graph, x, 8);
    assert.equal(y.length, 80);
  });

  it('bad requests name the group and what was expected', async () => {
    const { graph } = await resolveModel('fmnist-vgg', { allowUntrained: true });
    assert.throws(() => pruneChannels(graph, new Map([['conv3', []]])), { message: "node 'conv3': prune: this would remove every one of the 64 channels of 'conv3' (layers conv3); keep at least one" });
    assert.throws(() => pruneChannels(graph, new Map([['fc2', [0]]])), { message: /channels of 'fc2' cannot be pruned: tied to (softmax 'softmax'|graph output 'softmax')/ });
    assert.throws(() => pruneChannels(graph, new Map([['nope', [0]]])), { message: /no channel group 'nope' \(prunable groups: conv1, conv2/ });
    assert.throws(() => pruneChannels(graph, new Map([['conv1', [0, 32]]])), { message: "node 'conv1': prune: kept channel 32 of 'conv1' is outside 0..31" });
    assert.throws(() => pruneChannels(graph, new Map([['conv1', [3, 1]]])), { message: "node 'conv1': prune: kept channels of 'conv1' must be ascending and distinct (got 3 then 1)" });
  });
});
