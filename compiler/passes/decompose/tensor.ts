// Dense N-way tensors (the decomposition passes use 3- and 4-way ones) stored row-major: the last index
// runs fastest, element (i0, …, i_{N-1}) at Σ i_m · stride_m with stride_m = Π_{m' > m} dims[m'].
import { asFloat64, gemmStrided } from './linalg.js';

type Arr = Float32Array | Float64Array;

function checkDims(fn: string, x: ArrayLike<number>, dims: readonly number[], mode?: number): number {
  if (!dims.length || dims.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`${fn}: dims [${dims}] must be positive integers`);
  const size = dims.reduce((a, b) => a * b, 1);
  if (x.length !== size) throw new Error(`${fn}: ${x.length} values do not fill dims [${dims}] (${size})`);
  if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode >= dims.length)) throw new Error(`${fn}: mode ${mode} out of range for ${dims.length} ways`);
  return size;
}

/** [P, d_mode, Q]: products of the dims before and after the mode. */
function split(dims: readonly number[], mode: number): [number, number, number] {
  let p = 1;
  let q = 1;
  for (let m = 0; m < mode; m++) p *= dims[m];
  for (let m = mode + 1; m < dims.length; m++) q *= dims[m];
  return [p, dims[mode], q];
}

/**
 * Mode-`mode` unfolding: a dims[mode] × (size / dims[mode]) row-major matrix. Column order: the other
 * modes in their original order, the last one fastest, i.e. column = (…(i_0·d_1 + i_1)…)·d_last + i_last
 * over the modes ≠ mode (numpy's `moveaxis(x, mode, 0).reshape(d, -1)`, tensorly's `unfold`).
 */
export function unfold(x: Arr, dims: readonly number[], mode: number): Float64Array {
  const size = checkDims('unfold', x, dims, mode);
  const [p, d, q] = split(dims, mode);
  const out = new Float64Array(size);
  const cols = p * q;
  for (let a = 0; a < p; a++) {
    for (let i = 0; i < d; i++) {
      const src = (a * d + i) * q;
      const dst = i * cols + a * q;
      for (let b = 0; b < q; b++) out[dst + b] = x[src + b];
    }
  }
  return out;
}

/** Inverse of `unfold`: the dims[mode] × rest matrix back into the row-major tensor. */
export function fold(mat: Arr, dims: readonly number[], mode: number): Float64Array {
  const size = checkDims('fold', mat, dims, mode);
  const [p, d, q] = split(dims, mode);
  const out = new Float64Array(size);
  const cols = p * q;
  for (let a = 0; a < p; a++) {
    for (let i = 0; i < d; i++) {
      const dst = (a * d + i) * q;
      const src = i * cols + a * q;
      for (let b = 0; b < q; b++) out[dst + b] = mat[src + b];
    }
  }
  return out;
}

/**
 * Mode product Y = X ×_mode M: Y[…, j, …] = Σ_i X[…, i, …] · M[j, i], with M row-major J × dims[mode];
 * with transpose, M is dims[mode] × J and Y[…, j, …] = Σ_i X[…, i, …] · M[i, j] (i.e. X ×_mode Mᵀ).
 * Returns the new tensor and its dims (dims[mode] replaced by J).
 */
export function modeProduct(x32: Arr, dims: readonly number[], m32: Arr, mode: number, transpose = false): { data: Float64Array; dims: number[] } {
  checkDims('modeProduct', x32, dims, mode);
  const x = asFloat64(x32);
  const m = asFloat64(m32);
  const [p, d, q] = split(dims, mode);
  if (m.length % d !== 0) throw new Error(`modeProduct: matrix of ${m.length} values has no dimension ${d} to contract with mode ${mode}`);
  const jn = m.length / d;
  const out = new Float64Array(p * jn * q);
  // M(j, i) = m[j·d + i]  or, transposed, m[i·jn + j]
  const mRs = transpose ? 1 : d;
  const mCs = transpose ? jn : 1;
  if (q === 1) {
    // Y (p × J) = X (p × d) · Mᵀ
    gemmStrided(p, d, jn, x, 0, d, 1, m, 0, mCs, mRs, out, 0, jn);
  } else {
    // per leading index: Y_a (J × q) = M (J × d) · X_a (d × q)
    for (let a = 0; a < p; a++) gemmStrided(jn, d, q, m, 0, mRs, mCs, x, a * d * q, q, 1, out, a * jn * q, q);
  }
  const nd = [...dims];
  nd[mode] = jn;
  return { data: out, dims: nd };
}

/** Frobenius norm (float64 accumulation). */
export function frobenius(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** ||a - b||_F / ||b||_F, b the reference (0 when both are zero, Infinity when only b is). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: lengths differ (${a.length} vs ${b.length})`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  if (den === 0) return num === 0 ? 0 : Infinity;
  return Math.sqrt(num / den);
}

/** Row-major permutation: out[i_{perm[0]}, …] = x[i_0, …]; returns data and the permuted dims. */
export function permute(x: Arr, dims: readonly number[], perm: readonly number[]): { data: Float64Array; dims: number[] } {
  const size = checkDims('permute', x, dims);
  const n = dims.length;
  if (perm.length !== n || [...perm].sort((a, b) => a - b).some((v, i) => v !== i)) throw new Error(`permute: [${perm}] is not a permutation of ${n} modes`);
  const nd = perm.map((p) => dims[p]);
  const out = new Float64Array(size);
  const inStride = new Array<number>(n).fill(1);
  for (let m = n - 2; m >= 0; m--) inStride[m] = inStride[m + 1] * dims[m + 1];
  // stride in x of each output mode
  const st = perm.map((p) => inStride[p]);
  const idx = new Array<number>(n).fill(0);
  let src = 0;
  const last = n - 1;
  const dl = nd[last];
  const sl = st[last];
  for (let o = 0; o < size; o += dl) {
    for (let t = 0, s = src; t < dl; t++, s += sl) out[o + t] = x[s];
    // advance the output multi-index (all but the last mode)
    for (let m = last - 1; m >= 0; m--) {
      idx[m]++;
      src += st[m];
      if (idx[m] < nd[m]) break;
      src -= st[m] * nd[m];
      idx[m] = 0;
    }
  }
  return { data: out, dims: nd };
}
