// Budgeted rank allocation (seed 000's rank selection): a whole-network MAC or parameter budget is
// spent where the network is least sensitive. Each candidate layer is decomposed alone at a ladder
// of ranks; its sensitivity is the relative error of the network output on calibration images.
// Then, greedily, the move (one layer one rung down) with the least added error per unit of cost
// saved is taken until the budget is met. Cost is a function, so the loop can pass measured latency.
import { decomposedCost, originalCost } from '../decompose/cost.js';
import { decomposeLayer } from '../decompose/decompose.js';
import type { DecompositionKind, LayerGeometry } from '../decompose/layers.js';
import { candidates, currentRanks, type LayerChoice, type LayerSkip, type Method, networkCost, type RankChoice } from '../decompose/ranks.js';
import { type Graph, IrError, OpKind } from '../../ir/types.js';
import { type ProgressFn, throwIfAborted } from '../../util/progress.js';
import { relativeError } from '../decompose/tensor.js';
import { type Calibration, valuesOf } from './refit.js';

/** Cost of a layer in some form: undefined ranks = left as it is. */
export type LayerCostFn = (g: LayerGeometry, kind: DecompositionKind | undefined, ranks: readonly number[] | undefined) => number;

export const macsCost: LayerCostFn = (g, kind, ranks) => (kind && ranks ? decomposedCost(g, kind, ranks).macs : originalCost(g).macs);
export const paramsCost: LayerCostFn = (g, kind, ranks) => (kind && ranks ? decomposedCost(g, kind, ranks).params : originalCost(g).params);

/** Keep-fractions of the full rank tried per layer. */
export const RANK_LADDER = [0.75, 0.5, 0.375, 0.25, 0.1875, 0.125, 0.09375, 0.0625] as const;

export interface BudgetOptions {
  readonly method: Method;
  /** Fraction of the network's cost to keep, e.g. 0.25. */
  readonly fraction: number;
  readonly of: 'macs' | 'params';
  readonly calib: Calibration;
  readonly layers?: readonly string[];
  readonly cost?: LayerCostFn;
  readonly seed?: number;
  readonly cpMaxIter?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
}

interface Rung {
  readonly ranks: readonly number[] | undefined;
  readonly cost: number;
  readonly error: number;
}

/** The value compared for sensitivity: the logits when the graph ends in a softmax. */
export function sensitivityOutput(graph: Graph): string {
  const last = graph.nodes.find((n) => n.id === graph.outputs[0]);
  return last?.op === OpKind.Softmax ? last.inputs[0] : graph.outputs[0];
}

export async function budgetRanks(graph: Graph, o: BudgetOptions): Promise<RankChoice & { sensitivity: Record<string, { ranks: number[]; cost: number; error: number }[]> }> {
  const cost = o.cost ?? (o.of === 'macs' ? macsCost : paramsCost);
  const { cands, skipped } = candidates(graph, o.method, { layers: o.layers });
  const out = sensitivityOutput(graph);
  const [ref] = await valuesOf(graph, o.calib, [out]);
  const ladders: Rung[][] = [];
  const total = cands.length * RANK_LADDER.length;
  let done = 0;
  for (const c of cands) {
    const full = currentRanks(c.form, c.kind);
    const here = c.form.kind === 'original' ? cost(c.form.geometry, undefined, undefined) : cost(c.form.geometry, c.kind, c.form.ranks);
    const rungs: Rung[] = [{ ranks: undefined, cost: here, error: 0 }];
    const seen = new Set<string>();
    for (const rho of RANK_LADDER) {
      throwIfAborted(o.signal);
      const ranks = full.map((r) => Math.max(1, Math.round(rho * r)));
      const key = ranks.join('x');
      const cst = cost(c.form.geometry, c.kind, ranks);
      done++;
      if (seen.has(key) || cst >= rungs.at(-1)!.cost) continue;
      seen.add(key);
      const g = decomposeLayer(graph, c.layer, c.kind, ranks, { seed: o.seed, cpMaxIter: o.cpMaxIter, signal: o.signal }).graph;
      const [y] = await valuesOf(g, o.calib, [sensitivityOutput(g)]);
      rungs.push({ ranks, cost: cst, error: relativeError(y, ref) });
      o.onProgress?.({ phase: 'sensitivity', done, total, message: `${c.layer} ${key}` });
    }
    ladders.push(rungs);
  }
  // Greedy descent: smallest added error per unit of cost saved first.
  const netBefore = networkCost(graph, o.of);
  const candidateCost = ladders.reduce((a, l) => a + l[0].cost, 0);
  // With the IR's own measure the budget is over the whole network; with a custom cost (e.g. measured
  // latency) it is over the candidate layers, the only ones that cost function is asked about.
  const fixed = o.cost ? 0 : netBefore - candidateCost;
  const target = o.fraction * (fixed + candidateCost);
  const at = ladders.map(() => 0);
  const spent = () => fixed + ladders.reduce((a, l, i) => a + l[at[i]].cost, 0);
  while (spent() > target) {
    let best = -1;
    let bestScore = Infinity;
    ladders.forEach((l, i) => {
      if (at[i] + 1 >= l.length) return;
      const score = (l[at[i] + 1].error - l[at[i]].error) / (l[at[i]].cost - l[at[i] + 1].cost);
      if (score < bestScore) {
        bestScore = score;
        best = i;
      }
    });
    if (best < 0) throw new IrError(`budget ${o.of} = ${o.fraction} is unreachable with ${o.method}: at the lowest ranks tried the network keeps ${(spent() / (fixed + candidateCost)).toFixed(3)} of its ${o.of}`);
    at[best]++;
  }
  const chosen: LayerChoice[] = [];
  const skip: LayerSkip[] = [...skipped];
  cands.forEach((c, i) => {
    const rung = ladders[i][at[i]];
    const sens = ladders[i].map((r) => `${r.ranks ? r.ranks.join('x') : 'as is'}:${r.error.toFixed(4)}`).join(' ');
    if (!rung.ranks) {
      skip.push({ layer: c.layer, reason: `budget kept it as is (sensitivity ${sens})` });
      return;
    }
    const before = c.form.kind === 'original' ? originalCost(c.form.geometry) : decomposedCost(c.form.geometry, c.kind, c.form.ranks);
    chosen.push({ layer: c.layer, kind: c.kind, ranks: rung.ranks, reason: `budget ${o.of}=${o.fraction}: output error ${rung.error.toFixed(4)} alone (ladder ${sens})`, before, after: decomposedCost(c.form.geometry, c.kind, rung.ranks) });
  });
  const sensitivity = Object.fromEntries(cands.map((c, i) => [c.layer, ladders[i].map((r) => ({ ranks: r.ranks ? [...r.ranks] : [], cost: r.cost, error: r.error }))]));
  return { chosen, skipped: skip, sensitivity };
}
