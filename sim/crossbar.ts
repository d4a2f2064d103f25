// One crossbar layer's accumulator, Σ_k (q_x − z_x)·q_w per output, computed the way the accelerator
// does: for every block (row range × column range on one array), every input cycle t (a DAC digit of
// u = q − qmin) and every weight slice s, the column sum Y = Σ_k digit_t(u_k)·level_s(k, n) is read
// by the ADC and shifted-and-added digitally:
//     acc[p, n] = Σ_blocks gain·Σ_t Σ_s 2^(t·dacBits)·significance[s]·ADC(Y)    (ADC(Y): center + code·step)
//               + (qmin − z_x)·Σ_k q_w[k, n]                                  (zero-point correction)
// Read noise is added to each column sum with the variance Σ_k digit²·var_k, which is exact in
// distribution for independent Gaussian per-cell read noise. Blocks go through the fused kernel
// (sim/kernels/bitserial.ts: table-lookup column sums, noise, ADC and shift-add in one pass, WebAssembly on
// both threads); diagonal (depthwise) blocks, ADC calibration (`observe`, which needs every column sum),
// DACs over 4 bits and shift-adds beyond int32 take the general path below: all cycles of the vectors in
// one GEMM ((cycles·vectors) × rows times rows × (slices·columns)), the variances in a second one.
// With an ADC that can neither clip nor round (step 1, full scale ≥ the largest possible column sum) and
// ideal cells, the shift-add reconstructs Σ_k u_k·q_w exactly, so `lossless` layers skip the digits and
// use one integer GEMM: the result is the same integer.
import type { PreparedAdc } from './devices/adc.js';
import { addBitSerialBlock, bitSerialInputs, bitSerialSupported, fillStandardNormals, gemmF32, gemmI16 } from './kernels/index.js';
import type { LayerMapping, WeightBlock } from '../compiler/lower/schedule.js';
import type { AcceleratorSpec } from './spec/types.js';

/** What the column sums of one block (one replica) see. */
export interface BlockCells {
  /** Effective signed levels, [rows × (slices·cols)]: column s·cols + n is slice s of weight column n. */
  readonly levels: Float32Array;
  /** Per-cell read-noise variance in level², same layout; absent = no read noise. */
  readonly readVariance?: Float32Array;
  /** Set when every cell has the same read-noise variance (then no second GEMM is needed). */
  readonly uniformReadVariance?: number;
  /** Digital gain applied to the converted column sums (global drift compensation; 1 = none). */
  readonly gain: number;
}


export interface LayerJob {
  readonly spec: AcceleratorSpec;
  readonly mapping: LayerMapping;
  /** The layer's blocks (all replicas). */
  readonly blocks: readonly WeightBlock[];
  /** Integer weight codes [K × N], and the same as int16 (the exact GEMM's operand). */
  readonly codes: Float64Array;
  readonly codes16: Int16Array;
  readonly significance: readonly number[];
  /** Input zero point and qmin. */
  readonly zeroPoint: number;
  readonly qmin: number;
  /** Cells of a block (by id). */
  readonly cells: (block: WeightBlock) => BlockCells;
  /** The layer's ADC per weight digit (sim/devices/adc.ts: offset, gain error, INL, rounding, clipping). */
  readonly adc: readonly PreparedAdc[];
  /** The seed of a fresh read-noise stream (one per block and read; sim/kernels/bitserial.ts draws from it). */
  readonly normals?: () => number;
  /** Sees every column sum before conversion (ADC calibration): [(cycle, vector), digit, column]. */
  readonly observe?: (y: Float32Array, columnsPerDigit: number, digits: number) => void;
  /** One integer GEMM instead of the digits (exact mode, lossless ADC). */
  readonly lossless: boolean;
  /** Σ_k codes[k, n] (the zero-point correction), when the caller keeps it across calls. */
  readonly columnSums?: Float64Array;
}

/** Column sums Σ_k w[k, n] of the codes (for the zero-point correction). */
export function columnSums(codes: Float64Array, K: number, N: number): Float64Array {
  const s = new Float64Array(N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) s[n] += codes[k * N + n];
  return s;
}

/**
 * acc [P × N] for P unrolled input vectors u [P × K] (sim/unroll.ts); `positionOf(p)` is the vector's
 * position within its image (for the replica that serves it).
 */
export function layerAccumulator(job: LayerJob, u: Int16Array | Float32Array, P: number, positionOf: (p: number) => number): Float64Array {
  const { mapping: m, codes } = job;
  const K = m.rows;
  const N = m.cols;
  const diagonal = job.blocks.some((b) => b.diagonal);
  const C = diagonal ? N : 0; // depthwise: u is [P × taps·C], column c reads u[p, tap·C + c]
  const acc = new Float64Array(P * N);
  // the zero-point correction (qmin − z_x)·Σ_k q_w[k, n] of every output row
  const sums = job.columnSums ?? columnSums(codes, K, N);
  const corr = Float64Array.from(sums, (v) => (job.qmin - job.zeroPoint) * v);
  if (job.lossless && !diagonal) {
    // exact: |u·w| ≤ 255·127 and K < 2^16, so int32 cannot overflow
    const c = new Int32Array(P * N);
    gemmI16(P, K, N, u instanceof Int16Array ? u : Int16Array.from(u), job.codes16, c);
    for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) acc[p * N + n] = c[p * N + n] + corr[n];
    return acc;
  }
  if (job.lossless) {
    for (let p = 0; p < P; p++) for (let t = 0; t < K; t++) for (let c = 0; c < C; c++) acc[p * N + c] += u[p * K * C + t * C + c] * codes[t * C + c];
  } else {
    const u16 = !diagonal && !job.observe && bitSerialSupported(job.spec.input.dacBits, m.inputCycles, Math.max(...job.adc.map((a) => a.maxCode))) ? (u instanceof Int16Array ? u : Int16Array.from(u)) : undefined;
    for (let r = 0; r < m.replicas; r++) {
      const rows: number[] = [];
      const lo = Math.floor((r * m.vectors) / m.replicas);
      const hi = Math.floor(((r + 1) * m.vectors) / m.replicas);
      for (let p = 0; p < P; p++) {
        const q = positionOf(p);
        if (q >= lo && q < hi) rows.push(p);
      }
      if (!rows.length) continue;
      if (u16) fusedAccumulate(job, r, u16, K, rows, acc);
      else for (const b of job.blocks) if (b.replica === r) blockAccumulate(job, b, u, diagonal ? K * C : K, rows, acc);
    }
  }
  for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) acc[p * N + n] += corr[n];
  return acc;
}

/** Whether every value is an integer (ideal cells: their column sums are exact in float32). */
const integral = new WeakMap<Float32Array, boolean>();
function isIntegral(levels: Float32Array): boolean {
  let r = integral.get(levels);
  if (r === undefined) integral.set(levels, (r = levels.every((v) => Number.isInteger(v))));
  return r;
}

/**
 * The blocks of replica r through the fused kernel (sim/kernels/bitserial.ts): the same column sums,
 * read noise, conversions and shift-add as blockAccumulate, without materialising the column sums.
 */
function fusedAccumulate(job: LayerJob, r: number, u: Int16Array, K: number, rows: readonly number[], acc: Float64Array): void {
  const { mapping: m } = job;
  const N = m.cols;
  const S = job.significance.length;
  const Pr = rows.length;
  let ur = u;
  if (rows.length !== u.length / K || rows.some((p, i) => p !== i)) {
    ur = new Int16Array(Pr * K);
    for (let i = 0; i < Pr; i++) ur.set(u.subarray(rows[i] * K, rows[i] * K + K), i * K);
  }
  const inputs = bitSerialInputs(ur, Pr, K, m.inputCycles, job.spec.input.dacBits);
  const idealAdc = job.adc.every((a) => a.step === 1 && a.gain === 1 && a.offset === 0 && a.inlPeak === 0);
  for (const b of job.blocks) {
    if (b.replica !== r) continue;
    const cells = job.cells(b);
    const [n0, n1] = b.cols;
    const Nb = n1 - n0;
    addBitSerialBlock(inputs, {
      k0: b.rows[0],
      rows: b.rows[1] - b.rows[0],
      cols: Nb,
      slices: S,
      levels: cells.levels,
      readVariance: cells.readVariance,
      uniformReadVariance: cells.readVariance ? cells.uniformReadVariance : undefined,
      adc: job.adc,
      coef: job.adc.map((a, s) => job.significance[s] * a.step * cells.gain),
      identity: idealAdc && !cells.readVariance && isIntegral(cells.levels),
      seed: cells.readVariance ? job.normals!() : 0,
    }, acc, rows, N, n0);
    addCenters(job, cells.gain, acc, rows, N, n0, Nb);
  }
}

/**
 * Centred ADCs (sim/devices/adc.ts) reconstruct center + code·step; the kernels add code·step, so the
 * centres' share of the shift-add, Σ_t Σ_s 2^(t·dacBits)·significance[s]·gain·center[s], is the same for
 * every vector and column of a block and is added here.
 */
function addCenters(job: LayerJob, gain: number, acc: Float64Array, rows: readonly number[], N: number, n0: number, Nb: number): void {
  if (job.adc.every((a) => a.center === 0)) return;
  const base = 2 ** job.spec.input.dacBits;
  let k = 0;
  for (let t = 0; t < job.mapping.inputCycles; t++) for (let s = 0; s < job.adc.length; s++) k += base ** t * job.significance[s] * gain * job.adc[s].center;
  for (const p of rows) for (let n = 0; n < Nb; n++) acc[p * N + n0 + n] += k;
}

/** Adds one block's converted, shifted-and-added column sums for the vectors `rows` into acc. */
function blockAccumulate(job: LayerJob, b: WeightBlock, u: Int16Array | Float32Array, ldu: number, rows: readonly number[], acc: Float64Array): void {
  const { spec, mapping: m } = job;
  const N = m.cols;
  const S = job.significance.length;
  const dac = spec.input.dacBits;
  const T = m.inputCycles;
  const base = 2 ** dac;
  const [k0, k1] = b.rows;
  const [n0, n1] = b.cols;
  const Kb = k1 - k0;
  const Nb = n1 - n0;
  const SN = S * Nb;
  const cells = job.cells(b);
  const Pr = rows.length;
  // digits of the inputs, all cycles stacked: A[(t·Pr + i), k]
  const y = new Float32Array(T * Pr * SN);
  /** Read-noise variance of every column sum, or (same variance in every cell) its std per vector and cycle. */
  let noise: Float32Array | undefined;
  let rowStd: Float32Array | undefined;
  if (b.diagonal) {
    const C = N; // taps·C inputs; column c of the block reads input channel n0 + c
    for (let i = 0; i < Pr; i++) {
      const row = rows[i] * ldu;
      for (let t = 0; t < T; t++) {
        const div = base ** t;
        const out = (t * Pr + i) * SN;
        for (let tap = 0; tap < Kb; tap++) {
          const lrow = tap * SN;
          for (let c = 0; c < Nb; c++) {
            const d = Math.floor(u[row + tap * C + n0 + c] / div) % base;
            if (d === 0) continue;
            for (let s = 0; s < S; s++) y[out + s * Nb + c] += d * cells.levels[lrow + s * Nb + c];
          }
        }
      }
    }
    if (cells.readVariance) noise = diagonalReadVariance(job, cells.readVariance, u, ldu, rows, b, y.length);
  } else {
    const a = new Float32Array(T * Pr * Kb);
    const ui = new Int32Array(Kb);
    const mask = base - 1;
    for (let i = 0; i < Pr; i++) {
      const row = rows[i] * ldu + k0;
      for (let k = 0; k < Kb; k++) ui[k] = u[row + k];
      for (let t = 0; t < T; t++) {
        const o = (t * Pr + i) * Kb;
        const sh = t * dac;
        for (let k = 0; k < Kb; k++) a[o + k] = (ui[k] >> sh) & mask;
      }
    }
    gemmF32(T * Pr, Kb, SN, a, cells.levels, y);
    if (cells.readVariance) {
      if (dac > 1) for (let i = 0; i < a.length; i++) a[i] *= a[i];
      const c = cells.uniformReadVariance;
      if (c !== undefined) {
        // the same variance in every cell: std sqrt(c·Σ_k digit²), one per vector and cycle
        rowStd = new Float32Array(T * Pr);
        for (let r = 0; r < T * Pr; r++) {
          let s2 = 0;
          for (let k = 0; k < Kb; k++) s2 += a[r * Kb + k];
          rowStd[r] = Math.sqrt(s2 * c);
        }
      } else {
        noise = new Float32Array(y.length);
        gemmF32(T * Pr, Kb, SN, a, cells.readVariance, noise);
      }
    }
  }
  job.observe?.(y, Nb, S);
  // read noise, conversion and shift-add in one pass: per vector, Σ_t Σ_s weight(t, s)·ADC(y + noise)
  const weights = new Float64Array(T * S);
  for (let t = 0; t < T; t++) for (let s = 0; s < S; s++) weights[t * S + s] = base ** t * job.significance[s] * cells.gain;
  const z = noise || rowStd ? fillStandardNormals(new Float32Array(y.length), job.normals!()) : undefined;
  const sum = new Float64Array(Nb);
  for (let i = 0; i < Pr; i++) {
    sum.fill(0);
    for (let t = 0; t < T; t++) {
      const src = (t * Pr + i) * SN;
      const sd = rowStd ? rowStd[t * Pr + i] : 0;
      for (let s = 0; s < S; s++) {
        const { step, minCode, maxCode, gain, offset, inlPeak, lo, invSpan } = job.adc[s];
        const w = weights[t * S + s] * step;
        const o = src + s * Nb;
        for (let n = 0; n < Nb; n++) {
          let v = y[o + n];
          if (z) v += (rowStd ? sd : Math.sqrt(noise![o + n])) * z[o + n];
          let a = v * gain + offset;
          if (inlPeak !== 0) {
            let x = (v - lo) * invSpan;
            x = x < 0 ? 0 : x > 1 ? 1 : x;
            a += inlPeak * (1 - (2 * x - 1) * (2 * x - 1));
          }
          const q = a / step;
          let c = q < 0 ? -Math.round(-q) : Math.round(q);
          c = c < minCode ? minCode : c > maxCode ? maxCode : c;
          sum[n] += w * c;
        }
      }
    }
    const dst = rows[i] * N + n0;
    for (let n = 0; n < Nb; n++) acc[dst + n] += sum[n];
  }
  addCenters(job, cells.gain, acc, rows, N, n0, Nb);
}

/** Read-noise variance of the column sums of a diagonal (depthwise) block. */
function diagonalReadVariance(job: LayerJob, variance: Float32Array, u: Int16Array | Float32Array, ldu: number, rows: readonly number[], b: WeightBlock, length: number): Float32Array {
  const S = job.significance.length;
  const N = job.mapping.cols;
  const T = job.mapping.inputCycles;
  const base = 2 ** job.spec.input.dacBits;
  const [n0, n1] = b.cols;
  const Nb = n1 - n0;
  const SN = S * Nb;
  const Kb = b.rows[1] - b.rows[0];
  const v = new Float32Array(length);
  for (let i = 0; i < rows.length; i++) {
    for (let t = 0; t < T; t++) {
      const out = (t * rows.length + i) * SN;
      for (let tap = 0; tap < Kb; tap++) {
        for (let c = 0; c < Nb; c++) {
          const d = Math.floor(u[rows[i] * ldu + tap * N + n0 + c] / base ** t) % base;
          if (d) for (let s = 0; s < S; s++) v[out + s * Nb + c] += d * d * variance[tap * SN + s * Nb + c];
        }
      }
    }
  }
  return v;
}
