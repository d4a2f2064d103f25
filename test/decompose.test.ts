// Layer replacement by SVD / Tucker-2 / CP in the Graph: outputs equal a conv with the reconstructed
// kernel, exact cost formulas equal the IR's count, re-compression from factors, rank rules, Two-Pass
// refit, budgeted allocation, and clear errors for bad requests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { graphStats } from '../compiler/ir/graph.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { type Graph, type Node, type NodeOf, OpKind } from '../compiler/ir/types.js';
import { budgetRanks } from '../compiler/passes/compress/budget.js';
import { refitLayer } from '../compiler/passes/compress/refit.js';
import { decomposedCost, originalCost } from '../compiler/passes/decompose/cost.js';
import { decomposeLayer } from '../compiler/passes/decompose/decompose.js';
import { type DecompositionKind, layerForm, nodesOfLayer } from '../compiler/passes/decompose/layers.js';
import { chooseRanks, networkCost, parseRankRule } from '../compiler/passes/decompose/ranks.js';
import { runGraph } from '../compiler/train/executor.js';
import { Rng } from '../compiler/util/rng.js';

const randn = (rng: Rng, n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);

interface ConvCase {
  readonly S: number;
  readonly T: number;
  readonly k: number;
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  readonly dilation?: number;
  readonly H?: number;
}

/** input -> conv 'c' -> relu, with seeded weights and a non-zero bias. */
function convGraph(c: ConvCase, seed: number, kernel?: Float32Array): Graph {
  const b = new GraphBuilder('t', seed);
  const x = b.input('x', [c.H ?? 11, c.H ?? 11, c.S]);
  const y = b.conv2d(x, { id: 'c', filters: c.T, kernel: c.k, strides: c.strides, padding: c.padding, dilations: c.dilation ?? 1 });
  b.relu(y, { id: 'r' });
  const g = b.build(['r']);
  const rng = new Rng(seed + 7);
  return withWeights(g, 'c', { kernel: kernel ?? randn(rng, c.k * c.k * c.S * c.T, 0.3), bias: randn(rng, c.T, 0.5) });
}

function withWeights(g: Graph, id: string, w: Record<string, Float32Array>): Graph {
  return {
    ...g,
    nodes: g.nodes.map((n) => {
      if (n.id !== id) return n;
      const weights = { ...n.weights };
      for (const [k, data] of Object.entries(w)) weights[k] = { dtype: 'float32', shape: n.weights[k].shape, data };
      return { ...n, weights } as Node;
    }),
  };
}

/** The full [kh, kw, S, T] kernel a decomposed layer computes, rebuilt from its nodes' weights. */
function reconstructKernel(g: Graph, layer: string): Float32Array {
  const f = layerForm(g, layer);
  const { kh, kw, S, T } = f.geometry;
  const K = new Float32Array(kh * kw * S * T);
  const w = (n: Node) => n.weights.kernel.data as Float32Array;
  if (f.kind === 'tucker2') {
    const [r3, r4] = f.ranks;
    const [a, c, o] = f.nodes.map(w);
    for (let i = 0; i < kh * kw; i++)
      for (let s = 0; s < S; s++)
        for (let t = 0; t < T; t++) {
          let v = 0;
          for (let p = 0; p < r3; p++) for (let q = 0; q < r4; q++) v += a[s * r3 + p] * c[(i * r3 + p) * r4 + q] * o[q * T + t];
          K[(i * S + s) * T + t] = v;
        }
  } else if (f.kind === 'cp') {
    const R = f.ranks[0];
    const [a, v, h, o] = f.nodes.map(w);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let s = 0; s < S; s++)
          for (let t = 0; t < T; t++) {
            let x = 0;
            for (let r = 0; r < R; r++) x += a[s * R + r] * v[i * R + r] * h[j * R + r] * o[r * T + t];
            K[((i * kw + j) * S + s) * T + t] = x;
          }
  } else if (f.kind === 'svd') {
    const R = f.ranks[0];
    const [a, o] = f.nodes.map(w);
    for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) for (let r = 0; r < R; r++) K[s * T + t] += a[s * R + r] * o[r * T + t];
  } else throw new Error('not decomposed');
  return K;
}

function ranksNow(g: Graph, layer: string): readonly number[] {
  const f = layerForm(g, layer);
  return f.kind === 'original' ? [] : f.ranks;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const relDiff = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / b.reduce((s, v) => s + v * v, 0));

async function outputs(g: Graph, x: Float32Array, n: number): Promise<Float32Array> {
  return (await runGraph(g, x, n))[0];
}

/** The decomposed graph against the original graph with the reconstructed kernel put back. */
async function checkAgainstReconstruction(base: Graph, c: ConvCase, kind: DecompositionKind, ranks: number[], seed: number): Promise<{ diff: number; kernelError: number; graph: Graph }> {
  const { graph, info } = decomposeLayer(base, 'c', kind, ranks, { seed });
  const K = reconstructKernel(graph, 'c');
  const baseKernel = (base.nodes.find((n) => n.id === 'c')!.weights.kernel.data as Float32Array);
  assert.ok(Math.abs(relDiff(K, baseKernel) - info.relError) < 1e-3, `reported kernel error ${info.relError} vs rebuilt ${relDiff(K, baseKernel)}`);
  const ref = withWeights(base, 'c', { kernel: K });
  const n = 3;
  const x = randn(new Rng(seed + 99), n * (c.H ?? 11) * (c.H ?? 11) * c.S);
  return { diff: maxAbsDiff(await outputs(graph, x, n), await outputs(ref, x, n)), kernelError: info.relError, graph };
}

const GEOMETRIES: ConvCase[] = [
  { S: 8, T: 12, k: 3, strides: [1, 1], padding: 'same' },
  { S: 8, T: 12, k: 3, strides: [2, 2], padding: 'same' },
  { S: 12, T: 6, k: 3, strides: [1, 1], padding: 'valid' },
  { S: 12, T: 6, k: 3, strides: [2, 2], padding: 'valid' },
  { S: 6, T: 10, k: 5, strides: [2, 1], padding: 'same' },
  { S: 10, T: 10, k: 3, strides: [1, 2], padding: 'same', dilation: 2 },
  { S: 7, T: 9, k: 3, strides: [2, 2], padding: 'same', H: 10 },
];

describe('layer replacement', () => {
  for (const [i, c] of GEOMETRIES.entries()) {
    const label = `${c.k}x${c.k} ${c.S}->${c.T} stride ${c.strides.join('x')} ${c.padding}${c.dilation ? ` dilation ${c.dilation}` : ''}`;
    it(`Tucker-2 and CP of ${label}: outputs equal a conv with the reconstructed kernel (<= 1e-4)`, async () => {
      const base = convGraph(c, 10 + i);
      const t = await checkAgainstReconstruction(base, c, 'tucker2', [Math.max(1, c.S - 3), Math.max(1, c.T - 4)], i);
      const p = await checkAgainstReconstruction(base, c, 'cp', [5], i);
      console.log(`# ${label}: tucker2 max diff ${t.diff.toExponential(2)}, cp max diff ${p.diff.toExponential(2)}`);
      assert.ok(t.diff <= 1e-4, `tucker2 ${t.diff}`);
      assert.ok(p.diff <= 1e-4, `cp ${p.diff}`);
      // Stride on the right sub-layers: the core for Tucker-2; vertical/horizontal on the two depthwise CP layers.
      const core = t.graph.nodes.find((n) => n.id === 'c/tucker.core') as NodeOf<OpKind.Conv2d>;
      assert.deepEqual(core.attrs.strides, c.strides);
      const v = p.graph.nodes.find((n) => n.id === 'c/cp.v') as NodeOf<OpKind.DepthwiseConv2d>;
      const h = p.graph.nodes.find((n) => n.id === 'c/cp.h') as NodeOf<OpKind.DepthwiseConv2d>;
      assert.deepEqual([v.attrs.strides, h.attrs.strides], [[c.strides[0], 1], [1, c.strides[1]]]);
      for (const n of [...nodesOfLayer(t.graph, 'c'), ...nodesOfLayer(p.graph, 'c')]) assert.equal(n.origin, 'c');
    });
  }

  it('SVD of a 1×1 conv with stride 2 and of a dense layer: outputs equal the reconstructed layer', async () => {
    const c: ConvCase = { S: 16, T: 12, k: 1, strides: [2, 2], padding: 'valid' };
    const r = await checkAgainstReconstruction(convGraph(c, 3), c, 'svd', [5], 0);
    assert.ok(r.diff <= 1e-4, `svd 1x1 ${r.diff}`);
    const b = new GraphBuilder('d', 4);
    b.dense(b.flatten(b.input('x', [4, 4, 2])), 9, { id: 'fc' });
    const g = b.build(['fc']);
    const d = decomposeLayer(g, 'fc', 'svd', [4]).graph;
    const W = reconstructKernel(d, 'fc');
    const x = randn(new Rng(5), 4 * 32);
    assert.ok(maxAbsDiff(await outputs(d, x, 4), await outputs(withWeights(g, 'fc', { kernel: W }), x, 4)) <= 1e-4);
  });

  it('exactly low-rank kernels are reproduced: Tucker-2 (rank 4x3), CP (rank 3), SVD (rank 2) give the same outputs as the original layer', async () => {
    const rng = new Rng(21);
    const S = 9;
    const T = 7;
    // Tucker rank (4, 3): K = core ×3 A ×4 B.
    const core = randn(rng, 9 * 4 * 3);
    const A = randn(rng, S * 4);
    const B = randn(rng, T * 3);
    const Kt = new Float32Array(9 * S * T);
    for (let i = 0; i < 9; i++) for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) for (let p = 0; p < 4; p++) for (let q = 0; q < 3; q++) Kt[(i * S + s) * T + t] += core[(i * 4 + p) * 3 + q] * A[s * 4 + p] * B[t * 3 + q];
    const c: ConvCase = { S, T, k: 3, strides: [2, 2], padding: 'same' };
    const gt = convGraph(c, 1, Kt);
    const x = randn(rng, 2 * 121 * S);
    const want = await outputs(gt, x, 2);
    const dt = decomposeLayer(gt, 'c', 'tucker2', [4, 3]);
    assert.ok(dt.info.relError <= 1e-5, `tucker kernel error ${dt.info.relError}`);
    assert.ok(maxAbsDiff(await outputs(dt.graph, x, 2), want) <= 1e-4);
    // CP rank 3.
    const f = [randn(rng, 9), randn(rng, 9), randn(rng, S * 3), randn(rng, T * 3)];
    const Kc = new Float32Array(9 * S * T);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) for (let r = 0; r < 3; r++) Kc[((i * 3 + j) * S + s) * T + t] += f[0][i * 3 + r] * f[1][j * 3 + r] * f[2][s * 3 + r] * f[3][t * 3 + r];
    const gc = convGraph(c, 1, Kc);
    const dc = decomposeLayer(gc, 'c', 'cp', [3], { seed: 1 });
    assert.ok(dc.info.relError <= 1e-3, `cp kernel error ${dc.info.relError}`);
    assert.ok(maxAbsDiff(await outputs(dc.graph, x, 2), await outputs(gc, x, 2)) <= 1e-3 * Math.max(...(await outputs(gc, x, 2)).map(Math.abs)));
  });
});

describe('cost formulas', () => {
  it('params and MACs from the formulas equal the IR count of the replaced nodes, for every kind and geometry', () => {
    let checked = 0;
    for (const [i, c] of GEOMETRIES.entries()) {
      const base = convGraph(c, i);
      const g = layerForm(base, 'c').geometry;
      const orig = graphStats(base).nodes.find((n) => n.id === 'c')!;
      assert.deepEqual(originalCost(g), { params: orig.params, macs: orig.macs });
      // R3 != R4 and S != T catch a formula with the two ranks swapped.
      for (const [kind, ranks] of [['tucker2', [Math.max(1, c.S - 3), Math.max(1, c.T - 5)]], ['cp', [4]], ['cp', [13]]] as const) {
        const d = decomposeLayer(base, 'c', kind, ranks, { cpMaxIter: 5 }).graph;
        const st = graphStats(d).nodes.filter((n) => n.origin === 'c');
        const ir = { params: st.reduce((a, n) => a + n.params, 0), macs: st.reduce((a, n) => a + n.macs, 0) };
        assert.deepEqual(decomposedCost(g, kind, ranks), ir, `${kind} ${ranks} on case ${i}`);
        checked++;
      }
    }
    const b = new GraphBuilder('d', 4);
    b.dense(b.flatten(b.input('x', [4, 4, 2])), 9, { id: 'fc' });
    const dg = b.build(['fc']);
    const d = decomposeLayer(dg, 'fc', 'svd', [3]).graph;
    const st = graphStats(d).nodes.filter((n) => n.origin === 'fc');
    assert.deepEqual(decomposedCost(layerForm(dg, 'fc').geometry, 'svd', [3]), { params: st.reduce((a, n) => a + n.params, 0), macs: st.reduce((a, n) => a + n.macs, 0) });
    assert.ok(checked >= 21);
  });
});

describe('re-compression from factors', () => {
  it('Tucker-2 re-compression of an exactly rank-(4,3) layer kept at (8,6) returns to (4,3) exactly; the bias is carried over', async () => {
    const rng = new Rng(31);
    const S = 10;
    const T = 12;
    const core = randn(rng, 9 * 4 * 3);
    const A = randn(rng, S * 4);
    const B = randn(rng, T * 3);
    const K = new Float32Array(9 * S * T);
    for (let i = 0; i < 9; i++) for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) for (let p = 0; p < 4; p++) for (let q = 0; q < 3; q++) K[(i * S + s) * T + t] += core[(i * 4 + p) * 3 + q] * A[s * 4 + p] * B[t * 3 + q];
    const c: ConvCase = { S, T, k: 3, strides: [1, 1], padding: 'same' };
    const base = convGraph(c, 2, K);
    const first = decomposeLayer(base, 'c', 'tucker2', [8, 6]).graph;
    const again = decomposeLayer(first, 'c', 'tucker2', [4, 3]);
    assert.deepEqual(again.info.fromRanks, [8, 6]);
    assert.ok(relDiff(reconstructKernel(again.graph, 'c'), K) <= 1e-5, `re-compressed kernel error ${relDiff(reconstructKernel(again.graph, 'c'), K)}`);
    const bias = base.nodes.find((n) => n.id === 'c')!.weights.bias.data;
    assert.deepEqual(nodesOfLayer(again.graph, 'c').at(-1)!.weights.bias.data, bias);
    assert.deepEqual(ranksNow(again.graph, 'c'), [4, 3]);
  });

  it('SVD truncation of an SVD layer and CP re-fit of a CP layer keep the bias of the last factor and lower the ranks', () => {
    const c: ConvCase = { S: 8, T: 10, k: 3, strides: [2, 2], padding: 'same' };
    const base = convGraph(c, 6);
    const bias = base.nodes.find((n) => n.id === 'c')!.weights.bias.data;
    const cp1 = decomposeLayer(base, 'c', 'cp', [12], { seed: 2 }).graph;
    const cp2 = decomposeLayer(cp1, 'c', 'cp', [6], { seed: 2 });
    assert.deepEqual(ranksNow(cp2.graph, 'c'), [6]);
    assert.deepEqual(nodesOfLayer(cp2.graph, 'c').at(-1)!.weights.bias.data, bias);
    // The re-fit approximates the rank-12 CP tensor, not something else.
    assert.ok(relDiff(reconstructKernel(cp2.graph, 'c'), reconstructKernel(cp1, 'c')) <= cp2.info.relError + 1e-3);
    const s: ConvCase = { S: 16, T: 12, k: 1, strides: [1, 1], padding: 'valid' };
    const sb = convGraph(s, 8);
    const s1 = decomposeLayer(sb, 'c', 'svd', [9]).graph;
    const s2 = decomposeLayer(s1, 'c', 'svd', [4]);
    const direct = decomposeLayer(sb, 'c', 'svd', [4]);
    // Truncating the rank-9 product equals truncating the product of the rank-9 factors directly.
    assert.ok(relDiff(reconstructKernel(s2.graph, 'c'), reconstructKernel(direct.graph, 'c')) < 0.35 && s2.info.relError < 1);
    assert.deepEqual(nodesOfLayer(s2.graph, 'c').at(-1)!.weights.bias.data, sb.nodes.find((n) => n.id === 'c')!.weights.bias.data);
  });
});

describe('bad requests', () => {
  const base = (() => {
    const b = new GraphBuilder('m', 1);
    const x = b.input('x', [8, 8, 4]);
    const c = b.conv2d(x, { id: 'conv1', filters: 6, kernel: 3, padding: 'same' });
    b.dense(b.flatten(c, { id: 'flat' }), 5, { id: 'fc' });
    return b.build(['fc']);
  })();
  const cases: [string, () => unknown, string][] = [
    ['rank larger than the dimension', () => decomposeLayer(base, 'conv1', 'tucker2', [5, 3]), "layer 'conv1': tucker2 R3 (input side) 5 is larger than the input channels (4)"],
    ['rank 0', () => decomposeLayer(base, 'conv1', 'cp', [0]), "layer 'conv1': rank 0 is not a positive integer (ranks must be >= 1)"],
    ['svd rank too large', () => decomposeLayer(base, 'fc', 'svd', [6]), "layer 'fc': svd rank 6 is larger than min(inputs 384, outputs 5) = 5"],
    ['unknown layer', () => decomposeLayer(base, 'conv9', 'cp', [2]), "no layer 'conv9' in graph 'm' (layers: conv1, flat, fc)"],
    ['CP of a dense layer', () => decomposeLayer(base, 'fc', 'cp', [2]), "layer 'fc' is a dense layer; cp needs a conv2d with a kernel larger than 1×1 (use svd)"],
    ['a layer with no weights', () => decomposeLayer(base, 'flat', 'svd', [2]), "node 'flat': layer 'flat' cannot be decomposed: flatten has no weights to decompose"],
    ['raising a rank on re-compression', () => decomposeLayer(decomposeLayer(base, 'conv1', 'cp', [3]).graph, 'conv1', 'cp', [4]), "layer 'conv1': re-compression can only lower ranks: it is cp (3), asked (4)"],
    ['bad rank rule', () => parseRankRule('ratio:0.5x'), "--ranks 'ratio:0.5x': reduction 0.5 must be > 1 (expected evbmf, weakened:W with 0 <= W <= 1, ratio:Nx, ratio:params=Nx, layer-ratio:Nx, budget:macs=F, budget:params=F with 0 < F < 1, or LAYER=R[xR],...)"],
  ];
  for (const [what, f, msg] of cases) {
    it(`${what}: ${msg}`, () => assert.throws(f, (e: Error) => (assert.equal(e.message, msg), true)));
  }
});

/** A small CNN: 3x3 convs 1->16->24->24 (stride 2 in the middle), GAP, dense 10. */
function smallNet(seed: number): Graph {
  const b = new GraphBuilder('small', seed);
  let x = b.input('x', [12, 12, 1]);
  x = b.relu(b.conv2d(x, { id: 'conv1', filters: 16, kernel: 3, padding: 'same' }));
  x = b.relu(b.conv2d(x, { id: 'conv2', filters: 24, kernel: 3, strides: 2, padding: 'same' }));
  x = b.relu(b.conv2d(x, { id: 'conv3', filters: 24, kernel: 3, padding: 'same' }));
  b.dense(b.globalAvgPool(x), 10, { id: 'fc' });
  return b.build(['fc']);
}

describe('rank rules', () => {
  it('ratio:3x meets the network MAC target within 3%, leaves the 1-channel input conv alone', () => {
    const g = smallNet(2);
    const base = networkCost(g, 'macs');
    const choice = chooseRanks(g, 'tucker2', parseRankRule('ratio:3x') as never);
    let d = g;
    for (const c of choice.chosen) d = decomposeLayer(d, c.layer, c.kind, c.ranks, { cpMaxIter: 3 }).graph;
    const after = networkCost(d, 'macs');
    console.log(`# ratio:3x: MACs ${base} -> ${after} (${(base / after).toFixed(3)}x); ranks ${choice.chosen.map((c) => `${c.layer} ${c.ranks.join('x')}`).join(', ')}`);
    assert.ok(after <= base / 3 && after >= (base / 3) * 0.97, `${after} vs ${base / 3}`);
    assert.ok(choice.skipped.some((s) => s.layer === 'conv1' && /one input channel/.test(s.reason)));
  });

  it('CP ratio targets milder than CP at rank max(S, T) are met with ranks above max(S, T)', () => {
    const g = smallNet(2);
    const base = networkCost(g, 'macs');
    // conv2/conv3 (24 -> 24, 3×3) at CP rank 24 already cost ~3.4× less than the conv
    const choice = chooseRanks(g, 'cp', parseRankRule('ratio:1.5x') as never);
    const after = base + choice.chosen.reduce((a, c) => a + c.after.macs - c.before.macs, 0);
    assert.ok(after <= base / 1.5 && after >= (base / 1.5) * 0.97, `${after} vs ${base / 1.5}`);
    assert.ok(choice.chosen.some((c) => c.kind === 'cp' && c.ranks[0] > 24), choice.chosen.map((c) => `${c.layer} ${c.ranks}`).join(', '));
  });

  it('evbmf finds the Tucker ranks of a layer whose kernel is exactly low-rank plus small noise', () => {
    const g = smallNet(3);
    const rng = new Rng(4);
    const [S, T] = [24, 24];
    const core = randn(rng, 9 * 6 * 5);
    const A = randn(rng, S * 6);
    const B = randn(rng, T * 5);
    const K = new Float32Array(9 * S * T);
    for (let i = 0; i < 9; i++) for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) {
      let v = 0.01 * rng.normal();
      for (let p = 0; p < 6; p++) for (let q = 0; q < 5; q++) v += core[(i * 6 + p) * 5 + q] * A[s * 6 + p] * B[t * 5 + q];
      K[(i * S + s) * T + t] = v;
    }
    const withK = withWeights(g, 'conv3', { kernel: K });
    const choice = chooseRanks(withK, 'tucker2', { kind: 'evbmf' }, { layers: ['conv3'], minRank: 1 });
    assert.deepEqual(choice.chosen[0].ranks, [6, 5]);
    const weak = chooseRanks(withK, 'tucker2', { kind: 'weakened', w: 0.5 }, { layers: ['conv3'], minRank: 1 });
    assert.deepEqual(weak.chosen[0].ranks, [15, 15]); // ceil(24 - 0.5 (24 - 6)), ceil(24 - 0.5 (24 - 5))
    const skipped = chooseRanks(withK, 'tucker2', { kind: 'evbmf' }, { layers: ['conv3'], minRank: 25 });
    assert.deepEqual(skipped.skipped, [{ layer: 'conv3', reason: 'rank 24x24 is below the threshold 25' }]);
  });

  it('budget:macs=0.4 spends the budget where the calibrated output error is smallest', async () => {
    const g = smallNet(5);
    const calib = { x: randn(new Rng(6), 32 * 144), n: 32 };
    const r = await budgetRanks(g, { method: 'tucker2', fraction: 0.4, of: 'macs', calib, seed: 1 });
    let d = g;
    for (const c of r.chosen) d = decomposeLayer(d, c.layer, c.kind, c.ranks).graph;
    const frac = networkCost(d, 'macs') / networkCost(g, 'macs');
    console.log(`# budget 0.4: kept ${frac.toFixed(3)} of MACs; ${r.chosen.map((c) => `${c.layer} ${c.ranks.join('x')}`).join(', ')}`);
    assert.ok(frac <= 0.4, `kept ${frac}`);
    // Every rung's measured error is non-negative and the "as is" rung has none.
    for (const ladder of Object.values(r.sensitivity)) assert.equal(ladder[0].error, 0);
  });
});

describe('Two-Pass refit', () => {
  it('a CP layer with a corrupted output factor is restored by the least-squares refit (output error <= 1e-4)', async () => {
    const rng = new Rng(8);
    const [S, T] = [6, 8];
    const f = [randn(rng, 9), randn(rng, 9), randn(rng, S * 3), randn(rng, T * 3)];
    const K = new Float32Array(9 * S * T);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) for (let r = 0; r < 3; r++) K[((i * 3 + j) * S + s) * T + t] += f[0][i * 3 + r] * f[1][j * 3 + r] * f[2][s * 3 + r] * f[3][t * 3 + r];
    const c: ConvCase = { S, T, k: 3, strides: [1, 1], padding: 'same' };
    const base = convGraph(c, 9, K);
    const d = decomposeLayer(base, 'c', 'cp', [3], { seed: 1 }).graph;
    const out = nodesOfLayer(d, 'c').at(-1)!;
    const broken = withWeights(d, out.id, { kernel: randn(rng, 3 * T), bias: randn(rng, T) });
    const calib = { x: randn(rng, 16 * 121 * S), n: 16 };
    const r = await refitLayer(base, broken, 'c', calib, 1e-9);
    console.log(`# refit: output error ${r.info.before.toFixed(4)} -> ${r.info.after.toExponential(2)}`);
    assert.ok(r.info.before > 0.5);
    assert.ok(r.info.after <= 1e-4, `after ${r.info.after}`);
  });
});
