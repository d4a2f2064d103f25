// Weight codes -> cell levels, per the spec's signed-weight scheme (sim/spec/types.ts):
//   differential:    |w|'s digits on the + cell (w > 0) or the − cell (w < 0), the other at level 0;
//   offset:          the digits of w + wmax (wmax = 2^(bits−1) − 1); the reference column of digit s
//                    holds digit s of wmax and is subtracted in analog;
//   twos-complement: the digits of the low bits−1 bits of w's two's complement, then a sign cell
//                    (level 0/1) whose significance is −2^(bits−1).
// Digit s of a weight counts 2^(s·cellBits) in the shift-add (the sign cell: see above), so
// Σ_s significance[s]·(plus[s] − minus[s] − reference[s]) = w for every code w.
import type { AcceleratorSpec } from './spec/types.js';

export interface WeightDigits {
  readonly slices: number;
  /** Shift-add weight of each slice. */
  readonly significance: readonly number[];
  /** Cell levels per slice, each [rows × cols] row-major like the codes. */
  readonly plus: readonly Uint8Array[];
  /** Differential only: the − cells. */
  readonly minus?: readonly Uint8Array[];
  /** Per slice, the level of the reference column subtracted from every column (offset; else 0s). */
  readonly reference: readonly number[];
}

export function weightDigits(codes: Float64Array | Int32Array, spec: AcceleratorSpec): WeightDigits {
  const { bits, cellsPerWeight: S, signed } = spec.weights;
  const cb = spec.crossbar.cellBits;
  const base = 2 ** cb;
  const wmax = 2 ** (bits - 1) - 1;
  const n = codes.length;
  const plus = Array.from({ length: S }, () => new Uint8Array(n));
  const minus = signed === 'differential' ? Array.from({ length: S }, () => new Uint8Array(n)) : undefined;
  const significance = Array.from({ length: S }, (_, s) => base ** s);
  const offset = signed === 'offset' ? wmax : 0;
  const reference = significance.map((_, s) => Math.floor(offset / base ** s) % base);
  const low = Math.ceil((bits - 1) / cb); // digits of the low bits (two's complement)
  if (signed === 'twos-complement') significance[low] = -(2 ** (bits - 1));
  for (let i = 0; i < n; i++) {
    const w = codes[i];
    if (!Number.isInteger(w) || Math.abs(w) > wmax) throw new RangeError(`weight code ${w} is not a ${bits}-bit code`);
    if (signed === 'differential') {
      let m = Math.abs(w);
      const dst = w > 0 ? plus : minus!;
      for (let s = 0; s < S && m > 0; s++, m = Math.floor(m / base)) dst[s][i] = m % base;
    } else if (signed === 'offset') {
      let m = w + offset;
      for (let s = 0; s < S && m > 0; s++, m = Math.floor(m / base)) plus[s][i] = m % base;
    } else {
      const neg = w < 0 ? 1 : 0;
      let m = w + neg * 2 ** (bits - 1); // the low bits of the two's complement
      for (let s = 0; s < low && m > 0; s++, m = Math.floor(m / base)) plus[s][i] = m % base;
      plus[low][i] = neg;
    }
  }
  return { slices: S, significance, plus, minus, reference };
}
