// The ops that requantize (conv/dense, add, concat, globalAvgPool), evaluated on tfjs tensors with the
// integer executor's arithmetic: integer codes accumulate exactly in float32 (every partial sum is bounded
// below 2^24 from the weight codes), then the fixed-point multiplier and rounded division are applied
// exactly (fixed-point-tensor.ts). The fake-quantized model evaluated this way gives the executor's codes
// bit for bit, fast enough for whole test sets. Ops that cannot be bounded fall back to float
// (the caller records them).
import * as tf from '@tensorflow/tfjs';
import { type Node, OpKind } from '../../ir/types.js';
import { quantizeMultiplier } from './fixed-point.js';
import { EXACT_LIMIT, mulQuantizedSplit, mulQuantizedTensor, roundedDivideTensor } from './fixed-point-tensor.js';
import { type IntLayer, integerWeights } from './int8-executor.js';
import { activationRange, type ValueParams } from './scheme.js';
import { snapNode } from './snap-weights.js';

type Dflt = (i?: readonly tf.Tensor[], w?: Record<string, tf.Tensor>) => tf.Tensor;

const RESCALE = 2 ** 16; // add/concat: 16 fractional bits (docs/int8-semantics.md)

/** Largest |q - z| of a value's codes. */
const codeSpan = (p: ValueParams): number => Math.max(...activationRange(p.bits).map((q) => Math.abs(q - p.zeroPoint)));

/** q - z of a value on its grid (real = s·(q - z)). */
const centred = (x: tf.Tensor, p: ValueParams): tf.Tensor => tf.round(tf.div(x, p.scale));

/** real = s·(clamp(z + d) - z) from centred results d. */
function toReal(d: tf.Tensor, p: ValueParams): tf.Tensor {
  const [qmin, qmax] = activationRange(p.bits);
  return tf.mul(tf.sub(tf.clipByValue(tf.add(d, p.zeroPoint), qmin, qmax), p.zeroPoint), p.scale);
}

interface Layer extends IntLayer {
  /** Every partial sum of the accumulation is below 2^24 (so float32 holds it exactly). */
  readonly bounded: boolean;
}

const layers = new WeakMap<tf.Tensor, Layer>();

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

/**
 * The integer layer of `node` for the weights actually passed: the graph's own (its stored scales, as the
 * executor uses them) or other weights, e.g. QAT's current ones, snapped as snapWeights will snap them.
 */
function layerOf(node: Node, w: Record<string, tf.Tensor>, pin: ValueParams, pout: ValueParams): Layer {
  const cached = layers.get(w.kernel);
  if (cached) return cached;
  const kernel = w.kernel.dataSync() as Float32Array;
  const bias = w.bias?.dataSync() as Float32Array | undefined;
  const own = node.quant?.weightScales !== undefined && same(kernel, node.weights.kernel.data) && (!bias || same(bias, node.weights.bias.data));
  const n = own ? node : snapNode({ ...node, weights: { ...node.weights, kernel: { ...node.weights.kernel, data: kernel }, ...(bias ? { bias: { ...node.weights.bias, data: bias } } : {}) } } as Node, pin.scale);
  const L = integerWeights(n, pin, pout);
  const cout = L.bias.length;
  const sums = new Float64Array(cout);
  for (let i = 0; i < L.weights.length; i++) sums[i % cout] += Math.abs(L.weights[i]);
  const span = codeSpan(pin);
  const bounded = L.bias.every((b, c) => span * sums[c] + Math.abs(b) < EXACT_LIMIT);
  const layer = { ...L, bounded };
  layers.set(w.kernel, layer);
  return layer;
}

/**
 * `node` computed exactly as the integer executor does, on inputs that are on their grids, returning
 * the real values of the resulting codes; undefined where no exact form applies.
 */
export function exactNode(node: Node, inputs: readonly tf.Tensor[], w: Record<string, tf.Tensor>, dflt: Dflt, params: ReadonlyMap<string, ValueParams>): tf.Tensor | undefined {
  const pout = params.get(node.id)!;
  const pins = node.inputs.map((v) => params.get(v)!);
  switch (node.op) {
    case OpKind.Conv2d:
    case OpKind.DepthwiseConv2d:
    case OpKind.Dense: {
      const L = layerOf(node, w, pins[0], pout);
      if (!L.bounded) return undefined;
      const shape = w.kernel.shape;
      const acc = dflt([centred(inputs[0], pins[0])], { ...w, kernel: tf.tensor(Float32Array.from(L.weights), shape), ...(w.bias ? { bias: tf.tensor1d(Float32Array.from(L.bias)) } : {}) });
      return toReal(mulQuantizedTensor(acc, L.multipliers), pout);
    }
    case OpKind.Add:
    case OpKind.Concat: {
      if (node.op === OpKind.Concat && node.attrs.axis !== inputs[0].rank - 2) return undefined; // channel axis only
      const ms = pins.map((p) => p.scale / pout.scale);
      // (q_i - z_i)·2^16 must be below 2^24, and t_i below int32 saturation (M_i < 128 with 8-bit codes)
      if (pins.some((p, i) => codeSpan(p) * RESCALE >= EXACT_LIMIT || codeSpan(p) * RESCALE * ms[i] >= 2 ** 31)) return undefined;
      // t_i = mul((q_i - z_i)·2^16, M_i) = high_i·2^16 + low_i; a sum of them is exact below 2^24 (beyond, it clamps)
      const t = inputs.map((x, i) => mulQuantizedSplit(tf.mul(centred(x, pins[i]), RESCALE), [quantizeMultiplier(ms[i])], 16));
      const value = (parts: typeof t) => tf.add(tf.mul(tf.addN(parts.map((p) => p.high)), RESCALE), tf.addN(parts.map((p) => p.low)));
      if (node.op === OpKind.Add) return toReal(roundedDivideTensor(value(t), RESCALE), pout);
      return tf.concat(t.map((ti) => toReal(roundedDivideTensor(value([ti]), RESCALE), pout)), -1);
    }
    case OpKind.GlobalAvgPool: {
      const [, H, W] = inputs[0].shape;
      if (codeSpan(pins[0]) * H! * W! >= EXACT_LIMIT) return undefined;
      // the window sum as a depthwise conv with a ones kernel: integer products and sums, exact (the
      // engine's Sum kernel over leading axes is an average times the count, which is not)
      const C = inputs[0].shape[3]!;
      const sum = tf.depthwiseConv2d(centred(inputs[0], pins[0]) as tf.Tensor4D, tf.ones([H!, W!, C, 1]) as tf.Tensor4D, 1, 'valid');
      return toReal(roundedDivideTensor(tf.reshape(sum, [-1, C]), H! * W!), pout);
    }
    default:
      return undefined;
  }
}
