// The fake-quantized float model: the quantized graph run by the tfjs engine with every value snapped to
// its integer grid (real -> code -> real), the model QAT trains and the integer executor must equal.
// Evaluated (no training, no accelerator model), the ops that requantize run exact-ops.ts: the
// executor's integer arithmetic on float32 tensors, so the codes equal the executor's bit for bit.
// In training they run in float (conv of snapped reals, then snapping), and the snapping passes
// gradients straight through inside the range and blocks them outside (clipped straight-through estimator).
import * as tf from '@tensorflow/tfjs';
import { type Graph, type Node, OpKind, QAT_RANGE_WEIGHT } from '../../ir/types.js';
import { type ForwardOptions, forward, type Params } from '../../train/executor.js';
import { exactNode } from './exact-ops.js';
import { applyRanges, fusedActivation, observedRange } from './qat-ranges.js';
import { roundHalfAway } from './fixed-point.js';
import { activationRange, OWN_PARAMS, type ValueParams, valueParams } from './scheme.js';

/** Nodes whose output is re-snapped to the grid (own params, and averages that leave it). */
const SNAPPED = new Set<OpKind>([...OWN_PARAMS, OpKind.AvgPool, OpKind.GlobalAvgPool]);

/** round half away from zero, elementwise (a - floor(a) is exact; floor(a + 0.5) is not for a = 0.5 - 2^-25). */
function roundAway(t: tf.Tensor): tf.Tensor {
  const a = tf.abs(t);
  const f = tf.floor(a);
  return tf.mul(tf.sign(t), tf.add(f, tf.cast(tf.greaterEqual(tf.sub(a, f), 0.5), 'float32')));
}

/** real -> code -> real at (scale, zero point); with `ste`, the clipped straight-through gradient. */
export function fakeQuant(y: tf.Tensor, p: ValueParams, ste = false): tf.Tensor {
  const [qmin, qmax] = activationRange(p.bits);
  // tidy: the eight activation-sized temporaries go at once (kept to the end of a forward pass, a
  // 500-image batch of fmnist-vgg outgrew the wasm backend's memory)
  const snap = (x: tf.Tensor) => tf.tidy(() => tf.mul(tf.sub(tf.clipByValue(tf.add(roundAway(tf.div(x, p.scale)), p.zeroPoint), qmin, qmax), p.zeroPoint), p.scale));
  if (!ste) return snap(y);
  const lo = p.scale * (qmin - p.zeroPoint);
  const hi = p.scale * (qmax - p.zeroPoint);
  // forward: the snapped value; backward: 1 inside [lo, hi], 0 outside
  const f = tf.customGrad((x, save) => {
    const t = x as tf.Tensor;
    (save as tf.GradSaveFunc)([t]);
    return { value: snap(t), gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greaterEqual(xs, lo), tf.lessEqual(xs, hi)), 'float32')) };
  });
  return f(y);
}

/** Codes of a snapped real tensor: round(y / scale) + zero point. */
export function codesOf(y: Float32Array, p: ValueParams): Int32Array {
  const q = new Int32Array(y.length); // a loop: Int32Array.from with a map function is ~10x slower
  for (let i = 0; i < y.length; i++) q[i] = roundHalfAway(y[i] / p.scale) + p.zeroPoint;
  return q;
}

/**
 * Per-output-channel symmetric snapping of a kernel [..., cout] at `bits` (scales from the current
 * weights, as the quantize pass sets them), with a straight-through gradient.
 */
export function fakeQuantWeights(kernel: tf.Tensor, bits: number, depthwise = false): tf.Tensor {
  const wmax = 2 ** (bits - 1) - 1;
  const f = tf.customGrad((x) => {
    const k = x as tf.Tensor;
    // output channels: the last axis ([kh, kw, C, m] depthwise: the last two)
    const axes = k.shape.slice(0, depthwise ? -2 : -1).map((_, i) => i);
    const scale = tf.maximum(tf.div(tf.max(tf.abs(k), axes), wmax), 1e-30);
    const value = tf.mul(tf.clipByValue(roundAway(tf.div(k, scale)), -wmax, wmax), scale);
    return { value, gradFunc: (dy: tf.Tensor) => dy };
  });
  return f(kernel);
}

export interface FakeQuant {
  readonly options: ForwardOptions;
  readonly params: Map<string, ValueParams>;
  /** Nodes evaluated in float although exact evaluation was asked for (no exact form or no bound). */
  readonly inexact: Set<string>;
}

/**
 * ForwardOptions that snap every quantized value of `graph` (a quantized graph). With `ste` (QAT) the
 * snapping passes straight-through gradients and the kernels are snapped from their current values;
 * without `ste` or an accelerator model the requantizing ops are exact (exact-ops.ts).
 */
export function fakeQuantOptions(graph: Graph, base: ForwardOptions = {}, ste = false): FakeQuant {
  const params = valueParams(graph);
  const inner = base.override; // e.g. an accelerator model: it computes, fake-quant snaps
  const exact = !ste && !inner;
  const inexact = new Set<string>();
  type Dflt = (i?: readonly tf.Tensor[], w?: Record<string, tf.Tensor>) => tf.Tensor;
  const report = ste ? base.onActivationRange : undefined;
  const fused = new Map(report ? graph.nodes.map((n) => [n.id, fusedActivation(graph, n)?.op] as const) : []);
  const override = (node: Node, inputs: readonly tf.Tensor[], w: Record<string, tf.Tensor>, dflt: Dflt): tf.Tensor | undefined => {
    if (!SNAPPED.has(node.op)) return inner?.(node, inputs, w, dflt);
    if (exact) {
      const y = exactNode(node, inputs, w, dflt, params);
      if (y) return y;
      inexact.add(node.id);
    }
    const compute: Dflt = (i = inputs, ws = w) => inner?.(node, i, ws, dflt) ?? dflt(i, ws);
    const bits = node.quant?.weightBits;
    const y = ste && bits !== undefined && w.kernel ? compute(undefined, { ...w, kernel: fakeQuantWeights(w.kernel, bits, node.op === OpKind.DepthwiseConv2d) }) : compute();
    if (report && w[QAT_RANGE_WEIGHT]) {
      const [lo, hi] = tf.tidy(() => tf.stack([tf.min(y), tf.max(y)]).dataSync()); // one read-back per node
      report(node.id, ...observedRange(fused.get(node.id), lo, hi));
    }
    return fakeQuant(y, params.get(node.id)!, ste);
  };
  return { options: { ...base, override }, params, inexact };
}

/** The fake-quantized forward pass: the input is quantized like the integer executor does it. */
export function fakeQuantForward(graph: Graph, weights: Params, input: tf.Tensor, opts: ForwardOptions = {}, ste = false): tf.Tensor[] {
  // QAT range state (qat-ranges.ts): (scale, zero point) from the current ranges
  const current = applyRanges(graph, (n) => weights.get(n.id)?.[QAT_RANGE_WEIGHT]?.dataSync());
  const { options, params } = fakeQuantOptions(current, opts, ste);
  return forward(current, weights, [fakeQuant(input, params.get(graph.inputs[0].id)!, ste)], options);
}
