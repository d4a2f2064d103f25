// One crossbar layer's accumulator, Σ_k (q_x − z_x)·q_w per output, computed the way the accelerator
// does: for every block (row range × column range on one array), every input cycle t (a DAC digit of
// u = q − qmin) and every weight slice s, the column sum Y = Σ_k digit_t(u_k)·level_s(k, n) is read
// by the ADC and shifted-and-added digitally:
//     acc[p, n] = Σ_blocks gain·Σ_t Σ_s 2^(t·dacBits)·significance[s]·ADC(Y)
//               + (qmin − z_x)·Σ_k q_w[k, n]                                  (zero-point correction)
// All cycles of a chunk of vectors go through one GEMM ((cycles·vectors) × rows times rows × (slices·
// columns)); read noise is added to each column sum with the variance Σ_k digit²·var_k (a second GEMM),
// which is exact in distribution for independent Gaussian per-cell read noise.
// With an ADC that can neither clip nor round (step 1, full scale ≥ the largest possible column sum) and
// ideal cells, the shift-add reconstructs Σ_k u_k·q_w exactly, so `lossless` layers skip the digits and
// use one integer GEMM: the result is the same integer.
import { gemmStrided } from '../compiler/passes/decompose/linalg.js';
import type { LayerMapping, WeightBlock } from '../compiler/lower/schedule.js';
import type { AcceleratorSpec } from './spec/types.js';

/** What the column sums of one block (one replica) see. */
export interface BlockCells {
  /** Effective signed levels, [rows × (slices·cols)]: column s·cols + n is slice s of weight column n. */
  readonly levels: Float32Array;
  /** Per-cell read-noise variance in level², same layout; absent = no read noise. */
  readonly readVariance?: Float32Array;
  /** Digital gain applied to the converted column sums (global drift compensation; 1 = none). */
  readonly gain: number;
}

/** Converts column sums in place: reconstructed value = code·step. */
export type Converter = (y: Float64Array, n: number) => void;

export interface LayerJob {
  readonly spec: AcceleratorSpec;
  readonly mapping: LayerMapping;
  /** The layer's blocks (all replicas). */
  readonly blocks: readonly WeightBlock[];
  /** Integer weight codes [K × N]. */
  readonly codes: Float64Array;
  readonly significance: readonly number[];
  /** Input zero point and qmin. */
  readonly zeroPoint: number;
  readonly qmin: number;
  /** Cells of a block (by id). */
  readonly cells: (block: WeightBlock) => BlockCells;
  readonly convert: Converter;
  /** Standard normal samples for read noise (fills the array). */
  readonly normals?: (out: Float64Array, n: number) => void;
  /** Sees every column sum before conversion (ADC calibration). */
  readonly observe?: (y: Float64Array, n: number) => void;
  /** One integer GEMM instead of the digits (exact mode, lossless ADC). */
  readonly lossless: boolean;
}

/** Column sums Σ_k w[k, n] of the codes (for the zero-point correction). */
function columnSums(codes: Float64Array, K: number, N: number): Float64Array {
  const s = new Float64Array(N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) s[n] += codes[k * N + n];
  return s;
}

/**
 * acc [P × N] for P unrolled input vectors u [P × K] (sim/unroll.ts); `positionOf(p)` is the vector's
 * position within its image (for the replica that serves it).
 */
export function layerAccumulator(job: LayerJob, u: Float32Array, P: number, positionOf: (p: number) => number): Float64Array {
  const { mapping: m, codes } = job;
  const K = m.rows;
  const N = m.cols;
  const diagonal = job.blocks.some((b) => b.diagonal);
  const C = diagonal ? N : 0; // depthwise: u is [P × taps·C], column c reads u[p, tap·C + c]
  const acc = new Float64Array(P * N);
  if (job.lossless) {
    if (diagonal) {
      for (let p = 0; p < P; p++) for (let t = 0; t < K; t++) for (let c = 0; c < C; c++) acc[p * N + c] += u[p * K * C + t * C + c] * codes[t * C + c];
    } else {
      gemmStrided(P, K, N, u, 0, K, 1, codes, 0, N, 1, acc, 0, N);
    }
  } else {
    for (let r = 0; r < m.replicas; r++) {
      const rows: number[] = [];
      const lo = Math.floor((r * m.vectors) / m.replicas);
      const hi = Math.floor(((r + 1) * m.vectors) / m.replicas);
      for (let p = 0; p < P; p++) {
        const q = positionOf(p);
        if (q >= lo && q < hi) rows.push(p);
      }
      if (!rows.length) continue;
      for (const b of job.blocks) if (b.replica === r) blockAccumulate(job, b, u, diagonal ? K * C : K, rows, acc);
    }
  }
  const corr = job.qmin - job.zeroPoint;
  if (corr !== 0) {
    const sums = columnSums(codes, K, N);
    for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) acc[p * N + n] += corr * sums[n];
  }
  return acc;
}

/** Adds one block's converted, shifted-and-added column sums for the vectors `rows` into acc. */
function blockAccumulate(job: LayerJob, b: WeightBlock, u: Float32Array, ldu: number, rows: readonly number[], acc: Float64Array): void {
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
  const y = new Float64Array(T * Pr * SN);
  const weightOf = (t: number, s: number) => base ** t * job.significance[s] * cells.gain;
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
    if (cells.readVariance) addReadNoiseDiagonal(job, cells.readVariance, u, ldu, rows, b, y);
  } else {
    const a = new Float32Array(T * Pr * Kb);
    for (let i = 0; i < Pr; i++) {
      const row = rows[i] * ldu + k0;
      for (let k = 0; k < Kb; k++) {
        let v = u[row + k];
        for (let t = 0; t < T; t++) {
          a[(t * Pr + i) * Kb + k] = v % base;
          v = Math.floor(v / base);
        }
      }
    }
    gemmStrided(T * Pr, Kb, SN, a, 0, Kb, 1, cells.levels, 0, SN, 1, y, 0, SN);
    if (cells.readVariance) {
      if (dac > 1) for (let i = 0; i < a.length; i++) a[i] *= a[i];
      const v = new Float64Array(y.length);
      gemmStrided(T * Pr, Kb, SN, a, 0, Kb, 1, cells.readVariance, 0, SN, 1, v, 0, SN);
      addNoise(job, y, v);
    }
  }
  job.observe?.(y, y.length);
  job.convert(y, y.length);
  for (let t = 0; t < T; t++) {
    for (let s = 0; s < S; s++) {
      const w = weightOf(t, s);
      for (let i = 0; i < Pr; i++) {
        const src = (t * Pr + i) * SN + s * Nb;
        const dst = rows[i] * N + n0;
        for (let n = 0; n < Nb; n++) acc[dst + n] += w * y[src + n];
      }
    }
  }
}

/** y += sqrt(v)·N(0, 1), elementwise. */
function addNoise(job: LayerJob, y: Float64Array, v: Float64Array): void {
  const z = new Float64Array(y.length);
  job.normals!(z, z.length);
  for (let i = 0; i < y.length; i++) if (v[i] > 0) y[i] += Math.sqrt(v[i]) * z[i];
}

function addReadNoiseDiagonal(job: LayerJob, variance: Float32Array, u: Float32Array, ldu: number, rows: readonly number[], b: WeightBlock, y: Float64Array): void {
  const S = job.significance.length;
  const N = job.mapping.cols;
  const T = job.mapping.inputCycles;
  const base = 2 ** job.spec.input.dacBits;
  const [n0, n1] = b.cols;
  const Nb = n1 - n0;
  const SN = S * Nb;
  const Kb = b.rows[1] - b.rows[0];
  const v = new Float64Array(y.length);
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
  addNoise(job, y, v);
}
