// compressed Graph = apply(base Graph, Plan), for the decomposition part of a Plan.
import type { Decomposition, Plan } from '../../contracts/plan.js';
import type { Graph } from '../../ir/types.js';
import { type ProgressFn, throwIfAborted } from '../../util/progress.js';
import { type DecomposeInfo, type DecomposeOptions, decomposeLayer } from './decompose.js';
import type { DecompositionKind } from './layers.js';

export const ranksOf = (d: Decomposition): number[] => (d.kind === 'tucker2' ? [...d.ranks] : [d.rank]);

export function decompositionOf(kind: DecompositionKind, ranks: readonly number[]): Decomposition {
  return kind === 'tucker2' ? { kind, ranks: [ranks[0], ranks[1]] } : { kind, rank: ranks[0] };
}

/** Decomposes (or re-compresses) every layer the Plan gives a decomposition, in graph order. */
export function applyDecompositions(graph: Graph, plan: Plan, opts: DecomposeOptions & { onProgress?: ProgressFn } = {}): { graph: Graph; infos: DecomposeInfo[] } {
  const layers = Object.values(plan.layers).filter((l) => l.decomposition);
  const infos: DecomposeInfo[] = [];
  let g = graph;
  layers.forEach((l, i) => {
    throwIfAborted(opts.signal);
    const d = l.decomposition!;
    const r = decomposeLayer(g, l.layer, d.kind, ranksOf(d), { seed: plan.seed, ...opts });
    g = r.graph;
    infos.push(r.info);
    opts.onProgress?.({ phase: 'decompose', done: i + 1, total: layers.length, message: l.layer });
  });
  return { graph: g, infos };
}
