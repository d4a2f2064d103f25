// Which channels to keep for a whole-network target: one global order of channels by importance
// (normalised per group for the norm criteria, whose scales differ from layer to layer; raw for BN
// gamma and mask keep-probabilities, which are comparable across layers), and the fewest removals from
// the front of that order that meet the target, found by bisection on the exact cost of the pruned
// graph (the IR's own params/MAC count). Every group keeps at least `minChannels`.
import { graphStats } from '../../ir/graph.js';
import { type Graph } from '../../ir/types.js';
import type { LayerPlan } from '../../contracts/plan.js';
import { pruneChannels } from './apply.js';
import { type ChannelGroups, channelGroups } from './groups.js';
import type { Criterion } from './importance.js';

/** Fractions of the original that may remain, e.g. { params: 0.1, macs: 0.3 }. */
export interface PruneTarget {
  readonly params?: number;
  readonly macs?: number;
}

/** "params=0.1", "macs=0.3" or both, comma-separated. */
export function parsePruneTarget(spec: string): PruneTarget {
  const out: { params?: number; macs?: number } = {};
  for (const part of spec.split(',')) {
    const m = /^\s*(params|macs)\s*=\s*([0-9.eE+-]+)\s*$/.exec(part);
    if (!m) throw new Error(`--target '${spec}': expected params=F and/or macs=F (F = fraction of the original that remains, e.g. params=0.1,macs=0.3)`);
    const v = Number(m[2]);
    if (!Number.isFinite(v) || v <= 0 || v > 1) throw new Error(`--target ${m[1]}=${m[2]}: the remaining fraction must be in (0, 1]${v === 0 ? ' (0 would remove every channel)' : ''}`);
    out[m[1] as 'params' | 'macs'] = v;
  }
  return out;
}

export const formatTarget = (t: PruneTarget): string =>
  [t.params !== undefined ? `params=${t.params}` : '', t.macs !== undefined ? `macs=${t.macs}` : ''].filter(Boolean).join(',');

/**
 * Throws when the target cannot be met even with `minChannels` left in every prunable group (whatever
 * the criterion), with the numbers.
 */
export function checkReachable(graph: Graph, target: PruneTarget, minChannels = 1): void {
  const base = graphStats(graph);
  const kept = new Map<string, number[]>();
  for (const g of channelGroups(graph).groups) if (!g.fixed && g.size > minChannels) kept.set(g.id, Array.from({ length: minChannels }, (_, i) => i));
  const most = graphStats(pruneChannels(graph, kept, { fold: false }).graph);
  const ok = (target.params === undefined || most.totalParams <= target.params * base.totalParams) && (target.macs === undefined || most.totalMacs <= target.macs * base.totalMacs);
  if (ok) return;
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(2)}%`;
  throw new Error(
    `prune target ${formatTarget(target)} cannot be met: even with ${minChannels} channel${minChannels > 1 ? 's' : ''} left in every prunable group the model keeps ` +
      `${most.totalParams} params (${pct(most.totalParams, base.totalParams)}) and ${most.totalMacs} MACs (${pct(most.totalMacs, base.totalMacs)}); pruning further would remove every channel of a layer`,
  );
}

export interface Selection {
  /** Kept channel indices per pruned group id (groups keeping everything are absent). */
  readonly kept: Map<string, number[]>;
  readonly params: number;
  readonly macs: number;
}

interface Ranked {
  readonly group: string;
  readonly channel: number;
  readonly score: number;
}

function normalised(criterion: Criterion, scores: Float64Array): Float64Array {
  if (criterion === 'slim' || criterion === 'vmask') return scores;
  let mean = 0;
  for (const v of scores) mean += v / scores.length;
  return mean > 0 ? scores.map((v) => v / mean) : scores;
}

/** The channels to keep so that the pruned graph meets `target`. */
export function selectChannels(
  graph: Graph,
  importance: ReadonlyMap<string, Float64Array>,
  criterion: Criterion,
  target: PruneTarget,
  opts: { minChannels?: number } = {},
): Selection {
  const minChannels = opts.minChannels ?? 1;
  if (!Number.isInteger(minChannels) || minChannels < 1) throw new Error(`minChannels ${minChannels} must be an integer >= 1`);
  const base = graphStats(graph);
  const ranked: Ranked[] = [];
  const sizes = new Map<string, number>();
  for (const [group, scores] of importance) {
    sizes.set(group, scores.length);
    normalised(criterion, scores).forEach((score, channel) => ranked.push({ group, channel, score }));
  }
  ranked.sort((a, b) => a.score - b.score || (a.group < b.group ? -1 : a.group > b.group ? 1 : a.channel - b.channel));
  // removal order honouring minChannels: a channel is skipped once its group is down to the minimum
  const order: Ranked[] = [];
  const left = new Map(sizes);
  for (const r of ranked) {
    if (left.get(r.group)! <= minChannels) continue;
    left.set(r.group, left.get(r.group)! - 1);
    order.push(r);
  }
  const keptAfter = (k: number): Map<string, number[]> => {
    const gone = new Map<string, Set<number>>();
    for (const r of order.slice(0, k)) {
      if (!gone.has(r.group)) gone.set(r.group, new Set());
      gone.get(r.group)!.add(r.channel);
    }
    const kept = new Map<string, number[]>();
    for (const [g, set] of gone) kept.set(g, Array.from({ length: sizes.get(g)! }, (_, i) => i).filter((i) => !set.has(i)));
    return kept;
  };
  const cost = (k: number) => {
    const s = graphStats(pruneChannels(graph, keptAfter(k), { fold: false }).graph);
    return { params: s.totalParams, macs: s.totalMacs };
  };
  const meets = (c: { params: number; macs: number }) =>
    (target.params === undefined || c.params <= target.params * base.totalParams) && (target.macs === undefined || c.macs <= target.macs * base.totalMacs);
  if (!meets(cost(order.length))) checkReachable(graph, target, minChannels);
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (meets(cost(mid))) hi = mid;
    else lo = mid + 1;
  }
  const c = cost(lo);
  return { kept: keptAfter(lo), params: c.params, macs: c.macs };
}

/** Plan entries (one per producing layer) recording a selection. */
export function selectionPlan(graph: Graph, groups: ChannelGroups, kept: ReadonlyMap<string, readonly number[]>, reason: string): Record<string, LayerPlan> {
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const layers: Record<string, LayerPlan> = {};
  for (const g of groups.groups) {
    const k = kept.get(g.id);
    if (!k) continue;
    const tied = g.producers.length > 1 ? `, tied with ${g.producers.join(', ')}` : '';
    for (const p of g.producers) {
      const layer = byId.get(p)!.origin;
      layers[layer] = { layer, keptChannels: [...k], reason: `${reason}: kept ${k.length}/${g.size} channels${tied}` };
    }
  }
  return layers;
}
