// fixed-point.ts's multiply and rounded division on tfjs float32 tensors, exactly: the same integers as
// the integer executor, so the fake-quantized model evaluates Tandem's int8 semantics bit for bit.
// float32 holds every integer below 2^24 exactly; the 55-bit product |x|·m0 is therefore built from
// 11-bit limbs (x = a2·2^22 + a1·2^11 + a0, m0 likewise), summed per column with carries, each column
// staying below 2^24, and shifted right by n = 31 - shift one limb at a time.
import * as tf from '@tensorflow/tfjs';
import type { QuantizedMultiplier } from './fixed-point.js';

/** Largest |x| the tensor functions below take exactly (integers in float32). */
export const EXACT_LIMIT = 2 ** 24;

const LIMB = 2048;
const COLUMNS = 5;

/** Per-channel constants of a multiplier set (one multiplier: a scalar for every element). */
function constants(qs: readonly QuantizedMultiplier[]): { b: Float32Array[]; half: Float32Array[]; weight: Float32Array[] } {
  const c = qs.length;
  const b = [0, 1, 2].map(() => new Float32Array(c));
  const half = Array.from({ length: COLUMNS }, () => new Float32Array(c));
  const weight = Array.from({ length: COLUMNS }, () => new Float32Array(c));
  qs.forEach((q, i) => {
    const n = 31 - q.shift; // 1..52
    b[0][i] = q.m0 % LIMB;
    b[1][i] = Math.floor(q.m0 / LIMB) % LIMB;
    b[2][i] = Math.floor(q.m0 / LIMB ** 2);
    // + 2^(n-1): the rounding half, placed in its limb
    const k = Math.floor((n - 1) / 11);
    half[k][i] = 2 ** (n - 1 - 11 * k);
    for (let j = 0; j < COLUMNS; j++) weight[j][i] = 2 ** (11 * j - n);
  });
  return { b, half, weight };
}

/**
 * The parts of mul(x, M) for integers |x| < 2^24: sign(x) and integers T_j >= 0 with
 * mul(x, M) = sign(x)·Σ T_j. Every T_j is exact in float32 at any size (a limb of at most 14 bits times
 * a power of 2); only their sum can round, at 2^24 and above.
 */
function productTerms(x: tf.Tensor, qs: readonly QuantizedMultiplier[]): { sign: tf.Tensor; terms: tf.Tensor[] } {
  const { b, half, weight } = constants(qs);
  const vec = (v: Float32Array) => (v.length === 1 ? tf.scalar(v[0]) : tf.tensor1d(v));
  const [b0, b1, b2] = b.map(vec);
  const a = tf.abs(x);
  const hi = tf.floor(tf.mul(a, 1 / LIMB));
  const a0 = tf.sub(a, tf.mul(hi, LIMB));
  const a2 = tf.floor(tf.mul(hi, 1 / LIMB));
  const a1 = tf.sub(hi, tf.mul(a2, LIMB));
  // column j: Σ_{i+k=j} a_i·b_k, every product < 2^22
  const cols = [
    tf.mul(a0, b0),
    tf.add(tf.mul(a0, b1), tf.mul(a1, b0)),
    tf.addN([tf.mul(a0, b2), tf.mul(a1, b1), tf.mul(a2, b0)]),
    tf.add(tf.mul(a1, b2), tf.mul(a2, b1)),
    tf.mul(a2, b2),
  ];
  let carry: tf.Tensor | undefined;
  const terms: tf.Tensor[] = [];
  for (let j = 0; j < COLUMNS; j++) {
    let t = tf.add(cols[j], vec(half[j]));
    if (carry) t = tf.add(t, carry);
    let limb = t;
    if (j < COLUMNS - 1) {
      carry = tf.floor(tf.mul(t, 1 / LIMB));
      limb = tf.sub(t, tf.mul(carry, LIMB));
    }
    // floor(limb·2^(11j - n)): 0 below the shift, the partial limb at it, whole values above
    terms.push(tf.floor(tf.mul(limb, vec(weight[j]))));
  }
  return { sign: tf.sign(x), terms };
}

// Each function below makes a few dozen element-wise intermediates of x's size; large tensors go through
// in slices along the first axis so that memory stays near x's own size (wasm has 4 GB in all).
const SLICE_ELEMENTS = 2 ** 20;

/** fn applied to slices of x along axis 0 (each at most SLICE_ELEMENTS), results concatenated. */
function bySlices(x: tf.Tensor, fn: (s: tf.Tensor) => tf.Tensor[]): tf.Tensor[] {
  const rows = x.shape[0] ?? 1;
  const per = Math.max(1, Math.floor(SLICE_ELEMENTS / Math.max(1, x.size / rows)));
  if (x.rank === 0 || rows <= per) return tf.tidy(() => fn(x));
  const parts: tf.Tensor[][] = [];
  for (let r = 0; r < rows; r += per) parts.push(tf.tidy(() => fn(tf.slice(x, r, Math.min(per, rows - r)))));
  const out = parts[0].map((_, k) => tf.concat(parts.map((p) => p[k]), 0));
  tf.dispose(parts);
  return out;
}

/**
 * mul(x, M) of docs/int8-semantics.md on a tensor of integers |x| < 2^24 (last axis = channels when
 * `qs` has one multiplier per channel, else one multiplier for all): round(x·m0 / 2^n) once, ties away
 * from zero. Results of magnitude 2^24 and more are not exact (callers clamp them to a code range).
 */
export function mulQuantizedTensor(x: tf.Tensor, qs: readonly QuantizedMultiplier[]): tf.Tensor {
  return bySlices(x, (xs) => {
    const { sign, terms } = productTerms(xs, qs);
    return [tf.mul(sign, tf.addN(terms))];
  })[0];
}

/**
 * mul(x, M) as exact parts (high, low) with mul(x, M) = high·2^bits + low, at any size: sums of several
 * such products (add's rescaled inputs) stay exact where they cancel.
 */
export function mulQuantizedSplit(x: tf.Tensor, qs: readonly QuantizedMultiplier[], bits: number): { high: tf.Tensor; low: tf.Tensor } {
  const [high, low] = bySlices(x, (xs) => {
    const { sign, terms } = productTerms(xs, qs);
    const highs = terms.map((t) => tf.floor(tf.mul(t, 2 ** -bits)));
    const lows = terms.map((t, j) => tf.sub(t, tf.mul(highs[j], 2 ** bits)));
    return [tf.mul(sign, tf.addN(highs)), tf.mul(sign, tf.addN(lows))];
  });
  return { high, low };
}

/** roundedDivide(s, n) = sign(s)·floor((|s| + floor(n/2)) / n) for integers with |s| + n/2 < 2^24. */
export function roundedDivideTensor(x: tf.Tensor, n: number): tf.Tensor {
  return bySlices(x, (s) => {
    const a = tf.add(tf.abs(s), Math.floor(n / 2));
    // a float quotient (the backend may multiply by 1/n) is within one of the floor; the integer
    // remainder, exact below 2^24, corrects it
    const q = tf.floor(tf.div(a, n));
    const r = tf.sub(a, tf.mul(q, n));
    const fix = tf.sub(tf.cast(tf.greaterEqual(r, n), 'float32'), tf.cast(tf.less(r, 0), 'float32'));
    return [tf.mul(tf.sign(s), tf.add(q, fix))];
  })[0];
}
