// Fixed-point arithmetic of Tandem's integer-only inference (docs/int8-semantics.md), after Jacob et al.
// 2018: a real multiplier M > 0 is an int32 m0 in [2^30, 2^31) and a shift with M ≈ m0 · 2^(shift - 31);
// x·M is the 64-bit product x·m0 shifted right by 31 - shift with one rounding (ties away from zero).
// Every function is exact integer arithmetic on JS numbers (products are split so that every
// intermediate stays below 2^53); the C firmware implements the same with int64.

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const TWO31 = 2147483648;

export interface QuantizedMultiplier {
  /** int32 in [2^30, 2^31), or 0 for M = 0. */
  readonly m0: number;
  /** M ≈ m0 · 2^(shift - 31); shift > 0 means M >= 1. */
  readonly shift: number;
}

/** The (m0, shift) of a real multiplier M >= 0 (TFLite's QuantizeMultiplier). */
export function quantizeMultiplier(M: number): QuantizedMultiplier {
  if (!(M >= 0) || !Number.isFinite(M)) throw new RangeError(`multiplier ${M} must be finite and >= 0`);
  if (M === 0) return { m0: 0, shift: 0 };
  let shift = Math.floor(Math.log2(M)) + 1;
  let q = M / 2 ** shift; // in [0.5, 1)
  if (q >= 1) {
    q /= 2;
    shift++;
  } else if (q < 0.5) {
    q *= 2;
    shift--;
  }
  let m0 = Math.round(q * TWO31);
  if (m0 === TWO31) {
    m0 /= 2;
    shift++;
  }
  // 31 - shift <= 52 keeps multiplyByQuantizedMultiplier exact in doubles; smaller multipliers
  // (below 2^-21) would map every int32 to 0 or ±1: they are refused rather than approximated.
  if (shift < -21) throw new RangeError(`multiplier ${M} is below 2^-21: the scales are inconsistent`);
  if (shift > 30) throw new RangeError(`multiplier ${M} is too large for int32 fixed point`);
  return { m0, shift };
}

/**
 * x · m0 / 2^(31 - shift) rounded once, ties away from zero, saturated to int32: x · M for an int32 x.
 * (One rounding of the exact 64-bit product, unlike TFLite's two; in C:
 * p = (int64_t)x * m0; n = 31 - shift; y = (p + (1LL << (n - 1)) - (p < 0)) >> n; then saturate.)
 */
export function multiplyByQuantizedMultiplier(x: number, q: QuantizedMultiplier): number {
  const n = 31 - q.shift;
  const P = POW2[n];
  let f: number;
  let rem: number;
  if (x < 4194304 && x > -4194304) {
    // |x·m0| < 2^53: the product itself is exact
    const p = x * q.m0;
    f = Math.floor(p / P);
    rem = p - f * P;
  } else {
    // x·m0 = hi·2^16 + lo, every part exact in doubles
    const ml = q.m0 & 0xffff;
    const hi = x * ((q.m0 - ml) / 65536); // |hi| < 2^46
    const lo = x * ml; // |lo| < 2^47
    if (n >= 16) {
      const d = POW2[n - 16];
      const h1 = Math.floor(hi / d);
      const R = (hi - h1 * d) * 65536 + lo; // |R| < 2^n + 2^47 <= 2^53 for n <= 52
      const rq = Math.floor(R / P);
      f = h1 + rq;
      rem = R - rq * P;
    } else {
      const l1 = Math.floor(lo / P);
      f = hi * POW2[16 - n] + l1;
      rem = lo - l1 * P;
    }
  }
  const half = POW2[n - 1];
  const y = f + (rem > half || (rem === half && f >= 0) ? 1 : 0);
  return y > INT32_MAX ? INT32_MAX : y < INT32_MIN ? INT32_MIN : y;
}

const POW2 = Float64Array.from({ length: 64 }, (_, i) => 2 ** i);

/** sum / count rounded to nearest, ties away from zero (integer average pooling). */
export function roundedDivide(sum: number, count: number): number {
  const m = Math.floor((Math.abs(sum) + Math.floor(count / 2)) / count);
  return sum < 0 ? -m : m;
}

/** round(x) with ties away from zero: the rounding of every float -> integer step. */
export function roundHalfAway(x: number): number {
  // Math.round is exact (ties toward +inf); applied to |x| that is ties away from zero
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

export const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
