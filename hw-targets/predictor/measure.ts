// Measures a population of variants (variants.ts) on a Target: PTQ each variant (int8), load it, time one
// input with warm-up and repeats, keep per node the median (or minimum) time and the features. Variants whose blob exceeds
// the size cap (the board's slot, or a smaller cap to keep the upload time down) are skipped and listed, and
// the next index is drawn, so the dataset still gets `count` variants.
import type { Report } from '../../compiler/contracts/report.js';
import type { CompiledModel, RunOptions, Target } from '../../compiler/contracts/target.js';
import type { Graph } from '../../compiler/ir/types.js';
import { type CalibrationSet, DEFAULT_QUANTIZE, quantizeGraph } from '../../compiler/passes/quantize/quantize.js';
import { type ProgressFn, throwIfAborted } from '../../compiler/util/progress.js';
import { writeBlob } from '../blob/write.js';
import { quantileSorted } from '../targets/stats.js';
import type { DatasetLayer, DatasetVariant } from './dataset.js';
import { inputZeroFractions, layerFeatures, nodeLevel } from './features.js';
import { makeVariant, type Variant } from './variants.js';

export interface MeasureOptions {
  readonly seed: number;
  readonly count: number;
  /** Calibration images for PTQ (batch-major NHWC). */
  readonly calib: CalibrationSet;
  /** The one timed input (NHWC, one sample). */
  readonly input: Float32Array;
  readonly warmup: number;
  readonly repeats: number;
  /** What one number per node (and the total) is: the median of the repeats, or their minimum, which on a shared
   * machine is the better estimate (interference — other processes, GC — only ever adds time). */
  readonly statistic: Statistic;
  /** Skip variants whose blob is larger (bytes); undefined = no cap. */
  readonly maxBlobBytes?: number;
  /** Whether the target takes a blob (a board): then the blob is written once and its size recorded. */
  readonly blob: boolean;
  /** Variants already measured (resume): their ids are not measured again. */
  readonly done?: ReadonlySet<string>;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  /** After each measured (or skipped) variant. */
  readonly onVariant?: (v: DatasetVariant | undefined, skipped?: { id: string; reason: string }) => void;
  /** After each run: the variant's float graph, the int8 graph that ran and the target's Report (e.g. to store it). */
  readonly onRun?: (v: Variant, ran: Graph, report: Report) => void;
  /** Give up when this many indices in a row were skipped (a cap nothing fits). */
  readonly maxSkipsInARow?: number;
}

export type Statistic = 'median' | 'min';
const STAT: Record<Statistic, (xs: readonly number[]) => number> = {
  median: (xs) => quantileSorted(Float64Array.from(xs).sort(), 0.5),
  min: (xs) => Math.min(...xs),
};

/** Measures variants until `count` are measured (including `done`); returns the new ones. */
export async function measureVariants(target: Target, o: MeasureOptions): Promise<DatasetVariant[]> {
  const out: DatasetVariant[] = [];
  const stat = STAT[o.statistic];
  let have = o.done?.size ?? 0;
  let skipsInARow = 0;
  for (let index = 0; have < o.count; index++) {
    throwIfAborted(o.signal);
    const v = makeVariant(o.seed, index);
    if (o.done?.has(v.id)) continue;
    // Every node its own origin: the Report then has one row per node, which is what the features describe.
    let model: CompiledModel;
    let why: string | undefined;
    try {
      const graph = nodeLevel(quantizeGraph(v.graph, o.calib, DEFAULT_QUANTIZE).graph);
      model = o.blob ? { graph, blob: writeBlob(graph) } : { graph };
      const bytes = model.blob?.length;
      if (bytes !== undefined && o.maxBlobBytes !== undefined && bytes > o.maxBlobBytes) why = `blob ${bytes} bytes > cap ${o.maxBlobBytes}`;
    } catch (e) {
      // e.g. PTQ of random weights with a requantization multiplier below 2^-21: not a runnable int8 model
      why = `not quantizable: ${(e as Error).message}`;
      model = { graph: v.graph };
    }
    if (why) {
      o.onVariant?.(undefined, { id: v.id, reason: why });
      if (++skipsInARow >= (o.maxSkipsInARow ?? 50)) throw new Error(`${skipsInARow} variants in a row skipped (last: ${why})`);
      continue;
    }
    const graph = model.graph;
    const bytes = model.blob?.length;
    skipsInARow = 0;
    await target.load(model, { signal: o.signal });
    const run: RunOptions = { warmup: o.warmup, repeats: o.repeats, perLayer: true, signal: o.signal };
    const r = await target.run({ data: o.input, batch: 1 }, run);
    o.onRun?.(v, graph, r.report);
    const times = new Map(r.report.rows.map((row) => [row.layer, row.latency?.samples]));
    const layers: DatasetLayer[] = layerFeatures(graph, inputZeroFractions(graph, o.input)).map((l) => {
      const s = times.get(l.node);
      if (!s?.length) throw new Error(`target gave no latency samples for node '${l.node}' of variant ${v.id}`);
      // origin from the variant's own graph: nodeLevel() replaced it for the run
      return { node: l.node, origin: v.graph.nodes.find((n) => n.id === l.node)?.origin ?? l.node, op: l.op, f: l.f, t: stat(s) };
    });
    const total = r.report.total?.latency?.samples;
    if (!total?.length) throw new Error(`target gave no total latency for variant ${v.id}`);
    const dv: DatasetVariant = { id: v.id, family: v.family, seed: v.seed, knobs: v.knobs, ...(bytes !== undefined ? { blobBytes: bytes } : {}), total: stat(total), layers };
    out.push(dv);
    have++;
    o.onVariant?.(dv);
    o.onProgress?.({ phase: 'measure', done: have, total: o.count, message: v.id });
  }
  return out;
}
