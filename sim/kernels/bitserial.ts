// The fused bit-serial crossbar kernel: for one block (rows × columns of an array) and a batch of input
// vectors, every input cycle t's column sums Y = Σ_k digit_t(u_k)·level_s(k, n) for every weight digit s,
// read noise on each, the ADC and the shift-add, without materialising the (cycles·vectors) × (digits·
// columns) column sums:
//   - the column sums come from lookup tables, not a GEMM: the block's rows in groups of r = ⌊4/dacBits⌋,
//     each group's table holds the 2^(r·dacBits) sums Σ_j d_j·level[row j] of every column, so that one
//     vector's sums in one cycle are the sum of G = ⌈rows/r⌉ table rows (four times fewer f32x4 adds than
//     multiply-adds for bit-serial inputs, and no multiplies). Built per block and call (a few % of it).
//     Groups of 8 rows (256-row tables) measured ~10% faster with read noise but 2x slower on exact
//     blocks of 256 vectors (building and converting the 2 MB tables): not used;
//   - read noise: a standard normal per column sum from a counter-based generator (bitserial-wasm.ts),
//     so that every number depends only on (seed, vector, cycle, digit, column): any split of the vectors
//     between threads gives the same results;
//   - the ADC runs in float64 with sim/devices/adc.ts's arithmetic (in float32 under read noise, see
//     AdcKind), the shift-add Σ_t 2^(t·dacBits)·code in int32 (exact), and Σ_s coef_s·(that) in float64.
// WebAssembly SIMD on both threads (threads.ts's splitter, vectors in chunks), or the same arithmetic in
// plain JS, bit for bit (tests). Column sums are float32 (or int16) sums in group order: exact for
// integer levels (|Y| < 2^24), so exact mode is bit-exact; analog levels see float32 rounding (~1e-7).
// Single-thread cost per column sum on 128-row blocks (Zen 3, loaded machine, best of 25): exact
// ~2.4 ns, float64 ADC with INL ~5.4 ns, uniform read noise + float32 ADC with INL ~6.9 ns, per-cell
// read-noise variances ~9 ns; normals alone ~330 M/s per core.
// The same engine also runs the integer executor's input quantization and requantization (bit for bit,
// both threads), the simulator's first and last step around every crossbar layer.
import { type IntLayer, quantizeInput, requantize } from '../../compiler/passes/quantize/int8-executor.js';
import { activationRange, type ValueParams } from '../../compiler/passes/quantize/scheme.js';
import type { WasmApi } from '../../compiler/util/wasm-encode.js';
import type { PreparedAdc } from '../devices/adc.js';
import {
  ADC_RECORD, type AdcKind, BITSERIAL_EXPORTS, bitSerialModule, CONST_BYTES, CONVERT_PARAMS, COS_P, GOLDEN, LOG_P, LOG_Q1, LOG_Q2, type NoiseKind, PHI_BASE, PHI_SCALE,
  QUANTIZE_BLOCK, REQUANT_ROWS, SIN_P,
} from './bitserial-wasm.js';
import { rowSplitter, type RowSplitter } from './threads.js';

/** Widest DAC the tables handle (one row per group, 16 entries). */
const MAX_DAC_BITS = 4;

/**
 * Whether the kernel computes this layer exactly as defined: DAC digits of at most 4 bits, codes below
 * 2^22 (float32 integers), and the shift-add Σ_t 2^(t·dacBits)·code within int32.
 */
export function bitSerialSupported(dacBits: number, cycles: number, maxCode: number): boolean {
  return dacBits <= MAX_DAC_BITS && maxCode < 2 ** 22 && (2 ** (cycles * dacBits) - 1) * maxCode < 2 ** 31;
}

/** One block's cells and converters. */
export interface BitSerialBlock {
  /** First row of the block in the vectors, rows, weight columns per digit, digits. */
  readonly k0: number;
  readonly rows: number;
  readonly cols: number;
  readonly slices: number;
  /** Levels [rows × (slices·cols)]: column s·cols + n is digit s of weight column n. */
  readonly levels: Float32Array;
  /** Per-cell read-noise variance (same layout), or one variance for every cell, or none. */
  readonly readVariance?: Float32Array;
  readonly uniformReadVariance?: number;
  /** ADC per digit, and the weight of its codes in the result (significance·step·gain). */
  readonly adc: readonly PreparedAdc[];
  readonly coef: readonly number[];
  /** Integer levels and ADCs with step 1 and no offset, gain or INL error: the code is the clipped sum. */
  readonly identity: boolean;
  /** Read-noise stream. */
  readonly seed: number;
}

// ---------------------------------------------------------------------------------------------------
// Shared layout.

const rowsPerGroup = (dac: number) => Math.max(1, Math.floor(MAX_DAC_BITS / dac));
/** Columns per digit in the tables: a multiple of 8 (the kernel's panels are 16 or 8 columns). */
const paddedCols = (cols: number) => Math.ceil(cols / 8) * 8;

interface Plan {
  readonly prev: Int32Array;
  readonly row: Int32Array;
  readonly mult: Float32Array;
}

/** Table entry e = entry[e without its lowest nonzero digit d at row j] + d·level[j] (d² for variances). */
function tablePlan(dac: number, square: boolean): Plan {
  const rpg = rowsPerGroup(dac);
  const entries = 2 ** (rpg * dac);
  const mask = 2 ** dac - 1;
  const prev = new Int32Array(entries);
  const row = new Int32Array(entries);
  const mult = new Float32Array(entries);
  for (let e = 1; e < entries; e++) {
    let j = 0;
    while (((e >> (j * dac)) & mask) === 0) j++;
    const d = (e >> (j * dac)) & mask;
    prev[e] = e - (d << (j * dac));
    row[e] = j;
    mult[e] = square ? d * d : d;
  }
  return { prev, row, mult };
}

const noiseKind = (b: BitSerialBlock): NoiseKind => (b.uniformReadVariance !== undefined ? 'uniform' : b.readVariance ? 'cells' : 'none');
/** The ADC arithmetic: float64 as sim/devices/adc.ts without read noise, float32 with it (bitserial-wasm.ts). */
function adcKind(b: BitSerialBlock, dac: number): AdcKind {
  const inl = b.adc.some((a) => a.inlPeak !== 0);
  if (noiseKind(b) !== 'none') return inl ? 'f32inl' : 'f32';
  if (!b.identity) return inl ? 'inl' : 'f64';
  // int16 tables when no partial sum can reach 2^15: |Y| ≤ rows·(2^dac − 1)·max|level|
  return b.rows * (2 ** dac - 1) * maxAbs(b.levels) < 32768 ? 'i16' : 'identity';
}

/** max |v| (per levels array: a simulator keeps its blocks' levels across runs). */
const maxAbsOf = new WeakMap<Float32Array, number>();
function maxAbs(levels: Float32Array): number {
  let max = maxAbsOf.get(levels);
  if (max === undefined) {
    max = 0;
    for (let i = 0; i < levels.length; i++) max = Math.max(max, Math.abs(levels[i]));
    maxAbsOf.set(levels, max);
  }
  return max;
}

// ---------------------------------------------------------------------------------------------------
// Plain JS, the kernel's arithmetic step by step (float32 via Math.fround).

const fr = Math.fround;
const bits = new Int32Array(1);
const bitsF = new Float32Array(bits.buffer);

/** mulberry32's output for state s. */
function mix(s: number): number {
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

const C_LOG = LOG_P.map(fr);
const C_SIN = SIN_P.map(fr);
const C_COS = COS_P.map(fr);

/** Normals [8·g8, 8·g8 + 8) of stream `seed` into out[o..o+8), as the wasm kernel draws them. */
function normals8(seed: number, g8: number, out: Float32Array, o: number): void {
  const base = (seed + Math.imul(8 * g8 + 1, GOLDEN)) | 0;
  for (let l = 0; l < 4; l++) {
    const h1 = mix((base + Math.imul(l, GOLDEN)) | 0);
    const h2 = mix((base + Math.imul(l + 4, GOLDEN)) | 0);
    const u1 = fr(fr(fr(h1 >>> 1) * 2 ** -31) + 2 ** -32);
    bitsF[0] = u1;
    let e = (bits[0] >>> 23) - 127;
    bits[0] = (bits[0] & 0x7fffff) | 0x3f800000;
    let m = bitsF[0];
    if (m > fr(Math.SQRT2)) {
      m = fr(m * 0.5);
      e += 1;
    }
    const x = fr(m - 1);
    const fe = fr(e);
    let poly = C_LOG[0];
    for (let i = 1; i < C_LOG.length; i++) poly = fr(fr(poly * x) + C_LOG[i]);
    const z = fr(x * x);
    let y = fr(fr(x * z) * poly);
    y = fr(y + fr(fe * fr(LOG_Q1)));
    y = fr(y - fr(z * 0.5));
    const ln = fr(fr(y + x) + fr(fe * fr(LOG_Q2)));
    const r = fr(Math.sqrt(fr(ln * -2)));
    const q = h2 & 3;
    const phi = fr(fr(fr(h2 >>> 8) * fr(PHI_SCALE)) + fr(PHI_BASE));
    const p2 = fr(phi * phi);
    const sn = fr(fr(fr(fr(fr(fr(fr(C_SIN[0] * p2) + C_SIN[1]) * p2) + C_SIN[2]) * p2) * phi) + phi);
    const cs = fr(fr(fr(fr(fr(fr(fr(fr(C_COS[0] * p2) + C_COS[1]) * p2) + C_COS[2]) * p2) * p2) - fr(p2 * 0.5)) + 1);
    const c1 = q & 1 ? sn : cs;
    const s1 = q & 1 ? cs : sn;
    out[o + l] = fr((q === 1 || q === 2 ? -c1 : c1) * r);
    out[o + l + 4] = fr((q & 2 ? -s1 : s1) * r);
  }
}

/** The ADC code of a column sum y in float32 arithmetic (bitserial-wasm.ts; pmin/pmax as wasm spells them). */
function codeOfF32(y: number, a: PreparedAdc): number {
  let q = fr(fr(y * fr(a.gain / a.step)) + fr(a.offset / a.step));
  if (a.inlPeak !== 0) {
    let x = fr(fr(y - fr(a.lo)) * fr(a.invSpan));
    x = 1 < x ? 1 : x;
    x = x < 0 ? 0 : x;
    q = fr(q + fr(fr((4 * a.inlPeak) / a.step) * fr(x * fr(1 - x))));
  }
  let c = Math.trunc(fr(q + (q < 0 ? -0.5 : 0.5)));
  c = a.maxCode < c ? a.maxCode : c;
  return c < a.minCode ? a.minCode : c;
}

/** The ADC code of a column sum y (float64 arithmetic of sim/devices/adc.ts; `identity`: clip only). */
function codeOf(y: number, a: PreparedAdc, kind: AdcKind): number {
  if (kind === 'identity' || kind === 'i16') return y < a.minCode ? a.minCode : y > a.maxCode ? a.maxCode : y;
  if (kind === 'f32' || kind === 'f32inl') return codeOfF32(y, a);
  let v = y * a.gain + a.offset;
  if (a.inlPeak !== 0) {
    let x = (y - a.lo) * a.invSpan;
    x = x > 1 ? 1 : x;
    x = x < 0 ? 0 : x;
    x = 2 * x - 1;
    v += a.inlPeak * (1 - x * x);
  }
  const q = v / a.step;
  const t = Math.trunc(q);
  let c = Math.abs(q - t) >= 0.5 ? t + (q < 0 ? -1 : 1) : t;
  c = c > a.maxCode ? a.maxCode : c;
  return c < a.minCode ? a.minCode : c;
}

interface Offsets {
  readonly offs: Int32Array;
  readonly s2: Float32Array;
  /** Where they are in the wasm heap (unused by the JS path). */
  readonly offsAt: number;
  readonly s2At: number;
}

function jsDigits(u: Int16Array, P: number, ldu: number, k0: number, kb: number, cycles: number, dac: number, rowBytes: number): Offsets {
  const rpg = rowsPerGroup(dac);
  const G = Math.ceil(kb / rpg);
  const E = 2 ** (rpg * dac);
  const mask = 2 ** dac - 1;
  const offs = new Int32Array(P * cycles * G);
  const s2 = new Float32Array(P * cycles);
  for (let p = 0; p < P; p++) {
    for (let t = 0; t < cycles; t++) {
      let sq = 0;
      for (let g = 0; g < G; g++) {
        let idx = 0;
        for (let j = 0; j < rpg && g * rpg + j < kb; j++) {
          const d = (u[p * ldu + k0 + g * rpg + j] >> (t * dac)) & mask;
          idx |= d << (j * dac);
          sq += d * d;
        }
        offs[(p * cycles + t) * G + g] = (g * E + idx) * rowBytes;
      }
      s2[p * cycles + t] = sq;
    }
  }
  return { offs, s2, offsAt: 0, s2At: 0 };
}

/** The tables of a block: [G groups × E entries × (slices·nbp)], float32. */
function jsTable(src: Float32Array, b: BitSerialBlock, dac: number, square: boolean): Float32Array {
  const rpg = rowsPerGroup(dac);
  const G = Math.ceil(b.rows / rpg);
  const E = 2 ** (rpg * dac);
  const nbp = paddedCols(b.cols);
  const len = b.slices * nbp;
  const plan = tablePlan(dac, square);
  const table = new Float32Array(G * E * len);
  for (let g = 0; g < G; g++) {
    for (let e = 1; e < E; e++) {
      const k = g * rpg + plan.row[e];
      const dst = (g * E + e) * len;
      const from = (g * E + plan.prev[e]) * len;
      for (let s = 0; s < b.slices; s++) {
        for (let n = 0; n < nbp; n++) {
          const level = k < b.rows && n < b.cols ? src[(k * b.slices + s) * b.cols + n] : 0;
          table[dst + s * nbp + n] = fr(table[from + s * nbp + n] + fr(plan.mult[e] * level));
        }
      }
    }
  }
  return table;
}

function jsConvert(inputs: BitSerialInputs, o: Offsets, b: BitSerialBlock): Float64Array {
  const { P, cycles, dac } = inputs;
  const rpg = rowsPerGroup(dac);
  const G = Math.ceil(b.rows / rpg);
  const nbp = paddedCols(b.cols);
  const len = b.slices * nbp;
  const table = jsTable(b.levels, b, dac, false);
  const vt = b.readVariance && b.uniformReadVariance === undefined ? jsTable(b.readVariance, b, dac, true) : undefined;
  const noise = noiseKind(b);
  const kind = adcKind(b, dac);
  const identity = kind === 'identity' || kind === 'i16';
  const out = new Float64Array(P * nbp);
  const z = new Float32Array(8);
  const rowBytes = len * 4;
  for (let s = 0; s < b.slices; s++) {
    const a = b.adc[s];
    const c = fr(b.uniformReadVariance ?? 0);
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < nbp; j++) {
        let acc = 0;
        for (let t = 0; t < cycles; t++) {
          let y = 0;
          let v = 0;
          for (let g = 0; g < G; g++) {
            const e = o.offs[(p * cycles + t) * G + g] / rowBytes;
            y = fr(y + table[e * len + s * nbp + j]);
            if (vt) v = fr(v + vt[e * len + s * nbp + j]);
          }
          if (noise !== 'none') {
            const n = ((p * cycles + t) * b.slices + s) * nbp + j;
            normals8(b.seed, Math.floor(n / 8), z, 0);
            const sd = noise === 'uniform' ? fr(Math.sqrt(fr(c * o.s2[p * cycles + t]))) : fr(Math.sqrt(v));
            y = fr(y + fr(sd * z[n % 8]));
          }
          acc = (acc + (codeOf(identity ? Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.trunc(y))) : y, a, kind) << (t * dac))) | 0;
        }
        out[p * nbp + j] += b.coef[s] * acc;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The WebAssembly engine: one shared memory, a bump allocation per layer call.

type Fn = (...args: number[]) => void;

interface Engine {
  readonly fns: Record<string, Fn>;
  readonly splitter?: RowSplitter;
  heap: { u8: Uint8Array; i16: Int16Array; i32: Int32Array; f32: Float32Array; f64: Float64Array };
  ensure(bytes: number): void;
}

const align = (x: number) => (x + 63) & ~63;

function makeEngine(): Engine | undefined {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return undefined;
  for (const shared of typeof SharedArrayBuffer === 'function' ? [true, false] : [false]) {
    try {
      const { bytes, constants } = bitSerialModule(shared);
      if (!wasm.validate(bytes)) continue;
      const mem = new wasm.Memory({ initial: 64, ...(shared ? { maximum: 65536, shared: true } : {}) });
      new Uint8Array(mem.buffer).set(constants);
      const module = new wasm.Module(bytes);
      const inst = new wasm.Instance(module, { env: { mem } });
      const fns = Object.fromEntries(BITSERIAL_EXPORTS.map((n) => [n, inst.exports[n] as Fn]));
      const views = () => ({ u8: new Uint8Array(mem.buffer), i16: new Int16Array(mem.buffer), i32: new Int32Array(mem.buffer), f32: new Float32Array(mem.buffer), f64: new Float64Array(mem.buffer) });
      const e: Engine = {
        fns,
        splitter: shared ? rowSplitter(module, mem, BITSERIAL_EXPORTS, BITSERIAL_EXPORTS.map((n) => fns[n]), CONVERT_PARAMS.length) : undefined,
        heap: views(),
        ensure(need: number) {
          const have = mem.buffer.byteLength;
          if (have < need) mem.grow(Math.ceil((need - have) / 65536));
          if (e.heap.u8.buffer !== mem.buffer || e.heap.u8.length !== mem.buffer.byteLength) e.heap = views();
        },
      };
      return e;
    } catch {
      // no shared memory here: try a private one
    }
  }
  return undefined;
}

let engineInstance: Engine | undefined | null = null;
let jsOnly = false;
function engine(): Engine | undefined {
  if (jsOnly) return undefined;
  if (engineInstance === null) {
    engineInstance = makeEngine();
    if (engineInstance) warmUp();
  }
  return engineInstance;
}

/** A few small blocks of every kind, so that V8 tiers the wasm functions up before the first real one. */
function warmUp(): void {
  const P = 16;
  const rows = 64;
  const cols = 16;
  const u = Int16Array.from({ length: P * rows }, (_, i) => (i * 37) & 255);
  const levels = Float32Array.from({ length: rows * 2 * cols }, (_, i) => (i % 7) - 3);
  const variance = levels.map(Math.abs);
  const ideal = { step: 1, maxCode: 2047, minCode: -2047, gain: 1, offset: 0, center: 0, inlPeak: 0, lo: -2047, invSpan: 1 / 4094 };
  const inl = { ...ideal, step: 1.5, inlPeak: 0.5 };
  const base = { k0: 0, rows, cols, slices: 2, levels, coef: [1, 4], seed: 1, identity: false };
  const blocks: BitSerialBlock[] = [
    { ...base, adc: [ideal, ideal], identity: true },
    { ...base, adc: [ideal, ideal] },
    { ...base, adc: [inl, inl] },
    { ...base, adc: [ideal, ideal], readVariance: variance, uniformReadVariance: 0.01 },
    { ...base, adc: [inl, inl], readVariance: variance, uniformReadVariance: 0.01 },
    { ...base, adc: [ideal, ideal], readVariance: variance },
    { ...base, adc: [inl, inl], readVariance: variance },
  ];
  for (let i = 0; i < 8; i++) {
    const inputs = bitSerialInputs(u, P, rows, 8, 1);
    for (const b of blocks) bitSerialBlock(inputs, b);
  }
  generation++;
}

/** 'js' forces the plain-JS kernel (tests, benchmarks); 'auto' the WebAssembly one where it runs. */
export function useBitSerialBackend(kind: 'auto' | 'js'): 'wasm' | 'js' {
  jsOnly = kind === 'js';
  return engine() ? 'wasm' : 'js';
}

/** Runs fn over vectors [0, P) on both threads when it is worth it. */
function run(e: Engine, fn: string, args: number[], P: number, work: number): void {
  const i = BITSERIAL_EXPORTS.indexOf(fn);
  if (e.splitter) e.splitter.run(i, args, P, work);
  else {
    args[7] = 0;
    args[8] = P;
    e.fns[fn](...args);
  }
}

// ---------------------------------------------------------------------------------------------------
// The API.

/** The input vectors of one layer call, ready for its blocks (their digit offsets are made once per row range). */
export interface BitSerialInputs {
  readonly u: Int16Array;
  readonly P: number;
  readonly ldu: number;
  readonly cycles: number;
  readonly dac: number;
  readonly generation: number;
  readonly offsets: Map<string, Offsets>;
  /** First free byte of the heap after the inputs and offsets. */
  top: number;
}

let generation = 0;

/**
 * Takes the input vectors u [P × ldu] (DAC input codes u = q − qmin ≥ 0) of one layer call. Valid until
 * the next call of bitSerialInputs (the heap is reused).
 */
export function bitSerialInputs(u: Int16Array, P: number, ldu: number, cycles: number, dac: number): BitSerialInputs {
  const e = engine(); // first: the engine's warm-up makes inputs of its own
  const inputs: BitSerialInputs = { u, P, ldu, cycles, dac, generation: ++generation, offsets: new Map(), top: 0 };
  if (e) {
    inputs.top = align(CONST_BYTES + P * ldu * 2 + 32); // digits' vector loads read up to 24 bytes past a row
    e.ensure(inputs.top);
    e.heap.i16.set(u.subarray(0, P * ldu), CONST_BYTES >> 1);
  }
  return inputs;
}

function offsetsFor(inputs: BitSerialInputs, e: Engine | undefined, k0: number, kb: number, rowBytes: number): Offsets {
  const key = `${k0}:${kb}:${rowBytes}`;
  let o = inputs.offsets.get(key);
  if (o) return o;
  const { u, P, ldu, cycles, dac } = inputs;
  if (!e) o = jsDigits(u, P, ldu, k0, kb, cycles, dac, rowBytes);
  else {
    const rpg = rowsPerGroup(dac);
    const G = Math.ceil(kb / rpg);
    const offsAt = inputs.top;
    const s2At = align(offsAt + P * cycles * G * 4);
    inputs.top = align(s2At + P * cycles * 4);
    e.ensure(inputs.top);
    run(e, 'digits', [CONST_BYTES, ldu, kb, k0, cycles, dac, rpg, 0, 0, G, 2 ** (rpg * dac), rowBytes, offsAt, s2At], P, P * cycles * kb * 4);
    o = { offs: new Int32Array(0), s2: new Float32Array(0), offsAt, s2At };
  }
  inputs.offsets.set(key, o);
  return o;
}

/** Copies src [rows × (slices·cols)] into the heap as [G·r rows × (slices·nbp)], zero-padded. */
function putLevels(e: Engine, at: number, src: Float32Array, b: BitSerialBlock, rowsPadded: number, nbp: number): void {
  const len = b.slices * nbp;
  const f = e.heap.f32;
  f.fill(0, at >> 2, (at >> 2) + rowsPadded * len);
  for (let k = 0; k < b.rows; k++) {
    for (let s = 0; s < b.slices; s++) {
      const from = (k * b.slices + s) * b.cols;
      f.set(src.subarray(from, from + b.cols), (at >> 2) + k * len + s * nbp);
    }
  }
}

function putPlan(e: Engine, at: number, plan: Plan): void {
  for (let i = 0; i < plan.prev.length; i++) {
    e.heap.i32[(at >> 2) + 3 * i] = plan.prev[i];
    e.heap.i32[(at >> 2) + 3 * i + 1] = plan.row[i];
    e.heap.f32[(at >> 2) + 3 * i + 2] = plan.mult[i];
  }
}

/**
 * One block's Σ_s coef_s·Σ_t 2^(t·dacBits)·ADC_s(Y + noise) for every input vector: [P × cols], float64.
 */
export function bitSerialBlock(inputs: BitSerialInputs, b: BitSerialBlock): Float64Array {
  const { out, nbp } = computeBlock(inputs, b);
  const r = new Float64Array(inputs.P * b.cols);
  for (let p = 0; p < inputs.P; p++) r.set(out.subarray(p * nbp, p * nbp + b.cols), p * b.cols);
  return r;
}

/** The same, added into acc[rows[p]·ld + col0 + n] straight from the kernel's memory (no copy). */
export function addBitSerialBlock(inputs: BitSerialInputs, b: BitSerialBlock, acc: Float64Array, rows: readonly number[], ld: number, col0: number): void {
  const { out, nbp } = computeBlock(inputs, b);
  for (let p = 0; p < inputs.P; p++) {
    const dst = rows[p] * ld + col0;
    const src = p * nbp;
    for (let n = 0; n < b.cols; n++) acc[dst + n] += out[src + n];
  }
}

/** The block's results as [P × nbp] (a view of the kernel's memory, valid until its next call). */
function computeBlock(inputs: BitSerialInputs, b: BitSerialBlock): { out: Float64Array; nbp: number } {
  if (inputs.generation !== generation) throw new Error('bitSerialBlock: these inputs were overwritten by a later bitSerialInputs call');
  const e = engine();
  const { P, cycles, dac } = inputs;
  const nbp = paddedCols(b.cols);
  const rowBytes = b.slices * nbp * 4;
  const kind = adcKind(b, dac);
  const o = offsetsFor(inputs, e, b.k0, b.rows, e && kind === 'i16' ? rowBytes / 2 : rowBytes);
  let out: Float64Array;
  if (!e) out = jsConvert(inputs, o, b);
  else {
    const rpg = rowsPerGroup(dac);
    const G = Math.ceil(b.rows / rpg);
    const E = 2 ** (rpg * dac);
    const noise = noiseKind(b);
    const adcAt = inputs.top;
    const planAt = align(adcAt + b.slices * ADC_RECORD);
    const vplanAt = align(planAt + E * 12);
    const levelsAt = align(vplanAt + E * 12);
    const tableAt = align(levelsAt + G * rpg * rowBytes);
    const varAt = align(tableAt + G * E * rowBytes);
    const outAt = align(varAt + (noise === 'cells' ? G * E * rowBytes : 0));
    e.ensure(outAt + P * nbp * 8);
    const h = e.heap;
    for (let s = 0; s < b.slices; s++) {
      const a = b.adc[s];
      const r = (adcAt >> 3) + s * (ADC_RECORD >> 3);
      h.f64.set([a.gain, a.offset, a.step, a.inlPeak, a.lo, a.invSpan, a.minCode, a.maxCode, b.coef[s]], r);
      h.f32[2 * r + 18] = b.uniformReadVariance ?? 0;
      h.i32[2 * r + 20] = Math.max(a.minCode, -32768);
      h.i32[2 * r + 21] = Math.min(a.maxCode, 32767);
      h.f32.set([a.gain / a.step, a.offset / a.step, (4 * a.inlPeak) / a.step, a.lo, a.invSpan, a.minCode, a.maxCode], 2 * r + 24);
    }
    putPlan(e, planAt, tablePlan(dac, false));
    putLevels(e, levelsAt, b.levels, b, G * rpg, nbp);
    e.fns.table(levelsAt, rowBytes >> 4, E, G, rpg, planAt, tableAt);
    if (noise === 'cells') {
      putPlan(e, vplanAt, tablePlan(dac, true));
      putLevels(e, levelsAt, b.readVariance!, b, G * rpg, nbp);
      e.fns.table(levelsAt, rowBytes >> 4, E, G, rpg, vplanAt, varAt);
    }
    // int16 tables: the float32 ones converted in place (exact integers below 2^15)
    if (kind === 'i16') h.i16.set(h.f32.subarray(tableAt >> 2, (tableAt >> 2) + G * E * (rowBytes >> 2)), tableAt >> 1);
    h.f64.fill(0, outAt >> 3, (outAt >> 3) + P * nbp);
    // work in the splitter's units (float32 multiply-adds of the GEMMs, ~0.1 ns): a column sum costs its
    // G table adds and ~10 units of conversion, ~80 with a normal and the float32 ADC (measured)
    const work = P * cycles * b.slices * nbp * (G + (noise === 'none' ? 10 : 80));
    run(e, `convert_${noise}_${kind}`, [o.offsAt, o.s2At, tableAt, varAt - tableAt, G, cycles, outAt, 0, 0, b.slices, nbp, adcAt, b.seed, dac], P, work);
    out = e.heap.f64.subarray(outAt >> 3, (outAt >> 3) + P * nbp);
  }
  return { out, nbp };
}

/**
 * Standard normals of stream `seed` (numbers 0 .. out.length − 1 of it; see bitserial-wasm.ts): the
 * read noise the kernel draws, for the paths that materialise it.
 */
export function fillStandardNormals(out: Float32Array, seed: number): Float32Array {
  const n = out.length;
  const g8 = Math.ceil(n / 8);
  const e = engine();
  if (e) {
    generation++; // the heap's start is overwritten: earlier inputs are gone
    e.ensure(CONST_BYTES + g8 * 32);
    e.fns.normals(CONST_BYTES, g8, seed | 0, 0);
    out.set(e.heap.f32.subarray(CONST_BYTES >> 2, (CONST_BYTES >> 2) + n));
  } else {
    const z = new Float32Array(8);
    for (let g = 0; g < g8; g++) {
      normals8(seed | 0, g, z, 0);
      for (let l = 0; l < 8 && 8 * g + l < n; l++) out[8 * g + l] = z[l];
    }
  }
  return out;
}

/**
 * The integer executor's quantizeInput, bit for bit (test/sim-bitserial.test.ts), in WebAssembly on both
 * threads: the simulator's first step on every batch.
 */
export function quantizeCodes(x: Float32Array, p: ValueParams): Int32Array {
  const e = engine();
  const n = x.length;
  if (!e || n < QUANTIZE_BLOCK) return quantizeInput(x, p);
  generation++; // the heap's start is overwritten: earlier inputs are gone
  const [qmin, qmax] = activationRange(p.bits);
  const xAt = CONST_BYTES;
  const outAt = align(xAt + 4 * n + 8);
  const prmAt = align(outAt + 4 * n + 8);
  e.ensure(prmAt + 32);
  e.heap.f32.set(x, xAt >> 2);
  e.heap.f64.set([p.scale, p.zeroPoint, qmin, qmax], prmAt >> 3);
  const blocks = Math.ceil(n / QUANTIZE_BLOCK);
  run(e, 'quantize', [xAt, outAt, prmAt, n, 0, 0, 0, 0, 0], blocks, 8 * n);
  return e.heap.i32.slice(outAt >> 2, (outAt >> 2) + n);
}

/**
 * The integer executor's requantize, bit for bit (tested), in WebAssembly on both threads for an even
 * number of channels; rows where some |round(acc) + bias| ≥ 2^21 are redone by the executor's own.
 */
export function requantizeCodes(acc: Float64Array, channels: number, L: IntLayer, pout: ValueParams): Int32Array {
  const e = engine();
  const n = acc.length;
  if (!e || channels % 2 !== 0 || n < QUANTIZE_BLOCK) return requantize(acc, channels, L, pout);
  generation++; // the heap's start is overwritten: earlier inputs are gone
  const rows = n / channels;
  const blocks = Math.ceil(rows / REQUANT_ROWS);
  const accAt = CONST_BYTES;
  const outAt = align(accAt + 8 * n);
  const prmAt = align(outAt + 4 * n);
  const flagsAt = align(prmAt + 8 * (4 * channels + 3));
  e.ensure(flagsAt + 4 * blocks);
  const h = e.heap;
  h.f64.set(acc, accAt >> 3);
  const prm = new Float64Array(4 * channels + 3);
  for (let c = 0; c < channels; c++) {
    const P = 2 ** (31 - L.multipliers[c].shift);
    prm[c] = L.bias[c];
    prm[channels + c] = L.multipliers[c].m0;
    prm[2 * channels + c] = P / 2;
    prm[3 * channels + c] = 1 / P;
  }
  const [qmin, qmax] = activationRange(pout.bits);
  prm.set([pout.zeroPoint, qmin, qmax], 4 * channels);
  h.f64.set(prm, prmAt >> 3);
  run(e, 'requantize', [accAt, outAt, prmAt, channels, rows, flagsAt, 0, 0, 0], blocks, 4 * n);
  const y = h.i32.slice(outAt >> 2, (outAt >> 2) + n);
  const flags = h.i32.slice(flagsAt >> 2, (flagsAt >> 2) + blocks);
  for (let b = 0; b < blocks; b++) {
    if (!flags[b]) continue;
    const r0 = b * REQUANT_ROWS * channels;
    const r1 = Math.min(n, r0 + REQUANT_ROWS * channels);
    y.set(requantize(acc.subarray(r0, r1), channels, L, pout), r0);
  }
  return y;
}
