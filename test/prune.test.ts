// Structural pruning: dependency groups from the Graph, physical removal, and the known answers of
// SEEDS §4 (a zero-weight channel and a gamma = 0 channel leave the outputs unchanged once its constant
// is folded into the consumer).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allOf, classificationSet, loadFashionMnist } from '../compiler/data/index.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { graphStats, verify } from '../compiler/ir/graph.js';
import { printGraph } from '../compiler/ir/print.js';
import { type Graph, type Node, type NodeOf, type OpKind } from '../compiler/ir/types.js';
import { resolveModel } from '../compiler/models/registry.js';
import { pruneChannels } from '../compiler/passes/prune/apply.js';
import { removeResidualBranch } from '../compiler/passes/prune/depth.js';
import { scaleDropout } from '../compiler/passes/prune/dropout.js';
import { channelGroups } from '../compiler/passes/prune/groups.js';
import { channelImportance } from '../compiler/passes/prune/importance.js';
import { checkPruneConfig, pruneModel } from '../compiler/passes/prune/prune.js';
import { parsePruneTarget, selectChannels } from '../compiler/passes/prune/select.js';
import { residualBranches, slimRegularizer, sslRegularizer } from '../compiler/passes/prune/sparsity.js';
import { addMasks, keptByDropoutRate, LOG_ALPHA_RANGE, maskKl, maskKlGrad, stripMasks, vmaskRegularizer } from '../compiler/passes/prune/vmask.js';
import { packParams, paramLayout } from '../compiler/train/flat-params.js';
import { type TrainConfig, train } from '../compiler/train/trainer.js';
import { runGraph } from '../compiler/train/executor.js';
import { parseLayerValues } from '../compiler/util/layer-values.js';
import { Rng } from '../compiler/util/rng.js';
import { maxAbsDiff } from './io-graphs.js';
import { fashionImages } from './helpers.js';

const realImages = async (n: number): Promise<Float32Array> => (await fashionImages('test', n)).x;

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

/** Two strided conv-BN-ReLU blocks of 16 channels and a dense classifier (sparsity-training tests). */
function twoConvNet(): Graph {
  const b = new GraphBuilder('two-conv', 5);
  let h = b.input('image', [28, 28, 1]);
  h = b.relu(b.batchNorm(b.conv2d(h, { id: 'c1', filters: 16, kernel: 3, strides: 2, padding: 'same', useBias: false }), { id: 'bn1' }), { id: 'r1' });
  h = b.relu(b.batchNorm(b.conv2d(h, { id: 'c2', filters: 16, kernel: 3, strides: 2, padding: 'same', useBias: false }), { id: 'bn2' }), { id: 'r2' });
  h = b.dense(b.flatten(h, { id: 'f' }), 10, { id: 'fc' });
  return b.build([b.softmax(h, { id: 'sm' })]);
}

/** The first n training images as a Dataset. */
async function trainImages(n: number) {
  const fm = await loadFashionMnist();
  return classificationSet({ data: fm.train, indices: allOf(fm.train).indices.subarray(0, n) });
}

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

describe('dropout for retraining (Han et al. 2015)', () => {
  it('fmnist-vgg: each rate scales by sqrt(kept/original connections) of the layer it feeds; an unpruned feed keeps its rate', async () => {
    const { graph } = await resolveModel('fmnist-vgg', { allowUntrained: true });
    const rate = (g: Graph, id: string) => (g.nodes.find((n) => n.id === id)! as NodeOf<OpKind.Dropout>).attrs.rate;
    // conv6 keeps 64/128 and fc1 32/128: fc1 (fed by drop1 through flatten) keeps 576 of 1152 input rows and
    // 32 of 128 outputs (1/8 of its connections); fc2 (fed by drop2) keeps 32 of 128 input rows
    const half = pruneChannels(graph, new Map([['conv6', range(128, range(64))], ['fc1', range(128, range(96))]])).graph;
    const r = scaleDropout(graph, half);
    assert.ok(Math.abs(rate(r.graph, 'drop1') - 0.3 * Math.sqrt(0.125)) < 1e-12, `drop1 ${rate(r.graph, 'drop1')}`);
    assert.ok(Math.abs(rate(r.graph, 'drop2') - 0.3 * Math.sqrt(0.25)) < 1e-12, `drop2 ${rate(r.graph, 'drop2')}`);
    assert.deepEqual(r.changes.map((c) => `${c.node}>${c.feeds}`), ['drop1>fc1', 'drop2>fc2']);
    assert.equal(rate(half, 'drop1'), 0.3, 'the input graph is not modified');
    const early = scaleDropout(graph, pruneChannels(graph, new Map([['conv1', range(32, range(16))]])).graph);
    assert.deepEqual([rate(early.graph, 'drop1'), rate(early.graph, 'drop2'), early.changes.length], [0.3, 0.3, 0]);
  });
});

describe('selecting channels for a target', () => {
  it('l1 on fmnist-vgg, params=0.5: meets the target by less than one channel, removes the lowest-scoring channels per group', async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const groups = channelGroups(graph);
    const imp = channelImportance(graph, groups, 'l1');
    const sel = selectChannels(graph, imp, 'l1', { params: 0.5 });
    const base = graphStats(graph).totalParams;
    assert.ok(sel.params <= 0.5 * base, `${sel.params} params > half of ${base}`);
    // the most a single channel can cost here: a conv6 filter, its BN, and its 9 rows of fc1
    assert.ok(sel.params > 0.5 * base - (9 * 128 + 4 + 9 * 128), `${sel.params}: more removed than needed`);
    assert.equal(graphStats(pruneChannels(graph, sel.kept).graph).totalParams, sel.params);
    for (const [g, kept] of sel.kept) {
      const s = imp.get(g)!;
      const keptMin = Math.min(...kept.map((c) => s[c]));
      const removedMax = Math.max(...range(s.length, kept).map((c) => s[c]));
      assert.ok(removedMax <= keptMin, `${g}: removed score ${removedMax} > kept ${keptMin}`);
    }
  });

  it('targets that cannot be met or make no sense are refused with the numbers', async () => {
    const { graph } = await resolveModel('fmnist-vgg', { allowUntrained: true });
    const groups = channelGroups(graph);
    assert.throws(() => selectChannels(graph, channelImportance(graph, groups, 'l2'), 'l2', { params: 0.0001 }), {
      message: /^prune target params=0.0001 cannot be met: even with 1 channel left in every prunable group the model keeps \d+ params \(\d+\.\d+%\) and \d+ MACs \(\d+\.\d+%\); pruning further would remove every channel of a layer$/,
    });
    assert.throws(() => parsePruneTarget('params=0'), { message: '--target params=0: the remaining fraction must be in (0, 1] (0 would remove every channel)' });
    assert.throws(() => parsePruneTarget('macs=1.5'), { message: '--target macs=1.5: the remaining fraction must be in (0, 1]' });
    assert.throws(() => parsePruneTarget('flops=0.3'), { message: /^--target 'flops=0.3': expected params=F and\/or macs=F/ });
    assert.deepEqual(parsePruneTarget('params=0.1,macs=0.3'), { params: 0.1, macs: 0.3 });
    assert.throws(() => channelImportance(graph, groups, 'vmask'), { message: "criterion vmask: batchNorm 'bn1' has no learned mask (logAlpha): train the masks first" });
  });
});

describe('sparsity penalties', () => {
  it('slim: the proximal step zeroes |gamma| <= lr·λ exactly and shrinks the rest by lr·λ; nothing else changes', async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const layout = paramLayout(graph);
    const params = packParams(graph, layout);
    const before = params.slice();
    // threshold lr·λ at the median |gamma| of the prunable groups' BNs
    const gammas = layout.slots.filter((s) => s.name === 'gamma' && s.node !== 'bn_fc2').flatMap((s) => Array.from(before.subarray(s.offset, s.offset + s.length), Math.abs));
    const t = gammas.sort((p, q) => p - q)[gammas.length >> 1];
    const reg = slimRegularizer(graph, channelGroups(graph), t / 0.1);
    reg.prox!(params, layout, 0.1);
    let zeros = 0;
    for (const s of layout.slots) {
      for (let i = s.offset; i < s.offset + s.length; i++) {
        if (s.name !== 'gamma') {
          assert.equal(params[i], before[i]);
          continue;
        }
        const v = before[i];
        const want = Math.abs(v) <= t ? 0 : v - Math.sign(v) * t;
        assert.ok(Math.abs(params[i] - want) <= 1e-6, `${s.node}[${i - s.offset}]: ${params[i]} vs ${want}`);
        if (params[i] === 0) zeros++;
      }
    }
    assert.ok(zeros > 0, 'some gammas reach exactly zero');
  });

  it('ssl: a group whose norm is below lr·λ·sqrt(size) becomes exactly zero, others shrink towards zero', async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const layout = paramLayout(graph);
    const params = packParams(graph, layout);
    const k = layout.slots.find((s) => s.node === 'conv2' && s.name === 'kernel')!;
    // filter 7 of conv2 made tiny: its group norm falls under the threshold
    for (let i = k.offset + 7; i < k.offset + k.length; i += 32) params[i] *= 1e-3;
    const reg = sslRegularizer(graph, channelGroups(graph), 0.1, { filter: true });
    reg.prox!(params, layout, 0.01);
    for (let i = k.offset + 7; i < k.offset + k.length; i += 32) assert.equal(params[i], 0);
    const f0 = (p: Float32Array) => Math.hypot(...Array.from({ length: 9 * 32 }, (_, j) => p[k.offset + j * 32]));
    const orig = packParams(graph, layout);
    assert.ok(f0(params) < f0(orig) && f0(params) > 0.9 * f0(orig), `filter 0 norm ${f0(orig)} -> ${f0(params)}`);
  });

  it('fmnist-resnet: each residual add has one branch to remove depth-wise', async () => {
    const { graph } = await resolveModel('fmnist-resnet', { allowUntrained: true });
    assert.deepEqual(residualBranches(graph), [1, 2, 3].map((s) => ({ add: `s${s}_add`, nodes: [`s${s}_conv1`, `s${s}_bn1`, `s${s}_relu1`, `s${s}_conv2`, `s${s}_bn2`] })));
  });

  it('training with the slim penalty drives BN gammas to exact zeros on real images', async () => {
    const data = await trainImages(512);
    const g = twoConvNet();
    const cfg: TrainConfig = { epochs: 2, batchSize: 64, optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.05 }, loss: 'crossEntropy', seed: 3 };
    const zeros = (x: Graph) => ['bn1', 'bn2'].reduce((a, id) => a + Array.from(x.nodes.find((n) => n.id === id)!.weights.gamma.data).filter((v) => v === 0).length, 0);
    const plain = await train(g, data, undefined, cfg, { workers: 0 });
    const slim = await train(g, data, undefined, cfg, { workers: 0, regularizer: slimRegularizer(g, channelGroups(g), 3) });
    assert.equal(zeros(plain.graph), 0);
    assert.ok(zeros(slim.graph) >= 8, `${zeros(slim.graph)} of 32 gammas are exactly zero`);
  });
});

describe('variational channel masks', () => {
  it('the KL gradient matches finite differences; KL falls as alpha grows', () => {
    for (const la of [-8, -4, -1, 0, 1, 3, 7.5]) {
      const h = 1e-5;
      const fd = (maskKl(la + h) - maskKl(la - h)) / (2 * h);
      assert.ok(Math.abs(fd - maskKlGrad(la)) <= 1e-6, `log alpha ${la}: ${fd} vs ${maskKlGrad(la)}`);
      assert.ok(maskKlGrad(la) < 0);
    }
  });

  it('masked batchNorms are plain batchNorms at inference; stripping restores the graph exactly', async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const masked = addMasks(graph, channelGroups(graph));
    verify(masked);
    assert.deepEqual(
      masked.nodes.filter((n) => n.op === 'batchNorm' && n.weights.logAlpha).map((n) => n.id),
      ['bn1', 'bn2', 'bn3', 'bn4', 'bn5', 'bn6', 'bn_fc1'],
    );
    const x = await realImages(16);
    assert.equal(maxAbsDiff((await runGraph(masked, x, 16))[0], (await runGraph(graph, x, 16))[0]), 0);
    assert.equal(printGraph(stripMasks(masked)), printGraph(graph));
  });

  it('mask training on real images: the KL penalty raises dropout rates, and channels above the threshold are pruned', async () => {
    const data = await trainImages(512);
    const g = twoConvNet();
    const masked = addMasks(g, channelGroups(g));
    const cfg: TrainConfig = { epochs: 2, batchSize: 64, optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.01 }, loss: 'crossEntropy', seed: 3 };
    const res = await train(masked, data, undefined, cfg, { workers: 0, regularizer: vmaskRegularizer(0.3) });
    const logAlpha = (id: string) => Array.from(res.graph.nodes.find((n) => n.id === id)!.weights.logAlpha.data);
    const la = [...logAlpha('bn1'), ...logAlpha('bn2')];
    assert.ok(la.every((v) => v >= LOG_ALPHA_RANGE[0] && v <= LOG_ALPHA_RANGE[1]));
    assert.ok(la.some((v) => v > 0), `max log alpha ${Math.max(...la)} (started at -4)`);
    const kept = keptByDropoutRate(res.graph, channelGroups(res.graph), 0.5);
    // dropout rate sigmoid(log alpha) > 0.5 <=> log alpha > 0; every group keeps at least one channel
    for (const [group, bn] of [['c1', 'bn1'], ['c2', 'bn2']]) {
      const v = logAlpha(bn);
      const want = v.map((x, c) => (x <= 0 ? c : -1)).filter((c) => c >= 0);
      assert.deepEqual(kept.get(group) ?? range(16), want.length ? want : [v.indexOf(Math.min(...v))], group);
    }
    const pruned = stripMasks(pruneChannels(res.graph, kept).graph);
    verify(pruned);
    assert.ok(pruned.nodes.every((n) => !n.weights.logAlpha));
  });
});

describe('depth-wise pruning', () => {
  it('fmnist-resnet: a residual branch with zero kernels is removed and the outputs stay equal (<= 1e-5)', async () => {
    const { graph } = await resolveModel('fmnist-resnet');
    const x = await realImages(16);
    for (const [add, into] of [['s1_add', 'shift node'], ['s2_add', 'batchNorm beta']] as const) {
      let g = graph;
      const stage = add.slice(0, 2);
      for (const conv of [`${stage}_conv1`, `${stage}_conv2`]) g = editWeight(g, conv, 'kernel', (w) => w.fill(0));
      const r = removeResidualBranch(g, add);
      assert.equal(r.into, into);
      assert.equal(r.exact, true);
      assert.deepEqual(r.removed, [`${stage}_conv1`, `${stage}_bn1`, `${stage}_relu1`, `${stage}_conv2`, `${stage}_bn2`]);
      const d = maxAbsDiff((await runGraph(g, x, 16))[0], (await runGraph(r.graph, x, 16))[0]);
      assert.ok(d <= 1e-5, `${add}: max |diff| ${d}`);
      assert.ok(graphStats(r.graph).totalMacs < graphStats(g).totalMacs);
    }
    assert.throws(() => removeResidualBranch(graph, 'stem'), { message: "node 'stem': no residual branch ends in 'stem' (branches end in: s1_add, s2_add, s3_add)" });
  });
});

describe('per-layer shares (--keep)', () => {
  it('fmnist-vgg conv1=0.5, conv3=0.25 in 2 steps: each step keeps share^(i/2) of the original channels, the highest L1 norms; other layers untouched', async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const keep = new Map([
      ['conv1', 0.5],
      ['conv3', 0.25],
    ]);
    const steps = await pruneModel(graph, { criterion: 'l1', keep, steps: 2, sparsityEpochs: 0, lambda: 0, finetuneEpochs: 0, seed: 1 });
    const cout = (g: Graph, id: string) => g.nodes.find((n) => n.id === id)!.weights.kernel.shape.at(-1);
    // step 1: round(32·√0.5) = 23, round(64·√0.25) = 32; step 2: 16 and 16
    assert.deepEqual([cout(steps[0].graph, 'conv1'), cout(steps[0].graph, 'conv3')], [23, 32]);
    assert.deepEqual([cout(steps[1].graph, 'conv1'), cout(steps[1].graph, 'conv3')], [16, 16]);
    for (const id of ['conv2', 'conv4', 'conv5', 'conv6', 'fc1']) assert.equal(cout(steps[1].graph, id), cout(graph, id), id);
    // the kept channels (indices into the original layer) are those with the largest L1 norms
    const imp = channelImportance(graph, channelGroups(graph), 'l1');
    for (const [layer, n] of [['conv1', 16], ['conv3', 16]] as const) {
      const kept = steps[1].plan.layers[layer].keptChannels!;
      assert.equal(kept.length, n);
      const s = imp.get(layer)!;
      assert.ok(Math.max(...range(s.length, kept).map((c) => s[c])) <= Math.min(...kept.map((c) => s[c])), layer);
    }
    assert.deepEqual(Object.keys(steps[1].plan.layers).sort(), ['conv1', 'conv3']);
  });

  it('names the layer and the reason when a share cannot apply', async () => {
    const { graph } = await resolveModel('fmnist-resnet', { allowUntrained: true });
    const cfg = (keep: [string, number][]) => ({ criterion: 'l1' as const, keep: new Map(keep), steps: 1, sparsityEpochs: 0, lambda: 0, finetuneEpochs: 0, seed: 1 });
    assert.throws(() => checkPruneConfig(graph, cfg([['nope', 0.5]])), { message: /^prune --keep nope: fmnist-resnet has no conv2d\/dense layer 'nope' \(layers: stem, s1_conv1, / });
    assert.throws(() => checkPruneConfig(graph, cfg([['fc', 0.5]])), { message: /^prune --keep fc: its output channels cannot be pruned \(.+\)$/ });
    assert.throws(() => checkPruneConfig(graph, cfg([['stem', 0.5], ['s1_conv2', 0.75]])), { message: 'prune --keep: stem (0.5) and s1_conv2 (0.75) share one channel group (stem, s1_conv2, tied by an add or concat) and keep the same channels: give them the same share' });
    assert.throws(() => checkPruneConfig(graph, cfg([['s2_conv1', 0.001]])), { message: /^prune --keep s2_conv1=0.001: keeps 0 of its \d+ channels; at least 1 must stay$/ });
    assert.throws(() => checkPruneConfig(graph, { ...cfg([['stem', 0.5]]), target: { params: 0.5 } }), { message: 'prune: give a whole-network --target or per-layer --keep shares, not both' });
    // tied layers with one share: the group shrinks once
    checkPruneConfig(graph, cfg([['stem', 0.5], ['s1_conv2', 0.5]]));
    assert.throws(() => parseLayerValues('--keep', 'conv1=0.5,conv1=0.25', () => undefined), { message: "--keep 'conv1=0.5,conv1=0.25': layer conv1 is given twice" });
    assert.throws(() => parseLayerValues('--keep', 'conv1:0.5', () => undefined), { message: "--keep 'conv1:0.5': 'conv1:0.5' is not LAYER=VALUE (e.g. conv1=0.5)" });
  });
});
