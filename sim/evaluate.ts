// Running a test set through the simulated accelerator: accuracy per Monte-Carlo seed, and per crossbar
// layer the error of its output against the float reference and against the exact int8 result (the
// integer-only executor), accumulated over all images. A layer's output is compared where its value is
// quantized: after a fused relu (quantize.ts observedAt), so the float and integer values mean the same.
import type { ErrorMetrics } from '../compiler/contracts/report.js';
import type { Schedule } from '../compiler/lower/schedule.js';
import type { Graph } from '../compiler/ir/types.js';
import { type Int8Result, runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { observedAt } from '../compiler/passes/quantize/quantize.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { runGraph } from '../compiler/train/executor.js';
import { type ProgressFn, throwIfAborted } from '../compiler/util/progress.js';
import { analogDevices, scheduleInputActivity } from './analog.js';
import { type ErrorHistogram, ErrorHistogramAcc } from './error-histogram.js';
import { EXACT_DEVICES, type SimMode, Simulator } from './simulate.js';

export interface SimEvalOptions {
  readonly mode: SimMode;
  /** Monte-Carlo seeds (analog mode; exact mode runs once). */
  readonly seeds: readonly number[];
  /** Seconds from programming to inference. */
  readonly timeS: number;
  readonly driftCompensation?: boolean;
  /** The float model the errors are measured against (default: the quantized graph run in float). */
  readonly reference?: Graph;
  readonly batch?: number;
  /** Digit by digit even where the ADC is lossless. */
  readonly digits?: boolean;
  readonly onProgress?: ProgressFn;
  readonly signal?: AbortSignal;
}

export interface LayerError {
  readonly layer: string;
  readonly origin: string;
  /** The value compared (the layer or its fused activation). */
  readonly value: string;
  /** Per seed. */
  readonly vsFloat: readonly ErrorMetrics[];
  readonly vsExact: readonly ErrorMetrics[];
  /** The element-wise error against float, first seed (the UI's error histogram). */
  readonly histogram: ErrorHistogram;
}

export interface SimEvaluation {
  readonly images: number;
  readonly seeds: readonly number[];
  /** Per seed. */
  readonly accuracy: readonly number[];
  readonly exactInt8Accuracy: number;
  readonly floatAccuracy: number;
  readonly layers: readonly LayerError[];
  /** Exact mode: the codes of every value of every image against the integer-only executor's. */
  readonly vsInt8?: Int8Match;
}

export interface Int8Match {
  readonly codes: number;
  readonly differing: number;
  /** Images whose predicted class differs. */
  readonly top1Differing: number;
}

class Acc {
  ref2 = 0;
  err2 = 0;
  dot = 0;
  a2 = 0;
  maxAbs = 0;
  n = 0;
  add(y: ArrayLike<number>, ref: ArrayLike<number>): void {
    for (let i = 0; i < ref.length; i++) {
      const d = y[i] - ref[i];
      this.ref2 += ref[i] * ref[i];
      this.err2 += d * d;
      this.dot += y[i] * ref[i];
      this.a2 += y[i] * y[i];
      if (Math.abs(d) > this.maxAbs) this.maxAbs = Math.abs(d);
    }
    this.n += ref.length;
  }
  metrics(): ErrorMetrics {
    return {
      mse: this.err2 / Math.max(1, this.n),
      relativeError: Math.sqrt(this.err2 / this.ref2),
      sqnrDb: 10 * Math.log10(this.ref2 / this.err2),
      maxAbsError: this.maxAbs,
      cosine: this.dot / Math.sqrt(this.a2 * this.ref2),
    };
  }
}

const argmax = (out: Float32Array, i: number, C: number) => {
  let best = 0;
  for (let c = 1; c < C; c++) if (out[i * C + c] > out[i * C + best]) best = c;
  return best;
};

const argmaxHits = (out: Float32Array, labels: Float32Array, off: number, n: number) => {
  const C = out.length / n;
  let hits = 0;
  for (let i = 0; i < n; i++) if (argmax(out, i, C) === labels[off + i]) hits++;
  return hits;
};

/** Adds the simulator's codes that differ from the executor's, and the images whose class differs. */
function countDifferences(sim: Int8Result, exact: Int8Result, keep: ReadonlySet<string>, n: number, m: { codes: number; differing: number; top1Differing: number }): void {
  for (const v of keep) {
    const a = sim.codes.get(v);
    const b = exact.codes.get(v);
    if (!a || !b) continue;
    m.codes += b.length;
    if (a.length !== b.length) {
      m.differing += b.length;
      continue;
    }
    for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) m.differing++;
  }
  const C = exact.outputs[0].length / n;
  for (let i = 0; i < n; i++) if (argmax(sim.outputs[0], i, C) !== argmax(exact.outputs[0], i, C)) m.top1Differing++;
}

export async function evaluateOnAccelerator(graph: Graph, schedule: Schedule, x: Float32Array, labels: Float32Array, n: number, o: SimEvalOptions): Promise<SimEvaluation> {
  const seeds = o.mode === 'exact' ? [o.seeds[0] ?? 0] : o.seeds;
  const sims = seeds.map((seed) => new Simulator(graph, schedule, o.mode === 'exact' ? EXACT_DEVICES : analogDevices(schedule.spec, { seed, timeS: o.timeS, driftCompensation: o.driftCompensation, inputActivity: scheduleInputActivity(schedule) })));
  const params = valueParams(graph);
  const crossbar = schedule.layers.filter((l) => l.where === 'crossbar');
  const values = crossbar.map((l) => observedAt(graph, graph.nodes.find((q) => q.id === l.layer)!));
  // exact mode is checked against the integer executor on every value, not only the crossbar layers
  const keep = new Set(o.mode === 'exact' ? [...values, ...graph.nodes.map((q) => q.id)] : values);
  const match = { codes: 0, differing: 0, top1Differing: 0 };
  const reference = o.reference ?? graph;
  const refGraph: Graph = { ...reference, outputs: [...values, ...reference.outputs] };
  const vsFloat = seeds.map(() => values.map(() => new Acc()));
  const vsExact = seeds.map(() => values.map(() => new Acc()));
  const histograms = values.map(() => new ErrorHistogramAcc());
  const hits = seeds.map(() => 0);
  let exactHits = 0;
  let floatHits = 0;
  const per = graph.inputs[0].shape.reduce((a, b) => a * b, 1);
  const batch = o.batch ?? 50;
  const dequant = (v: string, q: Int32Array) => {
    const p = params.get(v)!;
    return Float32Array.from(q, (c) => p.scale * (c - p.zeroPoint));
  };
  for (let b0 = 0; b0 < n; b0 += batch) {
    throwIfAborted(o.signal);
    const b = Math.min(batch, n - b0);
    const xb = x.subarray(b0 * per, (b0 + b) * per);
    const floats = await runGraph(refGraph, xb, b);
    floatHits += argmaxHits(floats[values.length], labels, b0, b);
    const exact = runInt8(graph, xb, b, { keep });
    exactHits += argmaxHits(exact.outputs[0], labels, b0, b);
    const exactReal = values.map((v) => dequant(v, exact.codes.get(v)!));
    for (let s = 0; s < seeds.length; s++) {
      throwIfAborted(o.signal);
      const r = sims[s].run(xb, b, { keep, digits: o.digits });
      hits[s] += argmaxHits(r.outputs[0], labels, b0, b);
      if (o.mode === 'exact') countDifferences(r, exact, keep, b, match);
      values.forEach((v, i) => {
        const y = dequant(v, r.codes.get(v)!);
        vsFloat[s][i].add(y, floats[i]);
        if (s === 0) histograms[i].add(y, floats[i]);
        vsExact[s][i].add(y, exactReal[i]);
      });
      o.onProgress?.({ phase: `simulate (${o.mode})`, done: b0 * seeds.length + (s + 1) * b, total: n * seeds.length, message: `seed ${seeds[s]}` });
    }
  }
  return {
    images: n,
    seeds,
    accuracy: hits.map((h) => h / n),
    exactInt8Accuracy: exactHits / n,
    floatAccuracy: floatHits / n,
    layers: crossbar.map((l, i) => ({ layer: l.layer, origin: l.origin, value: values[i], vsFloat: vsFloat.map((a) => a[i].metrics()), vsExact: vsExact.map((a) => a[i].metrics()), histogram: histograms[i].result() })),
    vsInt8: o.mode === 'exact' ? match : undefined,
  };
}
