// Sparsity training penalties, applied by the trainer on the flat parameters (train/trainer.ts Regularizer):
//   slim (Liu et al. 2017): λ Σ |gamma| over the batchNorms of prunable groups, as a proximal step
//     (soft-thresholding), so unimportant channels reach gamma = 0 exactly rather than hovering near it;
//   ssl (Wen et al. 2016, SEEDS §3): group lasso λ Σ_g ||w_g||_2 with the groups
//     filter-wise  (one producer output filter W[..., c]),
//     channel-wise (one consumer input channel W[:, :, c, :], or a dense layer's rows of channel c),
//     shape-wise   (one kernel position and input channel W[i, j, c, :]: an im2col column),
//     depth-wise   (every kernel of a residual branch, so a whole block can go),
//   each applied as the group soft-threshold w_g <- w_g · max(0, 1 - lr·λ/||w_g||) after the optimizer step.
// Only weights whose removal pruning can realise are penalised (prunable groups, residual branches).
import { type Graph, type Node, OpKind } from '../../ir/types.js';
import type { ParamLayout } from '../../train/flat-params.js';
import type { Regularizer } from '../../train/trainer.js';
import { channelOfRow, type ChannelGroups, prunableBatchNorms } from './groups.js';

/** Indices into the flat parameter array, one array per lasso group. */
type IndexGroups = Int32Array[];

function slot(layout: ParamLayout, node: string, name: string) {
  const s = layout.slots.find((x) => x.node === node && x.name === name);
  if (!s) throw new Error(`no parameter ${node}.${name} in the training layout`);
  return s;
}

export function slimRegularizer(graph: Graph, groups: ChannelGroups, lambda: number): Regularizer {
  if (!(lambda >= 0)) throw new Error(`slim: lambda ${lambda} must be >= 0`);
  const bns = prunableBatchNorms(graph, groups);
  if (bns.size === 0) throw new Error('slim: no batchNorm on a prunable channel group (use --criterion l1 or ssl)');
  return {
    name: `slim λ=${lambda} on ${[...bns].join(',')}`,
    prox(params, layout, lr) {
      const t = lr * lambda;
      for (const id of bns) {
        const s = slot(layout, id, 'gamma');
        for (let i = s.offset; i < s.offset + s.length; i++) {
          const v = params[i];
          params[i] = v > t ? v - t : v < -t ? v + t : 0;
        }
      }
    },
  };
}

export interface SslGroups {
  readonly filter?: boolean;
  readonly channel?: boolean;
  readonly shape?: boolean;
  readonly depth?: boolean;
}

/** The residual branches of a graph: per two-input add, the input side holding more convs (its conv/dense ids). */
export function residualBranches(graph: Graph): { add: string; nodes: string[] }[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const ancestors = (v: string, acc = new Set<string>()): Set<string> => {
    const n = byId.get(v);
    if (!n || acc.has(v)) return acc;
    acc.add(v);
    for (const i of n.inputs) ancestors(i, acc);
    return acc;
  };
  const out: { add: string; nodes: string[] }[] = [];
  for (const n of graph.nodes) {
    if (n.op !== OpKind.Add || n.inputs.length !== 2) continue;
    const [a, b] = n.inputs.map((v) => ancestors(v));
    const own = (x: Set<string>, y: Set<string>) => graph.nodes.filter((m) => x.has(m.id) && !y.has(m.id)).map((m) => m.id);
    const sides = [own(a, b), own(b, a)];
    const convs = (ids: string[]) => ids.filter((id) => byId.get(id)!.op === OpKind.Conv2d || byId.get(id)!.op === OpKind.Dense).length;
    const branch = convs(sides[0]) >= convs(sides[1]) ? sides[0] : sides[1];
    if (convs(branch) > 0) out.push({ add: n.id, nodes: branch });
  }
  return out;
}

function sslGroups(graph: Graph, groups: ChannelGroups, layout: ParamLayout, which: SslGroups): IndexGroups {
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const out: IndexGroups = [];
  const kernelOf = (n: Node) => {
    const s = slot(layout, n.id, 'kernel');
    const shape = n.weights.kernel.shape;
    const cout = shape[shape.length - 1];
    const cin = shape[shape.length - 2];
    return { offset: s.offset, cout, cin, taps: s.length / (cin * cout) };
  };
  for (const g of groups.groups) {
    if (g.fixed) continue;
    if (which.filter) {
      for (const p of g.producers) {
        const k = kernelOf(byId.get(p)!);
        for (let c = 0; c < k.cout; c++) out.push(Int32Array.from({ length: k.taps * k.cin }, (_, i) => k.offset + i * k.cout + c));
      }
    }
    if (which.channel || which.shape) {
      for (const u of g.consumers) {
        const n = byId.get(u.node)!;
        const k = kernelOf(n);
        const rows = new Map<number, number[]>();
        for (let r = 0; r < k.cin; r++) {
          const at = channelOfRow(u.map, r);
          if (groups.groupOfSpace.get(at.space) !== g) continue;
          rows.set(at.channel, [...(rows.get(at.channel) ?? []), r]);
        }
        for (const rs of rows.values()) {
          const idx = (t: number, r: number) => Array.from({ length: k.cout }, (_, o) => k.offset + (t * k.cin + r) * k.cout + o);
          if (which.channel) out.push(Int32Array.from(rs.flatMap((r) => Array.from({ length: k.taps }, (_, t) => idx(t, r)).flat())));
          if (which.shape && n.op === OpKind.Conv2d) for (const r of rs) for (let t = 0; t < k.taps; t++) out.push(Int32Array.from(idx(t, r)));
        }
      }
    }
  }
  if (which.depth) {
    for (const b of residualBranches(graph)) {
      const idx: number[] = [];
      for (const id of b.nodes) {
        const n = byId.get(id)!;
        if (n.op !== OpKind.Conv2d && n.op !== OpKind.Dense) continue;
        const s = slot(layout, id, 'kernel');
        for (let i = 0; i < s.length; i++) idx.push(s.offset + i);
      }
      out.push(Int32Array.from(idx));
    }
  }
  return out;
}

export function sslRegularizer(graph: Graph, groups: ChannelGroups, lambda: number, which: SslGroups = { filter: true, channel: true }): Regularizer {
  if (!(lambda >= 0)) throw new Error(`ssl: lambda ${lambda} must be >= 0`);
  const names = (Object.keys(which) as (keyof SslGroups)[]).filter((k) => which[k]);
  if (names.length === 0) throw new Error('ssl: choose at least one of filter, channel, shape, depth groups');
  let cached: { layout: ParamLayout; groups: IndexGroups } | undefined;
  return {
    name: `ssl λ=${lambda} ${names.join('+')}`,
    prox(params, layout, lr) {
      if (cached?.layout !== layout) cached = { layout, groups: sslGroups(graph, groups, layout, which) };
      const t = lr * lambda;
      for (const g of cached.groups) {
        let s = 0;
        for (const i of g) s += params[i] * params[i];
        const norm = Math.sqrt(s);
        // weight λ by sqrt(group size) (Yuan & Lin's group lasso), so big and small groups are comparable
        const shrink = norm > 0 ? Math.max(0, 1 - (t * Math.sqrt(g.length)) / norm) : 0;
        if (shrink === 1) continue;
        for (const i of g) params[i] = shrink === 0 ? 0 : params[i] * shrink;
      }
    },
  };
}
