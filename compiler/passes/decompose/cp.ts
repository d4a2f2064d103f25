// CP (CANDECOMP/PARAFAC) by alternating least squares, for 3- and 4-way tensors (SEEDS §1, §5):
//   X[i0,i1,i2,i3] ≈ Σ_r λ_r · F0[i0,r] F1[i1,r] F2[i2,r] F3[i3,r],  columns of every F_m unit-norm.
//
// One sweep updates every factor once: F_m <- MTTKRP_m · (⊛_{m'≠m} F_m'ᵀF_m')⁻¹, then normalises the
// columns into λ. The MTTKRPs come from a two-level dimension tree: with the modes sorted by size so that
// the two largest (a, b) come last and L = the product of the small ones (kh·kw = 9 for a conv kernel),
//   P[l, ia, r] = Σ_ib X[l, ia, ib] F_b[ib, r]          (one GEMM, L·da·db·R)
//   T[l, r]     = Σ_ia P[l, ia, r] F_a[ia, r]          -> the small modes' MTTKRPs (tiny)
//   MTTKRP_a    = Σ_l E[l, r] P[l, ia, r], E = Khatri-Rao of the (updated) small-mode factors
//   Q[l, ib, r] = Σ_ia X[l, ia, ib] F_a[ia, r]          (one GEMM with the updated F_a)
//   MTTKRP_b    = Σ_l E[l, r] Q[l, ib, r]
// so a sweep costs 2·size·R multiply-adds instead of N·size·R (4·size·R for a conv kernel): the 3×3 modes
// are contracted through the intermediates P and Q, which are reused between the updates, and X / Xt are
// packed once per call and stay resident in the GEMM heap. Measured, [3,3,n,n] at R = n/2, the MTTKRPs of
// one sweep: n = 128: 3.2 ms (tree) vs 85 ms (unfold · Khatri-Rao, 4 GEMMs with our same GEMM); n = 256:
// 20 ms vs 579 ms (the plain form is dominated by forming the 3n²×R Khatri-Rao products). A whole sweep
// at n = 256 (with the normal equations) is ~38 ms. The fit is computed from the last MTTKRP and the
// factor Grams (no reconstruction per sweep; the final relError is from one exact reconstruction).
import { mixSeed, Rng } from '../../util/rng.js';
import { throwIfAborted } from '../../util/progress.js';
import { gemmPacked, gemmStrided, gram, leadingLeftSingularVectors, type PackedA, packA, type ResidentA, solveSpd, spdInverse, symmetricTopEigen, withResident } from './linalg.js';
import { permute, unfold } from './tensor.js';

export interface CpResult {
  /** factors[m] is dims[m] × R row-major, columns unit-norm. */
  factors: Float64Array[];
  /** R weights, sorted descending. */
  lambda: Float64Array;
  /** ||X - X̂||_F / ||X||_F */
  relError: number;
  iterations: number;
  /** true when stopped by tol (false: ran maxIter sweeps). */
  converged: boolean;
  seconds: number;
}

export interface CpOptions {
  /** Seed of the random columns (random init; padding of the SVD init when rank > dims[m]), default 0. */
  seed?: number;
  /** 'svd' (default): leading left singular vectors of each unfolding; 'random': seeded Gaussian. */
  init?: 'svd' | 'random';
  /** ALS sweeps, default 200. */
  maxIter?: number;
  /** Stop when the relative error changes by less than this between sweeps, default 1e-7; 0 = never. */
  tol?: number;
  /** Tikhonov term added to the diagonal of the normal equations (their diagonal is 1), default 0. */
  ridge?: number;
  /** Extrapolate the factors every 3rd sweep after the 6th, kept only if the error drops (Bro's line search). */
  lineSearch?: boolean;
  signal?: AbortSignal;
  onIteration?: (it: number, relError: number) => void;
}

function checkArgs(fn: string, dims: readonly number[], rank: number): void {
  if (dims.length !== 3 && dims.length !== 4) throw new Error(`${fn}: ${dims.length}-way tensors are not supported (3 or 4 ways)`);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`${fn}: dims [${dims}] must be positive integers`);
  if (!Number.isInteger(rank)) throw new Error(`${fn}: rank ${rank} must be an integer`);
  if (rank < 1) throw new Error(`${fn}: rank ${rank} must be >= 1`);
}

/** Modes sorted by size, ascending (stable): the two largest come last. */
function sortedModes(dims: readonly number[]): number[] {
  return dims.map((d, m) => [d, m]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((p) => p[1]);
}

function normalizeColumns(f: Float64Array, rows: number, r: number, lambda: Float64Array, rng: Rng): void {
  for (let c = 0; c < r; c++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += f[i * r + c] * f[i * r + c];
    let nrm = Math.sqrt(s);
    lambda[c] = nrm;
    if (!(nrm > 0) || !Number.isFinite(nrm)) {
      // dead component: a fresh random direction with zero weight
      lambda[c] = 0;
      s = 0;
      for (let i = 0; i < rows; i++) {
        f[i * r + c] = rng.normal();
        s += f[i * r + c] * f[i * r + c];
      }
      nrm = Math.sqrt(s);
    }
    const inv = 1 / nrm;
    for (let i = 0; i < rows; i++) f[i * r + c] *= inv;
  }
}

function randomFactor(rows: number, r: number, rng: Rng): Float64Array {
  const f = new Float64Array(rows * r);
  for (let i = 0; i < f.length; i++) f[i] = rng.normal();
  normalizeColumns(f, rows, r, new Float64Array(r), rng);
  return f;
}

/** Leading singular vectors (min(R, d) of them) padded with seeded random unit columns. */
function padded(lead: Float64Array, rows: number, have: number, r: number, rng: Rng): Float64Array {
  const f = new Float64Array(rows * r);
  for (let i = 0; i < rows; i++) for (let c = 0; c < have; c++) f[i * r + c] = lead[i * have + c];
  for (let i = 0; i < rows; i++) for (let c = have; c < r; c++) f[i * r + c] = rng.normal();
  if (have < r) {
    const lam = new Float64Array(r);
    normalizeColumns(f, rows, r, lam, rng);
  }
  return f;
}

/** Shared ALS state: factors (unit columns), weights, factor Grams. */
class Als {
  readonly grams: Float64Array[];
  readonly lambda: Float64Array;
  constructor(
    readonly dims: readonly number[],
    readonly r: number,
    readonly factors: Float64Array[],
    readonly ridge: number,
    readonly rng: Rng,
  ) {
    this.lambda = new Float64Array(r).fill(1);
    this.grams = factors.map((f, m) => gram(f, dims[m], r, 'cols'));
    this.v = new Float64Array(r * r);
    this.vinv = new Float64Array(r * r);
  }

  private readonly v: Float64Array;
  private readonly vinv: Float64Array;

  /** F_m <- mttkrp · (⊛_{m'≠m} G_m')⁻¹, columns normalised into λ. */
  update(m: number, mttkrp: Float64Array): void {
    const { r, dims, v, vinv } = this;
    const d = dims[m];
    v.fill(1);
    for (let q = 0; q < this.grams.length; q++) {
      if (q === m) continue;
      const g = this.grams[q];
      for (let i = 0; i < r * r; i++) v[i] *= g[i];
    }
    const f = this.factors[m];
    if (d >= r / 4) {
      // A = M V⁻¹: one GEMM after the R×R inverse (the pseudo-inverse when V is singular)
      gemmStrided(d, r, r, mttkrp, 0, r, 1, spdInverse(v, r, this.ridge, vinv), 0, r, 1, f, 0, r);
    } else {
      // few rows (the 3×3 spatial modes): Cholesky solves V Aᵀ = Mᵀ
      const mt = new Float64Array(r * d);
      for (let i = 0; i < d; i++) for (let c = 0; c < r; c++) mt[c * d + i] = mttkrp[i * r + c];
      const at = solveSpd(v, mt, r, d, this.ridge);
      for (let i = 0; i < d; i++) for (let c = 0; c < r; c++) f[i * r + c] = at[c * d + i];
    }
    normalizeColumns(f, d, r, this.lambda, this.rng);
    gram(f, d, r, 'cols', this.grams[m]);
  }

  /** ||X̂||² = λᵀ (⊛ G_m) λ */
  modelNorm2(): number {
    const { r } = this;
    const h = new Float64Array(r * r).fill(1);
    for (const g of this.grams) for (let i = 0; i < r * r; i++) h[i] *= g[i];
    let s = 0;
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) s += this.lambda[i] * h[i * r + j] * this.lambda[j];
    return s;
  }

  /** <X, X̂> from the last updated mode's MTTKRP (computed with the other factors as they are now). */
  inner(m: number, mttkrp: Float64Array): number {
    const { r } = this;
    const f = this.factors[m];
    let s = 0;
    for (let c = 0; c < r; c++) {
      let t = 0;
      for (let i = 0; i < this.dims[m]; i++) t += mttkrp[i * r + c] * f[i * r + c];
      s += this.lambda[c] * t;
    }
    return s;
  }
}

function relFromParts(nx2: number, inner: number, model2: number): number {
  if (!(nx2 > 0)) return 0;
  return Math.sqrt(Math.max(0, nx2 - 2 * inner + model2) / nx2);
}

/** Components sorted by λ descending (stable), factors un-permuted into `order`. */
function finish(als: Als, order: readonly number[] | null, t0: number, relError: number, iterations: number, converged: boolean): CpResult {
  const { r } = als;
  const idx = Array.from({ length: r }, (_, i) => i).sort((a, b) => als.lambda[b] - als.lambda[a] || a - b);
  const n = als.dims.length;
  const factors: Float64Array[] = new Array(n);
  for (let q = 0; q < n; q++) {
    const m = order ? order[q] : q;
    const d = als.dims[q];
    const src = als.factors[q];
    const f = new Float64Array(d * r);
    for (let i = 0; i < d; i++) for (let c = 0; c < r; c++) f[i * r + c] = src[i * r + idx[c]];
    factors[m] = f;
  }
  return { factors, lambda: Float64Array.from(idx, (i) => als.lambda[i]), relError, iterations, converged, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Σ_l E[l, r] · P[l, i, r] for P [L, d, R]: the big modes' MTTKRPs from an intermediate. Four columns
 * at a time with the sum over l in registers (two loads per multiply-add, no stores in the inner loop).
 */
function contractLeft(e: Float64Array, p: Float64Array, L: number, d: number, r: number): Float64Array {
  const out = new Float64Array(d * r);
  const dr = d * r;
  const r4 = r & ~3;
  for (let i = 0; i < d; i++) {
    const oi = i * r;
    let c = 0;
    for (; c < r4; c += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let l = 0, el = c, pl = oi + c; l < L; l++, el += r, pl += dr) {
        s0 += e[el] * p[pl];
        s1 += e[el + 1] * p[pl + 1];
        s2 += e[el + 2] * p[pl + 2];
        s3 += e[el + 3] * p[pl + 3];
      }
      out[oi + c] = s0;
      out[oi + c + 1] = s1;
      out[oi + c + 2] = s2;
      out[oi + c + 3] = s3;
    }
    for (; c < r; c++) {
      let s0 = 0;
      for (let l = 0; l < L; l++) s0 += e[l * r + c] * p[l * dr + oi + c];
      out[oi + c] = s0;
    }
  }
  return out;
}

/** T[l, r] = Σ_i P[l, i, r] F[i, r] (four columns at a time, the sum over i in registers). */
function contractMiddle(p: Float64Array, f: Float64Array, L: number, d: number, r: number): Float64Array {
  const out = new Float64Array(L * r);
  const r4 = r & ~3;
  for (let l = 0; l < L; l++) {
    const ol = l * r;
    const base = l * d * r;
    let c = 0;
    for (; c < r4; c += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0, pi = base + c, fi = c; i < d; i++, pi += r, fi += r) {
        s0 += p[pi] * f[fi];
        s1 += p[pi + 1] * f[fi + 1];
        s2 += p[pi + 2] * f[fi + 2];
        s3 += p[pi + 3] * f[fi + 3];
      }
      out[ol + c] = s0;
      out[ol + c + 1] = s1;
      out[ol + c + 2] = s2;
      out[ol + c + 3] = s3;
    }
    for (; c < r; c++) {
      let s0 = 0;
      for (let i = 0; i < d; i++) s0 += p[base + i * r + c] * f[i * r + c];
      out[ol + c] = s0;
    }
  }
  return out;
}

/**
 * The dimension-tree sweep for a tensor whose modes are already sorted ascending (sizes `dims`), X as
 * [L, da, db] and its transpose Xt as [L, db, da]. Returns the fit parts after the sweep.
 */
class TreeSweep {
  readonly L: number;
  readonly da: number;
  readonly db: number;
  readonly nLeft: number;
  /** X as (L·da × db) and Xt as (L·db × da), packed once for all the sweeps' GEMMs (then made resident). */
  px: PackedA | ResidentA;
  pxt: PackedA | ResidentA;
  private readonly pBuf: Float64Array;
  private readonly qBuf: Float64Array;
  constructor(
    x: Float64Array,
    xt: Float64Array,
    readonly dims: readonly number[],
    readonly r: number,
  ) {
    const n = dims.length;
    this.nLeft = n - 2;
    this.da = dims[n - 2];
    this.db = dims[n - 1];
    this.L = dims.slice(0, n - 2).reduce((a, b) => a * b, 1);
    this.px = packA(this.L * this.da, this.db, x, 0, this.db, 1);
    this.pxt = packA(this.L * this.db, this.da, xt, 0, this.da, 1);
    this.pBuf = new Float64Array(this.L * this.da * r);
    this.qBuf = new Float64Array(this.L * this.db * r);
  }

  /** Khatri-Rao of the small-mode factors: E[l, r] (l = i0·d1 + i1). */
  leftKr(f: readonly Float64Array[]): Float64Array {
    const { r, L } = this;
    if (this.nLeft === 1) return f[0];
    const d1 = this.dims[1];
    const e = new Float64Array(L * r);
    for (let l = 0; l < L; l++) {
      const i0 = Math.floor(l / d1);
      const i1 = l - i0 * d1;
      for (let c = 0; c < r; c++) e[l * r + c] = f[0][i0 * r + c] * f[1][i1 * r + c];
    }
    return e;
  }

  /** P = X ·_b F_b : [L, da, R] */
  p(fb: Float64Array): Float64Array {
    gemmPacked(this.px, this.r, fb, 0, this.r, 1, this.pBuf, 0, this.r);
    return this.pBuf;
  }

  /** Q = X ·_a F_a : [L, db, R] */
  q(fa: Float64Array): Float64Array {
    gemmPacked(this.pxt, this.r, fa, 0, this.r, 1, this.qBuf, 0, this.r);
    return this.qBuf;
  }

  /** One ALS sweep on als (modes in sorted order). Returns <X, X̂> after it. */
  sweep(als: Als): number {
    const { L, da, db, r, nLeft } = this;
    const f = als.factors;
    const a = nLeft;
    const b = nLeft + 1;
    const p = this.p(f[b]);
    const t = contractMiddle(p, f[a], L, da, r);
    if (nLeft === 1) {
      als.update(0, t);
    } else {
      const d0 = this.dims[0];
      const d1 = this.dims[1];
      // M0[i0, r] = Σ_i1 T[i0·d1 + i1, r] F1[i1, r]
      const m0 = new Float64Array(d0 * r);
      const f1 = f[1];
      for (let i0 = 0; i0 < d0; i0++) {
        for (let i1 = 0; i1 < d1; i1++) {
          const tr = (i0 * d1 + i1) * r;
          for (let c = 0; c < r; c++) m0[i0 * r + c] += t[tr + c] * f1[i1 * r + c];
        }
      }
      als.update(0, m0);
      const m1 = new Float64Array(d1 * r);
      const f0 = f[0];
      for (let i0 = 0; i0 < d0; i0++) {
        for (let i1 = 0; i1 < d1; i1++) {
          const tr = (i0 * d1 + i1) * r;
          for (let c = 0; c < r; c++) m1[i1 * r + c] += t[tr + c] * f0[i0 * r + c];
        }
      }
      als.update(1, m1);
    }
    const e = this.leftKr(f);
    als.update(a, contractLeft(e, p, L, da, r));
    const q = this.q(f[a]);
    const mb = contractLeft(e, q, L, db, r);
    als.update(b, mb);
    return als.inner(b, mb);
  }

  /** <X, X̂> for arbitrary factors/weights (one GEMM): the line search's error. */
  innerWith(factors: readonly Float64Array[], lambda: Float64Array): number {
    const { L, da, r } = this;
    const p = this.p(factors[this.nLeft + 1]);
    const t = contractMiddle(p, factors[this.nLeft], L, da, r);
    const e = this.leftKr(factors);
    let s = 0;
    for (let l = 0; l < L; l++) for (let c = 0; c < r; c++) s += lambda[c] * e[l * r + c] * t[l * r + c];
    return s;
  }
}

/** The sweeps of cpAls (with the optional line search); returns the sweep count and whether tol stopped it. */
function alsLoop(als: Als, tree: TreeSweep, nx2: number, sdims: readonly number[], r: number, maxIter: number, tol: number, opts: CpOptions): { iterations: number; converged: boolean } {
  let err = Infinity;
  let iterations = 0;
  let converged = false;
  let lsPow = 3;
  let lsFail = 0;
  for (let it = 0; it < maxIter; it++) {
    throwIfAborted(opts.signal);
    const before = opts.lineSearch ? { factors: als.factors.map((f) => Float64Array.from(f)), lambda: Float64Array.from(als.lambda) } : null;
    const inner = tree.sweep(als);
    let next = relFromParts(nx2, inner, als.modelNorm2());
    iterations = it + 1;
    if (before && it >= 6 && it % 3 === 0) {
      // extrapolate along this sweep's step: F + (jump - 1)·(F - F_before)
      const jump = Math.pow(it, 1 / lsPow);
      const lf = als.factors.map((f, m) => f.map((v, i) => before.factors[m][i] + jump * (v - before.factors[m][i])));
      const lam = als.lambda.map((v, i) => before.lambda[i] + jump * (v - before.lambda[i]));
      const lg = lf.map((f, m) => gram(f, sdims[m], r, 'cols'));
      const h = new Float64Array(r * r).fill(1);
      for (const g of lg) for (let i = 0; i < r * r; i++) h[i] *= g[i];
      let model2 = 0;
      for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) model2 += lam[i] * h[i * r + j] * lam[j];
      const lsErr = relFromParts(nx2, tree.innerWith(lf, lam), model2);
      if (lsErr < next) {
        lf.forEach((f, m) => {
          const scale = new Float64Array(r);
          normalizeColumns(f, sdims[m], r, scale, als.rng);
          for (let c = 0; c < r; c++) lam[c] *= scale[c];
          als.factors[m].set(f);
          gram(als.factors[m], sdims[m], r, 'cols', als.grams[m]);
        });
        als.lambda.set(lam);
        next = lsErr;
        lsFail = 0;
      } else if (++lsFail >= 4) {
        lsPow += 1;
        lsFail = 0;
      }
    }
    opts.onIteration?.(iterations, next);
    const change = Math.abs(err - next);
    err = next;
    if (tol > 0 && change < tol) {
      converged = true;
      break;
    }
  }
  return { iterations, converged };
}

/**
 * CP-ALS of a 3- or 4-way row-major tensor at `rank` (>= 1). A rank above the generic bound (the product
 * of all dims over the largest) is allowed; the fit is then exact or nearly so, and the factors are not
 * unique. Deterministic: the same inputs and seed give bit-identical factors.
 */
export function cpAls(x: Float32Array | Float64Array, dims: readonly number[], rank: number, opts: CpOptions = {}): CpResult {
  const t0 = performance.now();
  checkArgs('cpAls', dims, rank);
  const size = dims.reduce((a, b) => a * b, 1);
  if (x.length !== size) throw new Error(`cpAls: ${x.length} values do not fill dims [${dims}]`);
  const seed = opts.seed ?? 0;
  const maxIter = opts.maxIter ?? 200;
  const tol = opts.tol ?? 1e-7;
  const r = rank;
  const order = sortedModes(dims);
  const identity = order.every((m, i) => m === i);
  const sdims = order.map((m) => dims[m]);
  const xs = identity ? Float64Array.from(x) : permute(x, dims, order).data;
  let nx2 = 0;
  for (let i = 0; i < size; i++) nx2 += xs[i] * xs[i];
  // initial factors, per original mode (seeded by the original mode index)
  const init: Float64Array[] = dims.map((d, m) => {
    const rng = new Rng(mixSeed(seed, m, 0x1c9));
    if (opts.init === 'random') return randomFactor(d, r, rng);
    const have = Math.min(r, d);
    const lead = leadingLeftSingularVectors(m === 0 ? x : unfold(x, dims, m), d, size / d, have);
    return padded(lead, d, have, r, rng);
  });
  const als = new Als(sdims, r, order.map((m) => init[m]), opts.ridge ?? 0, new Rng(mixSeed(seed, 0x5a1)));
  const n = sdims.length;
  const tree = new TreeSweep(xs, permute(xs, sdims, [...Array.from({ length: n - 2 }, (_, i) => i), n - 1, n - 2]).data, sdims, r);
  const packed = [tree.px as PackedA, tree.pxt as PackedA];
  const { iterations, converged } = withResident(packed, ([rx, rxt]) => {
    tree.px = rx;
    tree.pxt = rxt;
    try {
      return alsLoop(als, tree, nx2, sdims, r, maxIter, tol, opts);
    } finally {
      tree.px = packed[0];
      tree.pxt = packed[1];
    }
  });
  // exact final error from the reconstruction (one GEMM)
  const recon = reconstruct(als.factors, als.lambda, sdims);
  let num = 0;
  for (let i = 0; i < size; i++) num += (recon[i] - xs[i]) ** 2;
  const relError = nx2 > 0 ? Math.sqrt(num / nx2) : 0;
  return finish(als, order, t0, relError, iterations, converged);
}

/** X = (λ ⊙ F0 ⊙ … ⊙ F_{N-2}) · F_{N-1}ᵀ, any mode order. */
function reconstruct(factors: readonly Float64Array[], lambda: Float64Array, dims: readonly number[]): Float64Array {
  const r = lambda.length;
  const n = dims.length;
  // K[l, r] = λ_r Π_{m < n-1} F_m[i_m, r]  (l over all modes but the last), X = K · F_lastᵀ
  let k = new Float64Array(dims[0] * r);
  for (let i = 0; i < dims[0]; i++) for (let c = 0; c < r; c++) k[i * r + c] = lambda[c] * factors[0][i * r + c];
  let rows = dims[0];
  for (let m = 1; m < n - 1; m++) {
    const d = dims[m];
    const nk = new Float64Array(rows * d * r);
    for (let l = 0; l < rows; l++) for (let i = 0; i < d; i++) for (let c = 0; c < r; c++) nk[(l * d + i) * r + c] = k[l * r + c] * factors[m][i * r + c];
    k = nk;
    rows *= d;
  }
  const dl = dims[n - 1];
  const out = new Float64Array(rows * dl);
  gemmStrided(rows, r, dl, k, 0, r, 1, factors[n - 1], 0, 1, r, out, 0, dl);
  return out;
}

/** The full tensor Σ_r λ_r F0[:,r] ∘ F1[:,r] ∘ … (row-major, dims). */
export function cpReconstruct(factors: readonly Float64Array[], lambda: Float64Array, dims: readonly number[]): Float64Array {
  if (factors.length !== dims.length) throw new Error(`cpReconstruct: ${factors.length} factors for ${dims.length} dims`);
  const r = lambda.length;
  factors.forEach((f, m) => {
    if (f.length !== dims[m] * r) throw new Error(`cpReconstruct: factor ${m} has ${f.length} values, expected ${dims[m]}×${r}`);
  });
  if (dims.length === 1) return Float64Array.from(factors[0], (v, i) => v * lambda[i % r]);
  return reconstruct(factors, lambda, dims);
}

/**
 * Re-fits a CP of rank `rank` (typically lower) to the tensor given in CP form (factors dims[m]×R0,
 * weights λ0), never forming the tensor: the MTTKRPs are G_m diag(λ0) (⊛_{m'≠m} G_m'ᵀ F_m') and the
 * norms come from the R0×R0 / R0×R factor Grams, so the cost is O(Σ dims · R0 · R) per sweep.
 * relError is relative to the given CP tensor (computed from the same Grams; exact to ~1e-8).
 */
export function cpAlsFromFactors(factors: readonly Float64Array[], lambda: Float64Array, dims: readonly number[], rank: number, opts: CpOptions = {}): CpResult {
  const t0 = performance.now();
  checkArgs('cpAlsFromFactors', dims, rank);
  const r0 = lambda.length;
  if (factors.length !== dims.length) throw new Error(`cpAlsFromFactors: ${factors.length} factors for ${dims.length} dims`);
  factors.forEach((f, m) => {
    if (f.length !== dims[m] * r0) throw new Error(`cpAlsFromFactors: factor ${m} has ${f.length} values, expected ${dims[m]}×${r0}`);
  });
  const seed = opts.seed ?? 0;
  const maxIter = opts.maxIter ?? 200;
  const tol = opts.tol ?? 1e-7;
  const r = rank;
  const n = dims.length;
  const order = sortedModes(dims);
  const sdims = order.map((m) => dims[m]);
  const g = order.map((m) => Float64Array.from(factors[m]));
  const gg = g.map((f, q) => gram(f, sdims[q], r0, 'cols'));
  // ||X||² = λ0ᵀ (⊛ G_mᵀG_m) λ0
  const hAll = new Float64Array(r0 * r0).fill(1);
  for (const x of gg) for (let i = 0; i < r0 * r0; i++) hAll[i] *= x[i];
  let nx2 = 0;
  for (let i = 0; i < r0; i++) for (let j = 0; j < r0; j++) nx2 += lambda[i] * hAll[i * r0 + j] * lambda[j];
  // init
  const init: Float64Array[] = order.map((m, q) => {
    const d = dims[m];
    const rng = new Rng(mixSeed(seed, m, 0x1c9));
    if (opts.init === 'random') return randomFactor(d, r, rng);
    const have = Math.min(r, d);
    // Gram of the mode-m unfolding: G_m D (⊛_{m'≠m} G_m'ᵀG_m') D G_mᵀ
    const h = new Float64Array(r0 * r0).fill(1);
    gg.forEach((x, p) => {
      if (p !== q) for (let i = 0; i < r0 * r0; i++) h[i] *= x[i];
    });
    for (let i = 0; i < r0; i++) for (let j = 0; j < r0; j++) h[i * r0 + j] *= lambda[i] * lambda[j];
    const gh = new Float64Array(d * r0);
    gemmStrided(d, r0, r0, g[q], 0, r0, 1, h, 0, r0, 1, gh, 0, r0);
    const um = new Float64Array(d * d);
    gemmStrided(d, r0, d, gh, 0, r0, 1, g[q], 0, 1, r0, um, 0, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) um[i * d + j] = um[j * d + i] = 0.5 * (um[i * d + j] + um[j * d + i]);
    const lead = symmetricTopEigen(um, d, have).vectors;
    return padded(lead, d, have, r, rng);
  });
  const als = new Als(sdims, r, init, opts.ridge ?? 0, new Rng(mixSeed(seed, 0x5a1)));
  // W_m = G_mᵀ F_m (R0 × R)
  const w = g.map((gm, q) => {
    const out = new Float64Array(r0 * r);
    gemmStrided(r0, sdims[q], r, gm, 0, 1, r0, als.factors[q], 0, r, 1, out, 0, r);
    return out;
  });
  const mttkrp = (q: number): Float64Array => {
    const h = new Float64Array(r0 * r);
    for (let s = 0; s < r0; s++) for (let c = 0; c < r; c++) h[s * r + c] = lambda[s];
    w.forEach((x, p) => {
      if (p !== q) for (let i = 0; i < r0 * r; i++) h[i] *= x[i];
    });
    const out = new Float64Array(sdims[q] * r);
    gemmStrided(sdims[q], r0, r, g[q], 0, r0, 1, h, 0, r, 1, out, 0, r);
    return out;
  };
  let err = Infinity;
  let iterations = 0;
  let converged = false;
  let inner = 0;
  for (let it = 0; it < maxIter; it++) {
    throwIfAborted(opts.signal);
    for (let q = 0; q < n; q++) {
      const m = mttkrp(q);
      als.update(q, m);
      gemmStrided(r0, sdims[q], r, g[q], 0, 1, r0, als.factors[q], 0, r, 1, w[q], 0, r);
      if (q === n - 1) inner = als.inner(q, m);
    }
    const next = relFromParts(nx2, inner, als.modelNorm2());
    iterations = it + 1;
    opts.onIteration?.(iterations, next);
    const change = Math.abs(err - next);
    err = next;
    if (tol > 0 && change < tol) {
      converged = true;
      break;
    }
  }
  if (iterations === 0) {
    inner = als.inner(n - 1, mttkrp(n - 1));
    err = relFromParts(nx2, inner, als.modelNorm2());
  }
  return finish(als, order, t0, err, iterations, converged);
}
