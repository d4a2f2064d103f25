// The per-layer pruning report: output channels, params and MACs before/after (the IR's own counts
// per origin), why, network totals, quality, and host latency next to the MAC ratio.
import type { Plan } from '../../contracts/plan.js';
import { graphStats, statsByOrigin } from '../../ir/graph.js';
import type { Graph } from '../../ir/types.js';
import type { Quality } from '../../train/evaluate.js';
import type { FoldRecord } from './apply.js';

export interface PruneLayerRow {
  readonly layer: string;
  readonly channelsBefore: number;
  readonly channelsAfter: number;
  readonly paramsBefore: number;
  readonly paramsAfter: number;
  readonly macsBefore: number;
  readonly macsAfter: number;
  readonly reason: string;
}

export interface Latency {
  readonly batch: number;
  readonly runs: number;
  readonly beforeMs: number;
  readonly afterMs: number;
  /** beforeMs / afterMs: the measured speed-up, to set against macsReduction. */
  readonly speedup: number;
  readonly backend: string;
}

export interface PruneReport {
  readonly model: string;
  readonly command: string;
  readonly seed: number;
  readonly criterion: string;
  readonly before: { readonly params: number; readonly macs: number; readonly quality?: Quality };
  readonly after: { readonly params: number; readonly macs: number; readonly quality?: Quality };
  /** before / after */
  readonly paramsReduction: number;
  readonly macsReduction: number;
  readonly layers: readonly PruneLayerRow[];
  readonly folds: readonly FoldRecord[];
  readonly steps: readonly { step: number; params: number; macs: number; quality?: Quality }[];
  readonly latency?: Latency;
}

export function pruneReport(
  base: Graph,
  final: Graph,
  plan: Plan,
  o: { command: string; criterion: string; baseQuality?: Quality; quality?: Quality; folds: readonly FoldRecord[]; steps: PruneReport['steps']; latency?: Latency },
): PruneReport {
  const before = statsByOrigin(base);
  const after = statsByOrigin(final);
  const layers: PruneLayerRow[] = [];
  for (const [layer, b] of before) {
    const a = after.get(layer) ?? { params: 0, macs: 0, channels: 0 };
    if (a.params === b.params && a.macs === b.macs) continue;
    layers.push({
      layer,
      channelsBefore: b.channels,
      channelsAfter: a.channels,
      paramsBefore: b.params,
      paramsAfter: a.params,
      macsBefore: b.macs,
      macsAfter: a.macs,
      reason: plan.layers[layer]?.reason ?? (after.has(layer) ? 'its channel group or inputs were pruned' : 'removed with its residual branch (depth-wise)'),
    });
  }
  const sb = graphStats(base);
  const sa = graphStats(final);
  return {
    model: base.name,
    command: o.command,
    seed: plan.seed,
    criterion: o.criterion,
    before: { params: sb.totalParams, macs: sb.totalMacs, quality: o.baseQuality },
    after: { params: sa.totalParams, macs: sa.totalMacs, quality: o.quality },
    paramsReduction: sb.totalParams / sa.totalParams,
    macsReduction: sb.totalMacs / sa.totalMacs,
    layers,
    folds: o.folds,
    steps: o.steps,
    latency: o.latency,
  };
}
