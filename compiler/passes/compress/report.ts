// The per-layer compression report: ranks, params and MACs before/after (the IR's own counts per
// origin), kernel reconstruction error, refit error, and why each rank was chosen.
import type { Plan } from '../../contracts/plan.js';
import { graphStats, statsByOrigin } from '../../ir/graph.js';
import type { Graph } from '../../ir/types.js';
import type { Quality } from '../../train/evaluate.js';
import { ranksOf } from '../decompose/apply.js';
import type { StageResult } from './compress.js';

export interface LayerRow {
  readonly layer: string;
  readonly kind: string;
  readonly ranks: readonly number[];
  readonly paramsBefore: number;
  readonly paramsAfter: number;
  readonly macsBefore: number;
  readonly macsAfter: number;
  /** Kernel reconstruction error of the last (re-)decomposition. */
  readonly kernelError?: number;
  /** Output error on calibration images after the Two-Pass refit. */
  readonly refitError?: number;
  readonly frozen: boolean;
  readonly reason: string;
}

export interface Totals {
  readonly params: number;
  readonly macs: number;
  readonly quality?: Quality;
}

export interface CompressionReport {
  readonly model: string;
  readonly command: string;
  readonly seed: number;
  readonly before: Totals;
  readonly after: Totals;
  readonly paramsReduction: number;
  readonly macsReduction: number;
  readonly layers: readonly LayerRow[];
  readonly skipped: readonly { layer: string; reason: string }[];
  readonly stages: readonly { stage: number; seconds: number; params: number; macs: number; quality?: Quality; layers: string[] }[];
}

export function compressionReport(base: Graph, final: Graph, plan: Plan, stages: readonly StageResult[], o: { command: string; baseQuality?: Quality }): CompressionReport {
  const before = statsByOrigin(base);
  const after = statsByOrigin(final);
  const lastInfo = new Map<string, number>();
  const lastRefit = new Map<string, number>();
  for (const s of stages) {
    for (const d of s.decompositions) lastInfo.set(d.layer, d.relError);
    for (const r of s.refits) lastRefit.set(r.layer, r.after);
  }
  const layers: LayerRow[] = Object.values(plan.layers)
    .filter((l) => l.decomposition)
    .map((l) => ({
      layer: l.layer,
      kind: l.decomposition!.kind,
      ranks: ranksOf(l.decomposition!),
      paramsBefore: before.get(l.layer)?.params ?? 0,
      paramsAfter: after.get(l.layer)?.params ?? 0,
      macsBefore: before.get(l.layer)?.macs ?? 0,
      macsAfter: after.get(l.layer)?.macs ?? 0,
      ...(lastInfo.has(l.layer) ? { kernelError: lastInfo.get(l.layer) } : {}),
      ...(lastRefit.has(l.layer) ? { refitError: lastRefit.get(l.layer) } : {}),
      frozen: !!l.frozen,
      reason: l.reason ?? '',
    }));
  const decomposed = new Set(layers.map((l) => l.layer));
  const skipped = new Map<string, string>();
  for (const s of stages) for (const k of s.choice.skipped) if (!decomposed.has(k.layer)) skipped.set(k.layer, k.reason);
  const bs = graphStats(base);
  const fs = graphStats(final);
  const last = stages.at(-1);
  return {
    model: base.name,
    command: o.command,
    seed: plan.seed,
    before: { params: bs.totalParams, macs: bs.totalMacs, ...(o.baseQuality ? { quality: o.baseQuality } : {}) },
    after: { params: fs.totalParams, macs: fs.totalMacs, ...(last?.quality ? { quality: last.quality } : {}) },
    paramsReduction: bs.totalParams / fs.totalParams,
    macsReduction: bs.totalMacs / fs.totalMacs,
    layers,
    skipped: [...skipped].map(([layer, reason]) => ({ layer, reason })),
    stages: stages.map((s) => ({ stage: s.stage, seconds: s.seconds, params: s.params, macs: s.macs, ...(s.quality ? { quality: s.quality } : {}), layers: s.decompositions.map((d) => d.layer) })),
  };
}
