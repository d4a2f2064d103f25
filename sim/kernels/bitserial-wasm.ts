// The WebAssembly module of the fused bit-serial crossbar kernel (bitserial.ts), assembled byte by byte:
//   table:      per group of r rows, the 2^(r·dacBits) sums Σ_j d_j·level[row j] of every column (a lookup
//               table: a group's column sums for any digits of its r inputs are one row of it);
//   digits:     per vector, cycle and group, the byte offset of the table row its input digits select
//               (and Σ_k digit² per vector and cycle, for uniform read noise);
//   convert:    per vector, weight digit and 16 (or 8) columns, for every input cycle: the column sums as
//               the sum of one table row per group (f32x4, or i16x8 for small exact sums), read noise
//               (Box-Muller normals from a counter-based generator), the ADC (AdcKind) and the shift-add
//               (int32), then Σ_s coef_s·(Σ_t 2^(t·dacBits)·code) into a float64 row;
//   normals:    standard normals alone, the same numbers the convert kernel draws;
//   quantize, requantize: the integer executor's input quantization and requantization, bit for bit.
// Normal number i of a stream with seed σ: lanes of 8: the uniforms are mulberry32 outputs for the
// counters σ + (8⌊i/8⌋ + l + 1)·0x6D2B79F5 (l = 0..3: u1, l = 4..7: u2), z = sqrt(−2 ln u1)·cos θ for
// the first four, ·sin θ for the last four; θ = q·π/2 + φ, the quadrant q from u2's low 2 bits and
// φ ∈ (−π/4, π/4) from its high 24 (so that sin and cos need no range reduction); u1 = (h1 >>> 1)·2^-31
// + 2^-32 in float32 (its smallest value 2^-32 bounds |z| at 6.66: the normal tail beyond that, 2.7e-11,
// is not drawn). ln, sin and cos are Cephes' float32 polynomials (≤ 2 ulp). bitserial.ts has the same
// arithmetic in plain JS, bit for bit.
import { I32, leb, section, str, V128, vec } from '../../compiler/util/wasm-encode.js';
import {
  ADD, AND, BLOCK, br, brIf, emitter, END, F32_CONVERT_I32_U, F32_MUL, F32_SQRT, f32load, f32store, F32X4_ADD, F32X4_CONVERT_I32X4_S,
  F32X4_GT, F32X4_MUL, F32X4_PMAX, F32X4_PMIN, F32X4_SPLAT, F32X4_SQRT, F32X4_SUB, F32X4_TRUNC, F64X2_ABS, F64X2_ADD,
  F64X2_CONVERT_LOW_I32X4_S, F64X2_DIV, F64X2_GE, F64X2_MUL, F64X2_PMAX, F64X2_PMIN, F64X2_PROMOTE_LOW, F64X2_SUB, F64X2_TRUNC, GE_S, get, GT_S, i32, I32X4_ADD,
  I32X4_DOT_I16X8_S, I32X4_MUL, I32X4_NEG, I32X4_SHL, I32X4_SHR_U, I32X4_SPLAT, I32X4_SUB, I32X4_TRUNC_SAT_F64X2_S_ZERO, i32load,
  i32load16s, i32store, IF, LOOP, LT_S, SELECT, LT_U, MUL, OR, set, SHL, SHR_U, shuffle, simd, splat32, splat64, SUB, tee, V128_AND, V128_BITSELECT, V128_OR, V128_XOR, vload,
  vstore, vzero,
} from './wasm-ops.js';

/** Bytes at address 0 of the memory holding the kernels' vector constants (ConstPool). */
export const CONST_BYTES = 1024;

/**
 * Vector constants, read from memory at address 0 (the engine writes `bytes` there): a v128.const costs
 * V8 about three instructions to materialise, a load one.
 */
class ConstPool {
  readonly bytes: number[] = [];
  private readonly at = new Map<string, number>();
  private lanes(b: Uint8Array): number[] {
    const key = b.join(',');
    let off = this.at.get(key);
    if (off === undefined) {
      off = this.bytes.length;
      if (off + 16 > CONST_BYTES) throw new Error('bitserial-wasm: too many constants');
      this.at.set(key, off);
      this.bytes.push(...b);
    }
    return [...i32(0), ...vload(off)];
  }
  i32(lanes: readonly number[]): number[] {
    return this.lanes(new Uint8Array(Int32Array.from(lanes.length === 1 ? [lanes[0], lanes[0], lanes[0], lanes[0]] : lanes).buffer));
  }
  f32(v: number): number[] {
    return this.lanes(new Uint8Array(new Float32Array([v, v, v, v]).buffer));
  }
  f64(v: number): number[] {
    return this.lanes(new Uint8Array(new Float64Array([v, v]).buffer));
  }
}

/** mulberry32's increment: the state after i draws is seed + i·GOLDEN. */
export const GOLDEN = 0x6d2b79f5;
/**
 * Bytes per weight digit (slice) in the ADC record: float64 gain, offset, step, inlPeak, lo, invSpan,
 * minCode, maxCode, coef (0..71); float32 read variance (72); int32 minCode, maxCode within int16 (80,
 * 84); float32 gain/step, offset/step,
 * 4·inlPeak/step, lo, invSpan, minCode, maxCode (96..127).
 */
export const ADC_RECORD = 128;

export type NoiseKind = 'none' | 'uniform' | 'cells';
/**
 * identity: integer sums, the code is the clipped sum; i16: the same with int16 tables (every partial sum
 * below 2^15: twice the lanes); f64/inl: sim/devices/adc.ts's float64 arithmetic
 * (without/with the INL term); f32/f32inl (with read noise, whose spread is far above float32 rounding):
 * q = v·(gain/step) + offset/step (+ (4·inlPeak/step)·x(1 − x), the same bow), rounded as trunc(q ± ½)
 * in float32 — a code differs from the float64 one only where q falls within ~1e-7 of a rounding boundary.
 */
export type AdcKind = 'identity' | 'i16' | 'f64' | 'inl' | 'f32' | 'f32inl';
/** The convert functions: the float64 ADC without read noise, float32 with it. */
export const CONVERT_KINDS: readonly (readonly [NoiseKind, AdcKind])[] = [
  ['none', 'identity'], ['none', 'i16'], ['none', 'f64'], ['none', 'inl'], ['uniform', 'f32'], ['uniform', 'f32inl'], ['cells', 'f32'], ['cells', 'f32inl'],
];

/** Parameters of convert (r0, r1 at 7 and 8, where threads.ts's splitter sets them). */
export const CONVERT_PARAMS = ['offs', 's2', 'table', 'varDelta', 'groups', 'cycles', 'out', 'r0', 'r1', 'slices', 'nbp', 'adc', 'seed', 'dac'] as const;
/** Parameters of digits. */
export const DIGITS_PARAMS = ['u', 'ldu', 'kb', 'k0', 'cycles', 'dac', 'rpg', 'r0', 'r1', 'groups', 'entries', 'rowBytes', 'offs', 's2'] as const;
/** Parameters of table. */
export const TABLE_PARAMS = ['levels', 'rowVecs', 'entries', 'groups', 'rpg', 'plan', 'table'] as const;
/** Parameters of normals: groups of 8 normals [base8, base8 + count8) to out. */
export const NORMALS_PARAMS = ['out', 'count8', 'seed', 'base8'] as const;
/** Parameters of quantize: float32 x[n] to int32 codes, blocks [r0, r1) of QUANTIZE_BLOCK values; float64 scale, zero point, qmin, qmax at prm. */
export const QUANTIZE_PARAMS = ['x', 'out', 'prm', 'n', 'unused4', 'unused5', 'unused6', 'r0', 'r1'] as const;
export const QUANTIZE_BLOCK = 1024;
/**
 * Parameters of requantize: float64 acc [rows × C] to int32 codes, row blocks [r0, r1) of REQUANT_ROWS;
 * per channel float64 bias, m0, P/2, 1/P (P = 2^(31 − shift)) at prm, prm + 8C, .. and zero point, qmin,
 * qmax after them; flags[block] = 1 where some |x| ≥ 2^21 (those rows are the caller's to redo).
 */
export const REQUANT_PARAMS = ['acc', 'out', 'prm', 'channels', 'rows', 'flags', 'unused6', 'r0', 'r1'] as const;
export const REQUANT_ROWS = 16;

// Cephes float32 coefficients (logf, sinf, cosf)
export const LOG_P = [7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1];
export const LOG_Q1 = -2.12194440e-4;
export const LOG_Q2 = 0.693359375;
export const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1];
export const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2];
/** φ = a·PHI_SCALE + PHI_BASE for the 24-bit integer a: (a + 1/2)/2^24 − 1/2, times π/2. */
export const PHI_SCALE = Math.PI / 2 / 16777216;
export const PHI_BASE = (0.5 / 16777216 - 0.5) * (Math.PI / 2);


/**
 * Emits the Box-Muller pair for the 8 normals starting at normal index `n0` (an i32 local) of the stream
 * `seed` (i32 local): leaves the first four in zc, the last four in zs. t1..t5 are scratch v128 locals.
 */
function boxMuller(c: (...xs: number[][]) => void, k: ConstPool, n0: number, seed: number, zc: number, zs: number, t: readonly number[]): void {
  const [h1, h2, x, y, z] = t;
  // states σ + (n0 + l + 1)·G, l = 0..7
  c(get(n0), i32(1), ADD, i32(GOLDEN), MUL, get(seed), ADD, I32X4_SPLAT, set(h2));
  c(get(h2), k.i32([0, GOLDEN, 2 * GOLDEN, 3 * GOLDEN]), I32X4_ADD, set(h1));
  c(get(h2), k.i32([4 * GOLDEN, 5 * GOLDEN, 6 * GOLDEN, 7 * GOLDEN]), I32X4_ADD, set(h2));
  for (const h of [h1, h2]) {
    // mulberry32: t = imul(t ^ t>>>15, t | 1); t ^= t + imul(t ^ t>>>7, t | 61); t ^= t>>>14
    c(get(h), get(h), i32(15), I32X4_SHR_U, V128_XOR, get(h), k.i32([1]), V128_OR, I32X4_MUL, set(h));
    c(get(h), get(h), get(h), i32(7), I32X4_SHR_U, V128_XOR, get(h), k.i32([61]), V128_OR, I32X4_MUL, I32X4_ADD, get(h), V128_XOR, set(h));
    c(get(h), get(h), i32(14), I32X4_SHR_U, V128_XOR, set(h));
  }
  // u1 = f32(h1 >>> 1)·2^-31 + 2^-32 in (0, 1] (x86 has no unsigned conversion); ln u1 = e·ln2 + ln m, m ∈ [√½, √2)
  c(get(h1), i32(1), I32X4_SHR_U, F32X4_CONVERT_I32X4_S, k.f32(2 ** -31), F32X4_MUL, k.f32(2 ** -32), F32X4_ADD, set(h1));
  // e (i32) in y, m in x
  c(get(h1), i32(23), I32X4_SHR_U, k.i32([127]), I32X4_SUB, set(y));
  c(get(h1), k.i32([0x7fffff]), V128_AND, k.i32([0x3f800000]), V128_OR, set(x));
  c(get(x), k.f32(Math.SQRT2), F32X4_GT, set(z)); // m > √2: halve it, e + 1
  c(get(x), k.f32(0.5), F32X4_MUL, get(x), get(z), V128_BITSELECT, k.f32(1), F32X4_SUB, set(x));
  c(get(y), get(z), I32X4_SUB, F32X4_CONVERT_I32X4_S, set(y)); // e as float
  // poly(x) by Horner, then ln = x + (x·z·poly + e·q1 − z/2) + e·q2 with z = x²
  c(k.f32(LOG_P[0]));
  for (let i = 1; i < LOG_P.length; i++) c(get(x), F32X4_MUL, k.f32(LOG_P[i]), F32X4_ADD);
  c(set(h1), get(x), get(x), F32X4_MUL, set(z));
  c(get(x), get(z), F32X4_MUL, get(h1), F32X4_MUL); // x·z·poly
  c(get(y), k.f32(LOG_Q1), F32X4_MUL, F32X4_ADD);
  c(get(z), k.f32(0.5), F32X4_MUL, F32X4_SUB);
  c(get(x), F32X4_ADD, get(y), k.f32(LOG_Q2), F32X4_MUL, F32X4_ADD);
  // r = sqrt(−2 ln u1) in h1
  c(k.f32(-2), F32X4_MUL, F32X4_SQRT, set(h1));
  // φ from the high 24 bits of h2, quadrant from the low 2 (kept in y)
  c(get(h2), k.i32([3]), V128_AND, set(y));
  c(get(h2), i32(8), I32X4_SHR_U, F32X4_CONVERT_I32X4_S, k.f32(PHI_SCALE), F32X4_MUL, k.f32(PHI_BASE), F32X4_ADD, set(x));
  c(get(x), get(x), F32X4_MUL, set(z));
  // sin φ in h2
  c(k.f32(SIN_P[0]), get(z), F32X4_MUL, k.f32(SIN_P[1]), F32X4_ADD, get(z), F32X4_MUL, k.f32(SIN_P[2]), F32X4_ADD, get(z), F32X4_MUL, get(x), F32X4_MUL, get(x), F32X4_ADD, set(h2));
  // cos φ in x
  c(k.f32(COS_P[0]), get(z), F32X4_MUL, k.f32(COS_P[1]), F32X4_ADD, get(z), F32X4_MUL, k.f32(COS_P[2]), F32X4_ADD, get(z), F32X4_MUL, get(z), F32X4_MUL);
  c(get(z), k.f32(0.5), F32X4_MUL, F32X4_SUB, k.f32(1), F32X4_ADD, set(x));
  // odd quadrants swap sin and cos (mask in z); cos θ negated in quadrants 1, 2, sin θ in 2, 3
  c(get(y), k.i32([1]), V128_AND, I32X4_NEG, set(z));
  c(get(h2), get(x), get(z), V128_BITSELECT); // C' = swap ? sin : cos
  c(get(y), k.i32([1]), I32X4_ADD, k.i32([2]), V128_AND, i32(30), I32X4_SHL, V128_XOR, get(h1), F32X4_MUL, set(zc));
  c(get(x), get(h2), get(z), V128_BITSELECT); // S' = swap ? cos : sin
  c(get(y), k.i32([2]), V128_AND, i32(30), I32X4_SHL, V128_XOR, get(h1), F32X4_MUL, set(zs));
}


const EQ = [0x46];
const I16X8_ADD = simd(0x8e);
const I16X8_MIN_S = simd(0x96);
const I16X8_MAX_S = simd(0x98);
const I32X4_EXTEND_LOW_I16X8_S = simd(0xa7);
const I32X4_EXTEND_HIGH_I16X8_S = simd(0xa8);
const LOAD64_ZERO = [...simd(0x5d), 3, 0];
const STORE64_LANE0 = [...simd(0x5b), 3, 0, 0];
const F32X4_DEMOTE = simd(0x5e);
const F64X2_FLOOR = simd(0x75);
const V128_ANY_TRUE = simd(0x53);

/** x = min(lhs, rhs) (signed). */
function minInto(c: (...xs: number[][]) => void, x: number, lhs: number[][], rhs: number[][]): void {
  c(...lhs, tee(x), ...rhs, get(x), ...rhs, LT_S, SELECT, set(x));
}
const I16X8_SPLAT = simd(0x10);
const I16X8_SHR_U = simd(0x8d);
const lane = (i: number) => [...simd(0x1b), i];

/** for (x = from; x < to; x += by) { body } (signed compare; from/to/by as code). */
function forLoop(c: (...xs: number[][]) => void, x: number, from: number[][], to: number[][], by: number[][], body: () => void): void {
  c(...from, set(x));
  c(BLOCK, LOOP, get(x), ...to, GE_S, brIf(1));
  body();
  c(get(x), ...by, ADD, set(x), br(0), END, END);
}

/** convert for one noise and ADC kind (see the header); r0, r1: vectors. */
function convertBody(noise: NoiseKind, adc: AdcKind, k: ConstPool): number[] {
  const [offs, s2, table, varDelta, groups, cycles, out, r0, r1, slices, nbp, adcAt, seed, dac] = CONVERT_PARAMS.map((_, i) => i);
  let l = CONVERT_PARAMS.length;
  const s = l++;
  const j0 = l++;
  const p = l++;
  const t = l++;
  const ip = l++;
  const gEnd = l++;
  const col = l++;
  const off = l++;
  const rec = l++;
  const outP = l++;
  const n0 = l++;
  const nI32 = l - CONVERT_PARAMS.length;
  const y = [l++, l++, l++, l++];
  const vr = [l++, l++, l++, l++];
  const acc = [l++, l++, l++, l++];
  const zc = l++;
  const zs = l++;
  const sd = l++;
  const tmp = [l++, l++, l++, l++, l++];
  const nV = l - CONVERT_PARAMS.length - nI32;
  const { code, c } = emitter();

  /** An integer-valued f32x4 (|v| < 2^22) on the stack to i32x4: the bits of v + 1.5·2^23, less those of 1.5·2^23. */
  const toInt = () => [...k.f32(12582912), ...F32X4_ADD, ...k.i32([0x4b400000]), ...I32X4_SUB];
  /** Leaves the ADC code of the f32x4 column sums in y[i] on the stack, as i32x4. */
  const convert = (i: number) => {
    if (adc === 'identity') {
      // integer sums (exact cells), step 1, no offset/gain/INL: the code is the sum, clipped
      c(get(y[i]), get(rec), splat32(120), F32X4_PMIN, get(rec), splat32(116), F32X4_PMAX, toInt());
      return;
    }
    if (adc === 'f32' || adc === 'f32inl') {
      const [x] = tmp;
      if (adc === 'f32inl') {
        c(get(y[i]), get(rec), splat32(108), F32X4_SUB, get(rec), splat32(112), F32X4_MUL, k.f32(1), F32X4_PMIN, k.f32(0), F32X4_PMAX, tee(x));
        c(k.f32(1), get(x), F32X4_SUB, F32X4_MUL, set(x));
      }
      c(get(y[i]), get(rec), splat32(96), F32X4_MUL, get(rec), splat32(100), F32X4_ADD);
      if (adc === 'f32inl') c(get(rec), splat32(104), get(x), F32X4_MUL, F32X4_ADD);
      c(tee(x), get(x), k.i32([-0x80000000]), V128_AND, k.f32(0.5), V128_OR, F32X4_ADD, F32X4_TRUNC);
      c(get(rec), splat32(120), F32X4_PMIN, get(rec), splat32(116), F32X4_PMAX, toInt());
      return;
    }
    const [a, q, x] = tmp;
    for (let h = 0; h < 2; h++) {
      // v (f64) in a; a = v·gain + offset (+ inl·(1 − (2x − 1)²), x = clamp((v − lo)·invSpan, 0, 1))
      if (h) c(get(y[i]), get(y[i]), shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]), F64X2_PROMOTE_LOW, set(a));
      else c(get(y[i]), F64X2_PROMOTE_LOW, set(a));
      if (adc === 'inl') {
        c(get(a), get(rec), splat64(32), F64X2_SUB, get(rec), splat64(40), F64X2_MUL, k.f64(1), F64X2_PMIN, k.f64(0), F64X2_PMAX, set(x));
        c(get(x), k.f64(2), F64X2_MUL, k.f64(1), F64X2_SUB, set(x));
      }
      c(get(a), get(rec), splat64(0), F64X2_MUL, get(rec), splat64(8), F64X2_ADD);
      if (adc === 'inl') c(get(rec), splat64(24), k.f64(1), get(x), get(x), F64X2_MUL, F64X2_SUB, F64X2_MUL, F64X2_ADD);
      c(get(rec), splat64(16), F64X2_DIV, set(q));
      // round half away from zero: trunc(q) + (|q − trunc(q)| ≥ ½ ? sign(q) : 0), then clip
      c(get(q), F64X2_TRUNC, set(a));
      c(get(a), get(q), get(a), F64X2_SUB, F64X2_ABS, k.f64(0.5), F64X2_GE, get(q), k.i32([0, -0x80000000, 0, -0x80000000]), V128_AND, k.f64(1), V128_OR, V128_AND, F64X2_ADD);
      c(get(rec), splat64(56), F64X2_PMIN, get(rec), splat64(48), F64X2_PMAX, I32X4_TRUNC_SAT_F64X2_S_ZERO);
      c(set(tmp[3 + h]));
    }
    c(get(tmp[3]), get(tmp[4]), shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]));
  };

  /** int16 tables: column sums in w/2 i16x8, clipped to int16 codes, widened to the int32 shift-add. */
  const i16 = adc === 'i16';
  /** One panel of w int32x4 accumulators (4w columns from j0) of weight digit s, for vectors [r0, r1). */
  const panel = (w: number) => {
    const nv = i16 ? w / 2 : w;
    c(get(table), get(s), get(nbp), MUL, get(j0), ADD, i32(i16 ? 2 : 4), MUL, ADD, set(col));
    forLoop(c, p, [get(r0)], [get(r1)], [i32(1)], () => {
      for (let i = 0; i < w; i++) c(vzero(), set(acc[i]));
      c(get(offs), get(p), get(cycles), MUL, get(groups), MUL, i32(4), MUL, ADD, set(ip));
      forLoop(c, t, [i32(0)], [get(cycles)], [i32(1)], () => {
        for (let i = 0; i < nv; i++) c(vzero(), set(y[i]));
        if (noise === 'cells') for (let i = 0; i < w; i++) c(vzero(), set(vr[i]));
        // Σ over groups of the table rows the digits select (f32, in group order)
        c(get(ip), get(groups), i32(4), MUL, ADD, set(gEnd));
        c(LOOP);
        c(get(ip), i32load(), get(col), ADD, set(off));
        for (let i = 0; i < nv; i++) c(get(y[i]), get(off), vload(16 * i), i16 ? I16X8_ADD : F32X4_ADD, set(y[i]));
        if (noise === 'cells') for (let i = 0; i < w; i++) c(get(vr[i]), get(off), get(varDelta), ADD, vload(16 * i), F32X4_ADD, set(vr[i]));
        c(get(ip), i32(4), ADD, tee(ip), get(gEnd), LT_U, brIf(0), END);
        /** The codes of y[i] into acc[i] (shifted by the cycle). */
        const shiftAdd = (i: number) => {
          c(get(acc[i]));
          convert(i);
          c(get(t), get(dac), MUL, I32X4_SHL, I32X4_ADD, set(acc[i]));
        };
        if (noise !== 'none') {
          if (noise === 'uniform') {
            // std sqrt(var·Σ_k digit²), the same for every column of this vector and cycle
            c(get(rec), f32load(72), get(s2), get(p), get(cycles), MUL, get(t), ADD, i32(4), MUL, ADD, f32load(), F32_MUL, F32_SQRT, F32X4_SPLAT, set(sd));
          }
          c(get(p), get(cycles), MUL, get(t), ADD, get(slices), MUL, get(s), ADD, get(nbp), MUL, get(j0), ADD, set(n0));
          // a pair of vectors at a time: its normals, then its conversions (fewer live registers)
          for (let i = 0; i < w; i += 2) {
            if (i) c(get(n0), i32(8), ADD, set(n0));
            boxMuller(c, k, n0, seed, zc, zs, tmp);
            for (const [k, z] of [[i, zc], [i + 1, zs]]) {
              if (noise === 'uniform') c(get(y[k]), get(sd), get(z), F32X4_MUL, F32X4_ADD, set(y[k]));
              else c(get(y[k]), get(vr[k]), F32X4_SQRT, get(z), F32X4_MUL, F32X4_ADD, set(y[k]));
            }
            shiftAdd(i);
            shiftAdd(i + 1);
          }
        } else if (i16) {
          for (let i = 0; i < nv; i++) {
            c(get(y[i]), get(rec), i32load(84), I16X8_SPLAT, I16X8_MIN_S, get(rec), i32load(80), I16X8_SPLAT, I16X8_MAX_S, set(y[i]));
            for (const [h, ext] of [[0, I32X4_EXTEND_LOW_I16X8_S], [1, I32X4_EXTEND_HIGH_I16X8_S]] as const) {
              c(get(acc[2 * i + h]), get(y[i]), ext, get(t), get(dac), MUL, I32X4_SHL, I32X4_ADD, set(acc[2 * i + h]));
            }
          }
        } else for (let i = 0; i < w; i++) shiftAdd(i);
      });
      // out[p, j0 + ..] += coef·acc (float64)
      c(get(out), get(p), get(nbp), MUL, get(j0), ADD, i32(8), MUL, ADD, set(outP));
      for (let i = 0; i < w; i++) {
        c(get(outP), get(outP), vload(32 * i), get(rec), splat64(64), get(acc[i]), F64X2_CONVERT_LOW_I32X4_S, F64X2_MUL, F64X2_ADD, vstore(32 * i));
        c(get(outP), get(outP), vload(32 * i + 16), get(rec), splat64(64), get(acc[i]), get(acc[i]), shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]));
        c(F64X2_CONVERT_LOW_I32X4_S, F64X2_MUL, F64X2_ADD, vstore(32 * i + 16));
      }
    });
  };

  forLoop(c, s, [i32(0)], [get(slices)], [i32(1)], () => {
    c(get(adcAt), get(s), i32(ADC_RECORD), MUL, ADD, set(rec));
    // panels of 16 columns, then one of 8 if nbp (a multiple of 8) leaves one
    c(i32(0), set(j0));
    c(BLOCK, LOOP, get(j0), i32(16), ADD, get(nbp), GT_S, brIf(1));
    panel(4);
    c(get(j0), i32(16), ADD, set(j0), br(0), END, END);
    c(get(j0), get(nbp), LT_S, IF);
    panel(2);
    c(END);
  });
  c(END);
  return [...vec([[...leb(nI32), I32], [...leb(nV), V128]]), ...code];
}

/**
 * digits: per vector p of [r0, r1), cycle t, group g: offs = (g·entries + index)·rowBytes, index =
 * Σ_j digit_t(u[g·rpg + j]) << (j·dac) (rows past kb: digit 0); s2 = Σ_k digit². Four groups at a time
 * in SIMD (lanes = groups) while they are whole, the rest one by one; s2 by i32x4.dot_i16x8_s.
 */
function digitsBody(k: ConstPool): number[] {
  const [u, ldu, kb, k0, cycles, dac, rpg, r0, r1, groups, entries, rowBytes, offs, s2] = DIGITS_PARAMS.map((_, i) => i);
  let l = DIGITS_PARAMS.length;
  const p = l++;
  const t = l++;
  const g = l++;
  const j = l++;
  const kk = l++;
  const idx = l++;
  const d = l++;
  const sq = l++;
  const row = l++;
  const mask = l++;
  const oRow = l++;
  const nI32 = l - DIGITS_PARAMS.length;
  const a = l++;
  const b = l++;
  const U = [l++, l++, l++, l++];
  const gv = l++;
  const stepV = l++;
  const x = l++;
  const nV = l - DIGITS_PARAMS.length - nI32;
  const { code, c } = emitter();
  c(i32(1), get(dac), SHL, i32(1), SUB, set(mask));
  // lane q of a chunk is group g + q: its table base (g + q)·entries·rowBytes
  c(k.i32([0, 1, 2, 3]), get(entries), get(rowBytes), MUL, I32X4_SPLAT, I32X4_MUL, set(stepV));

  /** Four whole groups of r rows from group g (r = rpg; dac = 4/r, or 3 or 4 for r = 1). */
  const chunk = (r: number) => {
    c(get(row), get(g), i32(2 * r), MUL, ADD, tee(kk), vload(0), set(a), get(kk), vload(16), set(b));
    for (let jj = 0; jj < r; jj++) {
      const lanes: number[] = [];
      for (let q = 0; q < 4; q++) {
        const at = 2 * (q * r + jj);
        lanes.push(at, at + 1, at, at + 1);
      }
      c(get(a), get(b), shuffle(lanes), k.i32([0xffff]), V128_AND, set(U[jj]));
    }
    c(get(g), get(entries), MUL, get(rowBytes), MUL, I32X4_SPLAT, get(stepV), I32X4_ADD, set(gv));
    forLoop(c, t, [i32(0)], [get(cycles)], [i32(1)], () => {
      for (let jj = 0; jj < r; jj++) {
        c(get(U[jj]), get(t), get(dac), MUL, I32X4_SHR_U, get(mask), I32X4_SPLAT, V128_AND);
        if (jj) c(i32(jj * (4 / r)), I32X4_SHL, get(x), V128_OR);
        c(set(x));
      }
      c(get(oRow), get(t), get(groups), MUL, get(g), ADD, i32(4), MUL, ADD);
      c(get(x), get(rowBytes), I32X4_SPLAT, I32X4_MUL, get(gv), I32X4_ADD, vstore(0));
    });
    c(get(g), i32(4), ADD, set(g));
  };

  forLoop(c, p, [get(r0)], [get(r1)], [i32(1)], () => {
    c(get(u), get(p), get(ldu), MUL, get(k0), ADD, i32(2), MUL, ADD, set(row));
    c(get(offs), get(p), get(cycles), MUL, get(groups), MUL, i32(4), MUL, ADD, set(oRow));
    c(i32(0), set(g));
    for (const r of [4, 2, 1]) {
      c(get(rpg), i32(r), EQ, IF);
      c(BLOCK, LOOP, get(g), i32(4), ADD, i32(r), MUL, get(kb), GT_S, brIf(1));
      chunk(r);
      c(br(0), END, END, END);
    }
    // the remaining groups one by one
    forLoop(c, g, [get(g)], [get(groups)], [i32(1)], () => {
      forLoop(c, t, [i32(0)], [get(cycles)], [i32(1)], () => {
        c(i32(0), set(idx));
        forLoop(c, j, [i32(0)], [get(rpg)], [i32(1)], () => {
          c(get(g), get(rpg), MUL, get(j), ADD, tee(kk), get(kb), LT_S, IF);
          c(get(row), get(kk), i32(2), MUL, ADD, i32load16s(), get(t), get(dac), MUL, SHR_U, get(mask), AND, set(d));
          c(get(idx), get(d), get(j), get(dac), MUL, SHL, OR, set(idx));
          c(END);
        });
        c(get(oRow), get(t), get(groups), MUL, get(g), ADD, i32(4), MUL, ADD, get(g), get(entries), MUL, get(idx), ADD, get(rowBytes), MUL, i32store());
      });
    });
    // s2 = Σ_k digit² per cycle: eight rows at a time, then the rest
    forLoop(c, t, [i32(0)], [get(cycles)], [i32(1)], () => {
      c(vzero(), set(x), i32(0), set(kk));
      c(BLOCK, LOOP, get(kk), i32(8), ADD, get(kb), GT_S, brIf(1));
      c(get(row), get(kk), i32(2), MUL, ADD, vload(0), get(t), get(dac), MUL, I16X8_SHR_U, get(mask), I16X8_SPLAT, V128_AND, tee(a), get(a), I32X4_DOT_I16X8_S);
      c(get(x), I32X4_ADD, set(x), get(kk), i32(8), ADD, set(kk), br(0), END, END);
      c(get(x), lane(0), get(x), lane(1), ADD, get(x), lane(2), ADD, get(x), lane(3), ADD, set(sq));
      forLoop(c, kk, [get(kk)], [get(kb)], [i32(1)], () => {
        c(get(row), get(kk), i32(2), MUL, ADD, i32load16s(), get(t), get(dac), MUL, SHR_U, get(mask), AND, set(d));
        c(get(sq), get(d), get(d), MUL, ADD, set(sq));
      });
      c(get(s2), get(p), get(cycles), MUL, get(t), ADD, i32(4), MUL, ADD, get(sq), F32_CONVERT_I32_U, f32store());
    });
  });
  c(END);
  return [...vec([[...leb(nI32), I32], [...leb(nV), V128]]), ...code];
}

/** table: per group, entry e = entry[prev_e] + d_e·levels[group row j_e] (plan: (prev, j, d as f32) per entry). */
function tableBody(): number[] {
  const [levels, rowVecs, entries, groups, rpg, plan, table] = TABLE_PARAMS.map((_, i) => i);
  let l = TABLE_PARAMS.length;
  const g = l++;
  const e = l++;
  const dst = l++;
  const src = l++;
  const lv = l++;
  const end = l++;
  const pl = l++;
  const rowBytes = l++;
  const gBase = l++;
  const nI32 = l - TABLE_PARAMS.length;
  const d = l++;
  const { code, c } = emitter();
  c(get(rowVecs), i32(16), MUL, set(rowBytes));
  forLoop(c, g, [i32(0)], [get(groups)], [i32(1)], () => {
    c(get(table), get(g), get(entries), MUL, get(rowBytes), MUL, ADD, set(gBase));
    // entry 0: zeros
    c(get(gBase), set(dst), get(gBase), get(rowBytes), ADD, set(end));
    c(BLOCK, LOOP, get(dst), get(end), GE_S, brIf(1), get(dst), vzero(), vstore(0), get(dst), i32(16), ADD, set(dst), br(0), END, END);
    forLoop(c, e, [i32(1)], [get(entries)], [i32(1)], () => {
      c(get(plan), get(e), i32(12), MUL, ADD, set(pl));
      c(get(gBase), get(pl), i32load(0), get(rowBytes), MUL, ADD, set(src));
      c(get(levels), get(g), get(rpg), MUL, get(pl), i32load(4), ADD, get(rowBytes), MUL, ADD, set(lv));
      c(get(pl), splat32(8), set(d));
      c(get(gBase), get(e), get(rowBytes), MUL, ADD, tee(dst), get(rowBytes), ADD, set(end));
      c(BLOCK, LOOP, get(dst), get(end), GE_S, brIf(1));
      c(get(dst), get(src), vload(0), get(d), get(lv), vload(0), F32X4_MUL, F32X4_ADD, vstore(0));
      c(get(dst), i32(16), ADD, set(dst), get(src), i32(16), ADD, set(src), get(lv), i32(16), ADD, set(lv), br(0), END, END);
    });
  });
  c(END);
  return [...vec([[...leb(nI32), I32], [1, V128]]), ...code];
}

/** normals: groups of 8 standard normals [base8, base8 + count8) of the stream `seed`, to out. */
function normalsBody(k: ConstPool): number[] {
  const [out, count8, seed, base8] = NORMALS_PARAMS.map((_, i) => i);
  let l = NORMALS_PARAMS.length;
  const q = l++;
  const n0 = l++;
  const nI32 = l - NORMALS_PARAMS.length;
  const zc = l++;
  const zs = l++;
  const tmp = [l++, l++, l++, l++, l++];
  const { code, c } = emitter();
  forLoop(c, q, [i32(0)], [get(count8)], [i32(1)], () => {
    c(get(base8), get(q), ADD, i32(8), MUL, set(n0));
    boxMuller(c, k, n0, seed, zc, zs, tmp);
    c(get(out), get(q), i32(32), MUL, ADD, get(zc), vstore(0));
    c(get(out), get(q), i32(32), MUL, ADD, get(zs), vstore(16));
  });
  c(END);
  return [...vec([[...leb(nI32), I32], [7, V128]]), ...code];
}

/**
 * quantize: q = clamp(floor(|v| + ½)·sign(v) + zeroPoint, qmin, qmax), v = fround(x / scale) — the integer
 * executor's quantizeInput, two values at a time in float64 (|v| + ½ is exact for a float32 v).
 */
function quantizeBody(k: ConstPool): number[] {
  const [x, out, prm, n, , , , r0, r1] = QUANTIZE_PARAMS.map((_, i) => i);
  let l = QUANTIZE_PARAMS.length;
  const i = l++;
  const end = l++;
  const nI32 = l - QUANTIZE_PARAMS.length;
  const q = l++;
  const { code, c } = emitter();
  c(get(r0), i32(QUANTIZE_BLOCK), MUL, set(i));
  minInto(c, end, [get(r1), i32(QUANTIZE_BLOCK), MUL], [get(n)]);
  c(BLOCK, LOOP, get(i), get(end), GE_S, brIf(1));
  c(get(x), get(i), i32(4), MUL, ADD, LOAD64_ZERO, F64X2_PROMOTE_LOW, get(prm), splat64(0), F64X2_DIV, F32X4_DEMOTE, F64X2_PROMOTE_LOW, set(q));
  c(get(out), get(i), i32(4), MUL, ADD);
  c(get(q), F64X2_ABS, k.f64(0.5), F64X2_ADD, F64X2_FLOOR, get(q), k.i32([0, -0x80000000, 0, -0x80000000]), V128_AND, V128_OR, get(prm), splat64(8), F64X2_ADD);
  c(get(prm), splat64(24), F64X2_PMIN, get(prm), splat64(16), F64X2_PMAX, I32X4_TRUNC_SAT_F64X2_S_ZERO, STORE64_LANE0);
  c(get(i), i32(2), ADD, set(i), br(0), END, END);
  c(END);
  return [...vec([[...leb(nI32), I32], [1, V128]]), ...code];
}

/**
 * requantize: q = clamp(z + round½away(x·m0 / P), qmin, qmax), x = round½away(acc) + bias, two channels at
 * a time: for |x| < 2^21 the product is below 2^52, so floor((|x·m0| + P/2)·2^-n) is exact — the integer
 * executor's multiplyByQuantizedMultiplier. Larger |x| flag the block (computed in JS instead).
 */
function requantizeBody(k: ConstPool): number[] {
  const [acc, out, prm, channels, rows, flags, , r0, r1] = REQUANT_PARAMS.map((_, i) => i);
  let l = REQUANT_PARAMS.length;
  const row = l++;
  const end = l++;
  const ch = l++;
  const i = l++;
  const cp = l++;
  const sc = l++;
  const nI32 = l - REQUANT_PARAMS.length;
  const a = l++;
  const x = l++;
  const big = l++;
  const { code, c } = emitter();
  const SIGN = k.i32([0, -0x80000000, 0, -0x80000000]);
  c(get(prm), get(channels), i32(32), MUL, ADD, set(sc)); // zero point, qmin, qmax
  forLoop(c, row, [get(r0)], [get(r1)], [i32(1)], () => {
    c(vzero(), set(big));
    c(get(row), i32(REQUANT_ROWS), MUL, set(i));
    minInto(c, end, [get(i), i32(REQUANT_ROWS), ADD], [get(rows)]);
    forLoop(c, i, [get(i)], [get(end)], [i32(1)], () => {
      forLoop(c, ch, [i32(0)], [get(channels)], [i32(2)], () => {
        c(get(prm), get(ch), i32(8), MUL, ADD, set(cp));
        // x = round½away(acc) + bias
        c(get(acc), get(i), get(channels), MUL, get(ch), ADD, i32(8), MUL, ADD, vload(0), tee(a), F64X2_TRUNC, set(x));
        c(get(x), get(a), get(x), F64X2_SUB, F64X2_ABS, k.f64(0.5), F64X2_GE, get(a), SIGN, V128_AND, k.f64(1), V128_OR, V128_AND, F64X2_ADD);
        c(get(cp), vload(0), F64X2_ADD, tee(x));
        c(F64X2_ABS, k.f64(2 ** 21), F64X2_GE, get(big), V128_OR, set(big));
        // x·m0, rounded half away from zero at P
        c(get(x), get(cp), get(channels), i32(8), MUL, ADD, vload(0), F64X2_MUL, tee(a));
        c(F64X2_ABS, get(cp), get(channels), i32(16), MUL, ADD, vload(0), F64X2_ADD, get(cp), get(channels), i32(24), MUL, ADD, vload(0), F64X2_MUL, F64X2_FLOOR);
        c(get(a), SIGN, V128_AND, V128_OR, get(sc), splat64(0), F64X2_ADD);
        c(get(sc), splat64(16), F64X2_PMIN, get(sc), splat64(8), F64X2_PMAX, I32X4_TRUNC_SAT_F64X2_S_ZERO, set(a));
        c(get(out), get(i), get(channels), MUL, get(ch), ADD, i32(4), MUL, ADD, get(a), STORE64_LANE0);
      });
    });
    c(get(flags), get(row), i32(4), MUL, ADD, get(big), V128_ANY_TRUE, i32store());
  });
  c(END);
  return [...vec([[...leb(nI32), I32], [3, V128]]), ...code];
}

/** Export names in function order: digits, table, normals, then the convert kinds. */
export const BITSERIAL_EXPORTS: readonly string[] = ['digits', 'table', 'normals', 'quantize', 'requantize', ...CONVERT_KINDS.map(([n, a]) => `convert_${n}_${a}`)];

/**
 * The module (imports env.mem; shared: limits 1..65536 pages, for the helper thread) and the constants
 * to write at address 0 of its memory before use.
 */
export function bitSerialModule(shared: boolean): { bytes: Uint8Array; constants: Uint8Array } {
  const k = new ConstPool();
  const bodies = [digitsBody(k), tableBody(), normalsBody(k), quantizeBody(k), requantizeBody(k), ...CONVERT_KINDS.map(([n, a]) => convertBody(n, a, k))];
  const sig = (n: number) => [0x60, ...vec(new Array(n).fill([I32])), 0];
  const types = [sig(DIGITS_PARAMS.length), sig(TABLE_PARAMS.length), sig(NORMALS_PARAMS.length), sig(QUANTIZE_PARAMS.length), sig(CONVERT_PARAMS.length)];
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, ...(shared ? [0x03, 0x01, ...leb(65536)] : [0x00, 0x01])]])),
    ...section(3, vec(bodies.map((_, i) => [i < 4 ? i : i === 4 ? 3 : 4]))),
    ...section(7, vec(BITSERIAL_EXPORTS.map((name, i) => [...str(name), 0x00, i]))),
    ...section(10, vec(bodies.map((b) => [...leb(b.length), ...b]))),
  ]);
  return { bytes, constants: Uint8Array.from(k.bytes) };
}
