// Converters: the column ADC's transfer function and the input DAC's digit split.
//
// ADC (b bits over a full scale FS > 0):
//   signed:   codes −(2^(b−1)−1) .. 2^(b−1)−1 (symmetric, for differential pairs or two's-complement
//             sums), input range [−FS, FS];
//   unsigned: codes 0 .. 2^b−1, input range [0, FS];
//   step (LSB) = FS / maxCode;
//   code = clamp(roundHalfAway((v·(1 + gainError) + offsetLsb·step + inl(v)) / step), minCode, maxCode);
//   inl(v) = inlLsb·step·(1 − (2u − 1)²), u ∈ [0, 1] the position of v in the input range (clipped):
//            a smooth bow, 0 at both ends, inlLsb at mid-range;
//   reconstruction = code·step.
// A centred converter (center c ≠ 0, signed only: a reference offset subtracted before conversion, e.g. a
// trimmed reference current) converts v − c over [c − FS, c + FS]; the shift-add adds c back:
//   code = clamp(roundHalfAway(((v − c)·(1 + gainError) + offsetLsb·step + inl(v)) / step), ...),
//   reconstruction = c + code·step.
// Rounding is ties away from zero (Tandem's convention, roundHalfAway in
// compiler/passes/quantize/fixed-point.ts). Exactness: with step 1 and no gain/offset/INL error, an
// integer input within range converts to itself exactly (every operation is then exact in doubles).
import type { AdcSpec } from '../spec/types.js';

export interface AdcTransfer {
  readonly bits: number;
  /** Symmetric signed codes (true) or unsigned codes from 0 (false). */
  readonly signed: boolean;
  /** Full-scale input (the input of the largest code), > 0. */
  readonly fullScale: number;
  /** Static offset, LSB (default 0). */
  readonly offsetLsb?: number;
  /** Relative gain error (0.01 = slope 1% high; default 0). */
  readonly gainError?: number;
  /** Peak INL at mid-range, LSB (default 0). */
  readonly inlLsb?: number;
  /** Midpoint of the input range (signed converters; default 0). */
  readonly center?: number;
}

/** The ADC transfer of a spec's converter at a given full scale (from its range policy). */
export function adcFromSpec(spec: AdcSpec, fullScale: number, signed: boolean, center = 0): AdcTransfer {
  return { bits: spec.bits, signed, fullScale, offsetLsb: spec.offsetLsb, gainError: spec.gainError, inlLsb: spec.inlLsb, center };
}

/** The largest code: 2^(b−1) − 1 (signed) or 2^b − 1 (unsigned). */
export function adcMaxCode(bits: number, signed: boolean): number {
  if (!Number.isInteger(bits) || bits < (signed ? 2 : 1) || bits > 52) throw new RangeError(`ADC bits ${bits} out of range for a ${signed ? 'signed' : 'unsigned'} converter`);
  return signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
}

/** The LSB step FS / maxCode. */
export function adcStep(adc: AdcTransfer): number {
  if (!(adc.fullScale > 0) || !Number.isFinite(adc.fullScale)) throw new RangeError(`ADC full scale ${adc.fullScale} must be finite and > 0`);
  return adc.fullScale / adcMaxCode(adc.bits, adc.signed);
}

/** An ADC's transfer as the constants the conversion loop needs (prepareAdc). */
export interface PreparedAdc {
  readonly step: number;
  readonly maxCode: number;
  readonly minCode: number;
  readonly gain: number;
  readonly offset: number; // offsetLsb·step − center·gain (the centre is subtracted here, so the kernels need not know it)
  /** Added back to every reconstructed conversion (code·step + center). */
  readonly center: number;
  readonly inlPeak: number; // inlLsb·step
  readonly lo: number; // input range [lo, lo + span]
  readonly invSpan: number;
}

export function prepareAdc(adc: AdcTransfer): PreparedAdc {
  const step = adcStep(adc);
  const maxCode = adcMaxCode(adc.bits, adc.signed);
  const fs = adc.fullScale;
  const center = adc.center ?? 0;
  if (center !== 0 && !adc.signed) throw new RangeError(`ADC centre ${center}: only a signed converter has a centred range`);
  const gain = 1 + (adc.gainError ?? 0);
  return {
    step,
    maxCode,
    minCode: adc.signed ? -maxCode : 0,
    gain,
    offset: (adc.offsetLsb ?? 0) * step - center * gain,
    center,
    inlPeak: (adc.inlLsb ?? 0) * step,
    lo: adc.signed ? center - fs : 0,
    invSpan: adc.signed ? 1 / (2 * fs) : 1 / fs,
  };
}

function codeOf(v: number, p: PreparedAdc): number {
  let a = v * p.gain + p.offset;
  if (p.inlPeak !== 0) {
    let u = (v - p.lo) * p.invSpan;
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    const w = 2 * u - 1;
    a += p.inlPeak * (1 - w * w);
  }
  const q = a / p.step;
  const c = q < 0 ? -Math.round(-q) : Math.round(q);
  return (c < p.minCode ? p.minCode : c > p.maxCode ? p.maxCode : c) + 0; // + 0: no −0
}

/** The output code of one conversion of v. */
export function adcCode(v: number, adc: AdcTransfer): number {
  return codeOf(v, prepareAdc(adc));
}

/** One conversion of v, reconstructed: center + code·step. */
export function adcConvert(v: number, adc: AdcTransfer): number {
  const p = prepareAdc(adc);
  return p.center + codeOf(v, p) * p.step;
}

/**
 * Converts every value in place: to center + code·step (output 'value', default) or to the code ('code').
 * Returns `values`.
 */
export function convertInPlace<T extends Float32Array | Float64Array>(values: T, adc: AdcTransfer, output: 'value' | 'code' = 'value'): T {
  const p = prepareAdc(adc);
  const { step, maxCode, minCode, gain, offset, inlPeak, lo, invSpan } = p;
  const scale = output === 'value' ? step : 1;
  const add = output === 'value' ? p.center : 0;
  const n = values.length;
  if (inlPeak === 0) {
    for (let i = 0; i < n; i++) {
      const q = (values[i] * gain + offset) / step;
      let c = q < 0 ? -Math.round(-q) : Math.round(q);
      c = c < minCode ? minCode : c > maxCode ? maxCode : c;
      values[i] = c * scale + add + 0;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      let u = (v - lo) * invSpan;
      u = u < 0 ? 0 : u > 1 ? 1 : u;
      const w = 2 * u - 1;
      const q = (v * gain + offset + inlPeak * (1 - w * w)) / step;
      let c = q < 0 ? -Math.round(-q) : Math.round(q);
      c = c < minCode ? minCode : c > maxCode ? maxCode : c;
      values[i] = c * scale + add + 0;
    }
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// DAC digits (bit-serial / multi-bit inputs)

/** Digits of an inputBits-wide input applied dacBits per cycle: ceil(inputBits / dacBits). */
export function dacDigitCount(inputBits: number, dacBits: number): number {
  if (!Number.isInteger(inputBits) || inputBits < 1 || inputBits > 52) throw new RangeError(`input bits ${inputBits} out of range`);
  if (!Number.isInteger(dacBits) || dacBits < 1) throw new RangeError(`DAC bits ${dacBits} must be a positive integer`);
  return Math.ceil(inputBits / dacBits);
}

/**
 * Splits an integer input code into dacBits-wide digits, least significant first, with
 * code = Σ_i digit_i·2^(dacBits·i).
 *   unsigned: code ∈ [0, 2^inputBits − 1], digits ∈ [0, 2^dacBits − 1];
 *   signed:   code ∈ [−2^(inputBits−1), 2^(inputBits−1) − 1] in two's complement: the digits of its
 *             inputBits-bit pattern, the top digit (width w = inputBits − dacBits·(count − 1)) read
 *             as a signed w-bit number, in [−2^(w−1), 2^(w−1) − 1].
 * Writes `out` (allocated if absent) and returns it.
 */
export function dacDigits(code: number, dacBits: number, inputBits: number, signed = false, out?: number[]): number[] {
  const count = dacDigitCount(inputBits, dacBits);
  const lo = signed ? -(2 ** (inputBits - 1)) : 0;
  const hi = signed ? 2 ** (inputBits - 1) - 1 : 2 ** inputBits - 1;
  if (!Number.isInteger(code) || code < lo || code > hi) throw new RangeError(`input code ${code} outside the ${signed ? 'signed' : 'unsigned'} ${inputBits}-bit range [${lo}, ${hi}]`);
  const o = out ?? new Array<number>(count);
  o.length = count;
  const radix = 2 ** dacBits;
  let u = code < 0 ? code + 2 ** inputBits : code; // the bit pattern
  for (let i = 0; i < count; i++) {
    const d = u % radix;
    o[i] = d;
    u = (u - d) / radix;
  }
  if (signed) {
    const w = inputBits - dacBits * (count - 1);
    if (o[count - 1] >= 2 ** (w - 1)) o[count - 1] -= 2 ** w;
  }
  return o;
}

/**
 * dacDigits over many codes: plane i holds digit i of every code (same layout as `codes`), ready to
 * be one input cycle's X. Returns the planes, least significant first.
 */
export function dacDigitPlanes(codes: ArrayLike<number>, dacBits: number, inputBits: number, signed = false): Float32Array[] {
  const count = dacDigitCount(inputBits, dacBits);
  const planes = Array.from({ length: count }, () => new Float32Array(codes.length));
  const digits = new Array<number>(count);
  for (let e = 0; e < codes.length; e++) {
    dacDigits(codes[e], dacBits, inputBits, signed, digits);
    for (let i = 0; i < count; i++) planes[i][e] = digits[i];
  }
  return planes;
}
