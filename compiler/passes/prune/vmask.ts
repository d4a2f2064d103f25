// Variational channel masks (SEEDS §4; Kingma et al. 2015, Molchanov et al. 2017): every batchNorm of a
// prunable group gets a learned per-channel log alpha; in training its output (scale AND shift) is
// multiplied by N(1, alpha) noise (train/executor.ts), and the penalty is the KL divergence to the
// log-uniform prior in Molchanov's approximation
//   -KL(alpha) ≈ k1·σ(k2 + k3·log alpha) - 0.5·log(1 + 1/alpha) - k1,
// whose gradient the regularizer adds in the main thread. A channel whose dropout rate
// p = alpha / (1 + alpha) exceeds the threshold carries mostly noise: it is pruned.
import { type Graph, type Node, OpKind } from '../../ir/types.js';
import type { Regularizer } from '../../train/trainer.js';
import { type ChannelGroups, prunableBatchNorms } from './groups.js';

const K1 = 0.63576;
const K2 = 1.8732;
const K3 = 1.48695;
/** log alpha is kept in this range (Molchanov et al. clip it too; beyond, the KL is flat). */
export const LOG_ALPHA_RANGE = [-8, 8] as const;

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** KL(alpha) of one channel (approximation above), >= 0 up to the approximation's error. */
export function maskKl(logAlpha: number): number {
  return -(K1 * sigmoid(K2 + K3 * logAlpha) - 0.5 * Math.log1p(Math.exp(-logAlpha)) - K1);
}

/** d KL / d log alpha (negative: the penalty pushes alpha up, towards dropping the channel). */
export function maskKlGrad(logAlpha: number): number {
  const s = sigmoid(K2 + K3 * logAlpha);
  return -(K1 * K3 * s * (1 - s) + 0.5 * sigmoid(-logAlpha));
}

/** The graph with a variational mask on every prunable batchNorm, log alpha = init everywhere. */
export function addMasks(graph: Graph, groups: ChannelGroups, init = -4): Graph {
  // masks go on the batchNorms of prunable groups
  const ids = prunableBatchNorms(graph, groups);
  if (ids.size === 0) throw new Error('vmask: no batchNorm on a prunable channel group to carry a mask (use --criterion l1)');
  return {
    ...graph,
    nodes: graph.nodes.map((n): Node => {
      if (!ids.has(n.id) || n.op !== OpKind.BatchNorm) return n;
      const c = n.weights.gamma.shape[0];
      return { ...n, attrs: { ...n.attrs, mask: 'variational' }, weights: { ...n.weights, logAlpha: { dtype: 'float32', shape: [c], data: new Float32Array(c).fill(init) } } };
    }),
  };
}

/** The graph without masks (plain batchNorms: the inference semantics are unchanged). */
export function stripMasks(graph: Graph): Graph {
  return {
    ...graph,
    nodes: graph.nodes.map((n): Node => {
      if (n.op !== OpKind.BatchNorm || n.attrs.mask === undefined) return n;
      const { mask: _m, ...attrs } = n.attrs;
      const { logAlpha: _l, ...weights } = n.weights;
      return { ...n, attrs, weights };
    }),
  };
}

/**
 * The KL penalty, λ·Σ KL(alpha_c) per step, and a learning-rate multiplier for log alpha (the masks start
 * far from their final values, and the fine-tuning learning rate is sized for weights).
 */
export function vmaskRegularizer(lambda: number, lrScale = 100): Regularizer {
  if (!(lambda >= 0)) throw new Error(`vmask: lambda ${lambda} must be >= 0`);
  return {
    name: `vmask KL λ=${lambda} lr×${lrScale}`,
    grad(params, grad, layout) {
      for (const s of layout.slots) {
        if (s.name !== 'logAlpha' || !s.trainable) continue;
        for (let i = s.offset; i < s.offset + s.length; i++) grad[i] = lrScale * (grad[i] + lambda * maskKlGrad(params[i]));
      }
    },
    prox(params, layout) {
      for (const s of layout.slots) {
        if (s.name !== 'logAlpha') continue;
        for (let i = s.offset; i < s.offset + s.length; i++) params[i] = Math.min(LOG_ALPHA_RANGE[1], Math.max(LOG_ALPHA_RANGE[0], params[i]));
      }
    },
  };
}

/** Kept channels: dropout rate alpha/(1+alpha) <= threshold (at least minChannels, the most certain). */
export function keptByDropoutRate(graph: Graph, groups: ChannelGroups, threshold: number, minChannels = 1): Map<string, number[]> {
  if (!(threshold > 0 && threshold < 1)) throw new Error(`vmask: dropout-rate threshold ${threshold} must be in (0, 1)`);
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const kept = new Map<string, number[]>();
  for (const g of groups.groups) {
    if (g.fixed) continue;
    const bns = g.perChannel.map((u) => byId.get(u.node)!).filter((n) => n.op === OpKind.BatchNorm && n.weights.logAlpha);
    if (bns.length === 0) continue;
    // a channel's rate: the smallest over its BNs (it stays if any BN still needs it)
    const rate = Array.from({ length: g.size }, (_, c) => Math.min(...bns.map((n) => sigmoid((n.weights.logAlpha.data as Float32Array)[c]))));
    let keep = rate.map((p, c) => (p <= threshold ? c : -1)).filter((c) => c >= 0);
    if (keep.length < minChannels) keep = rate.map((p, c) => [p, c]).sort((a, b) => a[0] - b[0]).slice(0, minChannels).map((x) => x[1]).sort((a, b) => a - b);
    if (keep.length < g.size) kept.set(g.id, keep);
  }
  return kept;
}
