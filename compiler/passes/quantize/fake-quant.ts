// The fake-quantized float model: the quantized graph run by the tfjs engine with every value snapped to
// its integer grid (real -> code -> real), the model QAT trains and the integer executor must equal
// (up to 1 LSB where the float accumulation and the fixed-point multiplier round differently).
// In training the snapping passes gradients straight through inside the range and blocks them outside
// (the clipped straight-through estimator).
import * as tf from '@tensorflow/tfjs';
import { type Graph, type Node, OpKind } from '../../ir/types.js';
import { type ForwardOptions, forward, type Params } from '../../train/executor.js';
import { roundHalfAway } from './fixed-point.js';
import { activationRange, OWN_PARAMS, type ValueParams, valueParams } from './scheme.js';

/** Nodes whose output is re-snapped to the grid (own params, and averages that leave it). */
const SNAPPED = new Set<OpKind>([...OWN_PARAMS, OpKind.AvgPool, OpKind.GlobalAvgPool]);

/** round half away from zero, elementwise. */
const roundAway = (t: tf.Tensor) => tf.mul(tf.sign(t), tf.floor(tf.add(tf.abs(t), 0.5)));

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
  return Int32Array.from(y, (v) => roundHalfAway(v / p.scale) + p.zeroPoint);
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

/**
 * ForwardOptions that snap every quantized value of `graph` (a quantized graph). With `ste` (QAT) the
 * snapping passes straight-through gradients and the kernels are snapped from their current values.
 */
export function fakeQuantOptions(graph: Graph, base: ForwardOptions = {}, ste = false): { options: ForwardOptions; params: Map<string, ValueParams> } {
  const params = valueParams(graph);
  const inner = base.override; // e.g. an accelerator model: it computes, fake-quant snaps
  type Dflt = (i?: readonly tf.Tensor[], w?: Record<string, tf.Tensor>) => tf.Tensor;
  const override = (node: Node, inputs: readonly tf.Tensor[], w: Record<string, tf.Tensor>, dflt: Dflt): tf.Tensor | undefined => {
    if (!SNAPPED.has(node.op)) return inner?.(node, inputs, w, dflt);
    const compute: Dflt = (i = inputs, ws = w) => inner?.(node, i, ws, dflt) ?? dflt(i, ws);
    const bits = node.quant?.weightBits;
    const y = ste && bits !== undefined && w.kernel ? compute(undefined, { ...w, kernel: fakeQuantWeights(w.kernel, bits, node.op === OpKind.DepthwiseConv2d) }) : compute();
    return fakeQuant(y, params.get(node.id)!, ste);
  };
  return { options: { ...base, override }, params };
}

/** The fake-quantized forward pass: the input is quantized like the integer executor does it. */
export function fakeQuantForward(graph: Graph, weights: Params, input: tf.Tensor, opts: ForwardOptions = {}, ste = false): tf.Tensor[] {
  const { options, params } = fakeQuantOptions(graph, opts, ste);
  const xq = fakeQuant(input, params.get(graph.inputs[0].id)!, ste);
  return forward(graph, weights, [xq], options);
}
