// The integer executor against the fake-quantized model (evaluated exactly, exact-ops.ts) on the same
// images, which must give the same codes:
//   end to end: both run from the real input; top-1 and every code compared;
//   layer by layer: every snapped value recomputed by the fake-quant model from the integer executor's
//     own input codes, so each op is compared on identical inputs (a difference is located at its op).
// Nodes the fake-quant model had to evaluate in float are listed (`inexact`); there 1 LSB can differ.
import * as tf from '@tensorflow/tfjs';
import { argmax } from '../../data/metrics.js';
import type { Graph, Node } from '../../ir/types.js';
import { disposeParams, forward, paramsFromGraph } from '../../train/executor.js';
import type { ProgressFn } from '../../util/progress.js';
import { throwIfAborted } from '../../util/progress.js';
import { codesOf, fakeQuant, fakeQuantOptions } from './fake-quant.js';
import { runInt8 } from './int8-executor.js';
import { valueParams } from './scheme.js';

export interface CodeDiff {
  /** Largest |code difference| over every element compared. */
  maxLsb: number;
  /** Elements that differ at all, and elements compared. */
  differing: number;
  total: number;
}

export interface Int8Check {
  readonly images: number;
  /** Images whose top-1 class differs between the two (graph output 0). */
  readonly argmaxMismatches: number;
  readonly endToEnd: CodeDiff;
  readonly layerwise: CodeDiff;
  /** Worst layer of the layer-by-layer comparison. */
  readonly worstLayer?: string;
  /** Nodes the fake-quant model evaluated in float, not exactly (exact-ops.ts): empty for a bit-exact check. */
  readonly inexact: readonly string[];
  /** Top-1 predictions of the integer executor, for accuracy. */
  readonly predictions: Int32Array;
}

const argmaxRows = (a: Float32Array, classes: number): Int32Array => Int32Array.from({ length: a.length / classes }, (_, r) => argmax(a, r, classes));

function add(d: CodeDiff, a: Int32Array, b: Int32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (e > 0) d.differing++;
    if (e > worst) worst = e;
  }
  d.total += a.length;
  d.maxLsb = Math.max(d.maxLsb, worst);
  return worst;
}

export function checkInt8(q: Graph, x: Float32Array, n: number, o: { batch?: number; signal?: AbortSignal; onProgress?: ProgressFn } = {}): Int8Check {
  const params = valueParams(q);
  const values = [...params.keys()].filter((v) => !q.inputs.some((i) => i.id === v));
  const shape = q.inputs[0].shape;
  const per = shape.reduce((a, b) => a * b, 1);
  const out = q.outputs[0];
  const endToEnd: CodeDiff = { maxLsb: 0, differing: 0, total: 0 };
  const layerwise: CodeDiff = { maxLsb: 0, differing: 0, total: 0 };
  const worstBy = new Map<string, number>();
  const predictions = new Int32Array(n);
  // one fake-quant forward for both comparisons; it collects the nodes it could not evaluate exactly
  const fq = fakeQuantOptions(q);
  const quantizeInput = (xs: Float32Array, b: number) => fakeQuant(tf.tensor(xs, [b, ...shape]), params.get(q.inputs[0].id)!);
  let mismatches = 0;
  const weights = paramsFromGraph(q);
  const batch = o.batch ?? 100;
  try {
    for (let s = 0; s < n; s += batch) {
      throwIfAborted(o.signal);
      const b = Math.min(batch, n - s);
      const xs = x.subarray(s * per, (s + b) * per);
      const int = runInt8(q, xs, b, { keep: new Set(values) });
      const classes = int.outputs[0].length / b;
      const pi = argmaxRows(int.outputs[0], classes);
      predictions.set(pi, s);
      const outs = tf.tidy(() => forward(q, weights, [quantizeInput(xs, b)], { ...fq.options, outputs: [...values, out] }));
      const pf = argmaxRows(outs.at(-1)!.dataSync() as Float32Array, classes);
      for (let i = 0; i < b; i++) if (pi[i] !== pf[i]) mismatches++;
      values.forEach((v, i) => add(endToEnd, codesOf(outs[i].dataSync() as Float32Array, params.get(v)!), int.codes.get(v)!));
      tf.dispose(outs);
      // layer by layer: each node on the dequantized integer codes of its inputs
      const real = (v: string) => {
        const p = params.get(v);
        const codes = int.codes.get(v);
        if (!p || !codes) return undefined;
        const r = new Float32Array(codes.length);
        for (let i = 0; i < r.length; i++) r[i] = p.scale * (codes[i] - p.zeroPoint);
        return r;
      };
      const layer = tf.tidy(() => {
        const results: tf.Tensor[] = [];
        const override = (node: Node, inputs: readonly tf.Tensor[], w: Record<string, tf.Tensor>, dflt: (i?: readonly tf.Tensor[], w?: Record<string, tf.Tensor>) => tf.Tensor) => {
          if (!values.includes(node.id)) return undefined;
          const ins = node.inputs.map((v, k) => {
            const r = real(v);
            return r ? tf.tensor(r, inputs[k].shape) : inputs[k];
          });
          const y = fq.options.override!(node, ins, w, (i = ins, ws = w) => dflt(i, ws)) ?? fakeQuant(dflt(ins), params.get(node.id)!);
          results.push(y);
          return y;
        };
        // every compared value is an output, so that inference does not free it after its last use
        forward(q, weights, [quantizeInput(xs, b)], { override, outputs: [...values, out] });
        return results;
      });
      values.forEach((v, i) => {
        const w = add(layerwise, codesOf(layer[i].dataSync() as Float32Array, params.get(v)!), int.codes.get(v)!);
        worstBy.set(v, Math.max(worstBy.get(v) ?? 0, w));
      });
      tf.dispose(layer);
      o.onProgress?.({ phase: 'int8 check', done: s + b, total: n });
    }
  } finally {
    disposeParams(weights);
  }
  const worstLayer = [...worstBy].sort((a, b) => b[1] - a[1])[0]?.[0];
  return { images: n, argmaxMismatches: mismatches, endToEnd, layerwise, worstLayer, predictions, inexact: [...fq.inexact] };
}
