// The option profile: every option of every layer applied alone to the base model, with its sensitivity (the
// relative error of the network's logits on calibration images, before any fine-tuning) and the whole
// network's cost under each metric (int8 model; a target's latency through its surrogate predictor when the
// problem names one). The strategies weigh options by these; they are computed once per run and stored.
import type { Graph } from '../compiler/ir/types.js';
import { sensitivityOutput } from '../compiler/passes/compress/budget.js';
import { valuesOf } from '../compiler/passes/compress/refit.js';
import { relativeError } from '../compiler/passes/decompose/tensor.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { type ProgressFn, throwIfAborted, yieldToEventLoop } from '../compiler/util/progress.js';
import { measureMetrics, type MetricSources } from './metrics.js';
import { metricKey, type MetricRef } from './problem.js';
import { applyGenome, type LayerSpace, optionText } from './space.js';

export interface OptionProfile {
  readonly text: string;
  /** Relative logits error with only this option applied (0 for 'original'). */
  readonly error: number;
  /** Whole-network value of each profiled metric with only this option applied. */
  readonly cost: Readonly<Record<string, number>>;
}

export interface Profile {
  /** The base model's value of each profiled metric. */
  readonly base: Readonly<Record<string, number>>;
  /** Per searchable layer (space order), per option (option order; [0] = original). */
  readonly layers: readonly { readonly layer: string; readonly options: readonly OptionProfile[] }[];
  /** The metric each key was profiled with (a surrogate's key differs from the objective's). */
  readonly via: Readonly<Record<string, string>>;
}

export interface ProfileOptions {
  /** Calibration images for the sensitivity and the PTQ of each option. */
  readonly calib: { readonly x: Float32Array; readonly n: number };
  readonly sources: MetricSources;
  /** key -> the metric measured for it (an objective, or its surrogate). */
  readonly metrics: ReadonlyMap<string, MetricRef>;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
}

async function networkCosts(g: Graph, o: ProfileOptions): Promise<Record<string, number>> {
  const int8 = quantizeGraph(g, o.calib, DEFAULT_QUANTIZE).graph;
  const values = await measureMetrics(int8, [...o.metrics.values()], o.sources);
  return Object.fromEntries([...o.metrics].map(([key, ref]) => [key, values.get(metricKey(ref))!.value]));
}

export async function profileOptions(base: Graph, space: readonly LayerSpace[], o: ProfileOptions): Promise<Profile> {
  const out = sensitivityOutput(base);
  const [ref] = await valuesOf(base, o.calib, [out]);
  const baseCost = await networkCosts(base, o);
  const total = space.reduce((a, s) => a + s.options.length - 1, 0);
  let done = 0;
  const layers = [];
  for (const [i, s] of space.entries()) {
    const options: OptionProfile[] = [{ text: 'original', error: 0, cost: baseCost }];
    for (let k = 1; k < s.options.length; k++) {
      await yieldToEventLoop();
      throwIfAborted(o.signal);
      const genome = space.map((_, j) => (j === i ? k : 0));
      const g = applyGenome(base, space, genome, o.seed).graph;
      const [y] = await valuesOf(g, o.calib, [sensitivityOutput(g)]);
      options.push({ text: optionText(s.options[k]), error: relativeError(y, ref), cost: await networkCosts(g, o) });
      o.onProgress?.({ phase: 'profile', done: ++done, total, message: `${s.layer} ${optionText(s.options[k])}` });
    }
    layers.push({ layer: s.layer, options });
  }
  return { base: baseCost, layers, via: Object.fromEntries([...o.metrics].map(([k, r]) => [k, metricKey(r)])) };
}
