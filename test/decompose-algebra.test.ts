// Known-answer tests of the decomposition algebra: GEMM, the symmetric eigensolver and Gram-based SVD,
// unfoldings and mode products, Tucker-2 (HOSVD + HOOI) and CP-ALS (dense and from CP factors).
// Exact low-rank tensors are built from random factors, so every tolerance below can fail.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { EVD, Matrix } from 'ml-matrix';
import { cpAls, cpAlsFromFactors, cpReconstruct } from '../compiler/passes/decompose/cp.js';
import {
  gemmBackend, gram, leadingLeftSingularVectors, matmul, singularValues, solveSpd, spdInverse, symmetricEigen, symmetricTopEigen, truncatedSvd, useGemmBackend,
} from '../compiler/passes/decompose/linalg.js';
import { gemmThreads, setGemmThreads } from '../compiler/passes/decompose/gemm-threads.js';
import { fold, frobenius, modeProduct, permute, relativeError, unfold } from '../compiler/passes/decompose/tensor.js';
import { tucker2, tucker2Reconstruct } from '../compiler/passes/decompose/tucker2.js';
import { Rng } from '../compiler/util/rng.js';

const randn = (rng: Rng, n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());

function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}

function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** rows×k with orthonormal columns (Gram-Schmidt twice). */
function orthonormal(rng: Rng, rows: number, k: number): Float64Array {
  const q = randn(rng, rows * k);
  for (let j = 0; j < k; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let d = 0;
        for (let i = 0; i < rows; i++) d += q[i * k + p] * q[i * k + j];
        for (let i = 0; i < rows; i++) q[i * k + j] -= d * q[i * k + p];
      }
    }
    let nn = 0;
    for (let i = 0; i < rows; i++) nn += q[i * k + j] ** 2;
    for (let i = 0; i < rows; i++) q[i * k + j] /= Math.sqrt(nn);
  }
  return q;
}

/** max |QᵀQ - I| for rows×k Q. */
function orthError(q: ArrayLike<number>, rows: number, k: number): number {
  const g = matmul(Float64Array.from(q), Float64Array.from(q), k, rows, k, true, false);
  let e = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) e = Math.max(e, Math.abs(g[i * k + j] - (i === j ? 1 : 0)));
  return e;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
};

describe('linalg: GEMM', () => {
  for (const backend of ['auto', 'js'] as const) {
    it(`matmul matches a naive triple loop for every transpose combination (${backend} kernels)`, () => {
      const used = useGemmBackend(backend);
      if (backend === 'js') assert.equal(used, 'js');
      try {
        const rng = new Rng(1);
        for (const [m, k, n] of [[3, 5, 2], [33, 65, 17], [130, 300, 70], [257, 19, 131]] as const) {
          const a = randn(rng, m * k);
          const b = randn(rng, k * n);
          const ref = naiveMatmul(a, b, m, k, n);
          const scale = Math.sqrt(k);
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              const c = matmul(ta ? transpose(a, m, k) : a, tb ? transpose(b, k, n) : b, m, k, n, ta, tb);
              assert.ok(maxAbsDiff(c, ref) <= 1e-13 * scale, `${m}×${k}×${n} ${ta} ${tb}: ${maxAbsDiff(c, ref)}`);
            }
          }
        }
      } finally {
        useGemmBackend('auto');
      }
    });
  }

  it('two GEMM threads give the same products, Gram matrices and Tucker factors bit for bit as one', () => {
    assert.equal(gemmThreads(), availableParallelism() >= 2 ? 2 : 1);
    const rng = new Rng(8);
    const a = randn(rng, 300 * 700);
    const b = randn(rng, 700 * 257);
    const kernel = Float32Array.from(randn(rng, 9 * 128 * 96));
    const run = () => ({ c: matmul(a, b, 300, 700, 257), g: gram(a, 300, 700, 'rows'), t: tucker2(kernel, [3, 3, 128, 96], [64, 48]).core });
    const two = run();
    setGemmThreads(1);
    try {
      const one = run();
      assert.deepEqual(two.c, one.c);
      assert.deepEqual(two.g, one.g);
      assert.deepEqual(two.t, one.t);
    } finally {
      setGemmThreads(2);
    }
    let e = 0;
    for (let i = 0; i < 300; i += 37) {
      for (let j = 0; j < 257; j += 19) {
        let s = 0;
        for (let p = 0; p < 700; p++) s += a[i * 700 + p] * b[p * 257 + j];
        e = Math.max(e, Math.abs(s - two.c[i * 257 + j]));
      }
    }
    assert.ok(e < 1e-11, `vs naive ${e}`);
  });

  it('the JS fallback kernels (GEMM, gemv, row axpys) give the same eigenpairs and Tucker fit', () => {
    const rng = new Rng(7);
    const n = 90;
    const x = randn(rng, n * 3 * n);
    const kernel = Float32Array.from(randn(rng, 9 * 20 * 24));
    const wasm = { eig: symmetricTopEigen(gram(x, n, 3 * n, 'rows'), n, 30), tucker: tucker2(kernel, [3, 3, 20, 24], [6, 7]) };
    useGemmBackend('js');
    try {
      const js = { eig: symmetricTopEigen(gram(x, n, 3 * n, 'rows'), n, 30), tucker: tucker2(kernel, [3, 3, 20, 24], [6, 7]) };
      assert.ok(maxAbsDiff(js.eig.values, wasm.eig.values) <= 1e-12 * wasm.eig.values[0]);
      // same vectors up to sign
      for (let j = 0; j < 30; j++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += js.eig.vectors[i * 30 + j] * wasm.eig.vectors[i * 30 + j];
        assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-9, `vector ${j}: ${dot}`);
      }
      assert.ok(Math.abs(js.tucker.relError - wasm.tucker.relError) < 1e-9);
    } finally {
      useGemmBackend('auto');
    }
  });

  it('runs the WebAssembly SIMD kernel on Node 20', () => {
    assert.equal(gemmBackend(), 'wasm');
  });

  it('gram is exactly symmetric and equals A Aᵀ / AᵀA', () => {
    const rng = new Rng(2);
    const a = randn(rng, 37 * 91);
    const rows = gram(a, 37, 91, 'rows');
    const cols = gram(Float32Array.from(a), 37, 91, 'cols');
    assert.ok(maxAbsDiff(rows, naiveMatmul(a, transpose(a, 37, 91), 37, 91, 37)) < 1e-12);
    assert.ok(maxAbsDiff(cols, naiveMatmul(transpose(Float32Array.from(a), 37, 91), Float32Array.from(a), 91, 37, 91)) < 1e-11);
    for (let i = 0; i < 91; i++) for (let j = 0; j < i; j++) assert.equal(cols[i * 91 + j], cols[j * 91 + i]);
  });
});

describe('linalg: symmetric eigenproblem', () => {
  it('eigenpairs of random symmetric matrices: residual, orthogonality, values vs ml-matrix', () => {
    const rng = new Rng(3);
    for (const n of [1, 2, 7, 40, 130]) {
      const x = randn(rng, n * n);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = x[i * n + j] + x[j * n + i];
      const { values, vectors } = symmetricEigen(a, n);
      const av = matmul(a, vectors, n, n, n);
      let res = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) res = Math.max(res, Math.abs(av[i * n + j] - values[j] * vectors[i * n + j]));
      const norm = Math.max(...Array.from(values, Math.abs));
      assert.ok(res <= 1e-12 * norm, `n=${n} residual ${res}`);
      assert.ok(orthError(vectors, n, n) <= 1e-12, `n=${n} orthogonality ${orthError(vectors, n, n)}`);
      for (let j = 1; j < n; j++) assert.ok(values[j] <= values[j - 1]);
      const ref = new EVD(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)))), { assumeSymmetric: true }).realEigenvalues.sort((p, q) => q - p);
      assert.ok(maxAbsDiff(values, ref) <= 1e-12 * norm, `n=${n} values vs ml-matrix`);
    }
  });

  it('a noise bulk of tightly spaced eigenvalues (Gram of rank 16 plus 5% noise): residual and orthogonality', () => {
    // 80 of the top 96 eigenvalues sit in a bulk ~2e-4 of the largest, spaced 2e-7..6e-6 of it: one
    // chain of near-equal values, where stein-style re-orthogonalisation against the chain is O(k²·n).
    const rng = new Rng(9);
    const n = 192;
    const cols = 6 * n;
    const u = randn(rng, n * 16);
    const w = randn(rng, 16 * cols);
    const x = matmul(u, w, n, 16, cols);
    const scale = 0.05 * frobenius(x) / Math.sqrt(n * cols);
    for (let i = 0; i < x.length; i++) x[i] += scale * rng.normal();
    const a = gram(x, n, cols, 'rows');
    const k = n / 2;
    const { values, vectors } = symmetricTopEigen(a, n, k);
    const av = matmul(a, vectors, n, n, k);
    let res = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) res = Math.max(res, Math.abs(av[i * k + j] - values[j] * vectors[i * k + j]));
    assert.ok(values[16] / values[0] < 1e-3, `bulk ${values[16] / values[0]}`);
    assert.ok(res <= 1e-13 * values[0], `residual ${res / values[0]}`);
    assert.ok(orthError(vectors, n, k) <= 1e-13, `orthogonality ${orthError(vectors, n, k)}`);
    const ref = new EVD(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)))), { assumeSymmetric: true }).realEigenvalues.sort((p, q) => q - p);
    assert.ok(maxAbsDiff(values, ref.slice(0, k)) <= 1e-13 * values[0]);
  });

  it('eigenvalues spaced just outside the Gram-Schmidt window, and a non-finite matrix', () => {
    const rng = new Rng(11);
    const n = 80;
    const k = 40;
    const q = orthonormal(rng, n, n);
    const lam = Array.from({ length: n }, (_, j) => (j < k ? 1 - j * 1.05e-9 : rng.uniform(0, 0.5)));
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
      let v = 0;
      for (let p = 0; p < n; p++) v += q[i * n + p] * lam[p] * q[j * n + p];
      a[i * n + j] = a[j * n + i] = v;
    }
    const { values, vectors } = symmetricTopEigen(a, n, k);
    const av = matmul(a, vectors, n, n, k);
    let res = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) res = Math.max(res, Math.abs(av[i * k + j] - values[j] * vectors[i * k + j]));
    assert.ok(res <= 1e-13, `residual ${res}`);
    assert.ok(orthError(vectors, n, k) <= 1e-13, `orthogonality ${orthError(vectors, n, k)}`);
    a[5 * n + 7] = NaN;
    assert.throws(() => symmetricTopEigen(a, n, k), /entry \(5, 7\) is NaN/);
  });

  it('repeated and zero eigenvalues still give an orthonormal basis', () => {
    const rng = new Rng(4);
    const n = 60;
    const q = orthonormal(rng, n, n);
    const lam = Array.from({ length: n }, (_, i) => (i < 10 ? 5 : i < 30 ? 2 : 0));
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) a[i * n + j] += q[i * n + p] * lam[p] * q[j * n + p];
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
    const { values, vectors } = symmetricEigen(a, n);
    assert.ok(maxAbsDiff(values, [...lam].sort((x, y) => y - x)) < 1e-12);
    assert.ok(orthError(vectors, n, n) < 1e-12);
    // the top-10 eigenspace is span(q[:, 0:10]): projecting onto it keeps the vectors
    const top = symmetricTopEigen(a, n, 10).vectors;
    const qt = new Float64Array(n * 10);
    for (let i = 0; i < n; i++) for (let j = 0; j < 10; j++) qt[i * 10 + j] = q[i * n + j];
    const proj = matmul(qt, top, 10, n, 10, true, false);
    assert.ok(Math.abs(frobenius(proj) ** 2 - 10) < 1e-10);
    const id = symmetricEigen(Float64Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? 1 : 0)), 5);
    assert.deepEqual(Array.from(id.values), [1, 1, 1, 1, 1]);
    assert.ok(orthError(id.vectors, 5, 5) === 0);
  });
});

describe('linalg: SVD through the Gram of the small side', () => {
  /** U diag(s) Vᵀ with orthonormal U, V. */
  function lowRank(rng: Rng, rows: number, cols: number, s: readonly number[]): Float64Array {
    const r = s.length;
    const u = orthonormal(rng, rows, r);
    const v = orthonormal(rng, cols, r);
    for (let i = 0; i < rows; i++) for (let j = 0; j < r; j++) u[i * r + j] *= s[j];
    return matmul(u, v, rows, r, cols, false, true);
  }

  for (const [rows, cols, s] of [
    [3, 12288, [9, 4, 0.5]],
    [12288, 3, [7, 3, 1]],
    [50, 70, [10, 8, 6, 5, 3, 2, 1, 0.5, 0.1, 0.01]],
    [70, 50, [3, 3, 3, 1]],
  ] as const) {
    it(`exactly rank-${s.length} ${rows}×${cols}: singular values and reconstruction`, () => {
      const rng = new Rng(rows * 7 + cols);
      const a = lowRank(rng, rows, cols, s);
      const svd = truncatedSvd(a, rows, cols, s.length);
      assert.equal(svd.rank, s.length);
      for (let j = 0; j < s.length; j++) assert.ok(Math.abs(svd.s[j] - s[j]) <= 1e-9 * s[0], `s[${j}] ${svd.s[j]} vs ${s[j]}`);
      const us = Float64Array.from(svd.u);
      for (let i = 0; i < rows; i++) for (let j = 0; j < svd.rank; j++) us[i * svd.rank + j] *= svd.s[j];
      const rec = matmul(us, svd.v, rows, svd.rank, cols, false, true);
      assert.ok(relativeError(rec, a) <= 1e-6, `reconstruction ${relativeError(rec, a)}`);
      assert.ok(orthError(svd.u, rows, svd.rank) < 1e-9);
      assert.ok(orthError(svd.v, cols, svd.rank) < 1e-9);
      const all = singularValues(a, rows, cols);
      assert.equal(all.length, Math.min(rows, cols));
      for (let j = 0; j < all.length; j++) assert.ok(Math.abs(all[j] - (s[j] ?? 0)) <= 1e-7 * s[0], `all s[${j}] ${all[j]}`);
    });
  }

  it('asking for more components than the rank: still orthonormal, reconstruction unchanged', () => {
    const rng = new Rng(9);
    const a = lowRank(rng, 40, 30, [5, 2, 1]);
    const svd = truncatedSvd(a, 40, 30, 8);
    assert.equal(svd.rank, 8);
    assert.ok(orthError(svd.u, 40, 8) < 1e-9 && orthError(svd.v, 30, 8) < 1e-9);
    assert.ok(svd.s[3] < 1e-6);
    const us = Float64Array.from(svd.u);
    for (let i = 0; i < 40; i++) for (let j = 0; j < 8; j++) us[i * 8 + j] *= svd.s[j];
    assert.ok(relativeError(matmul(us, svd.v, 40, 8, 30, false, true), a) < 1e-6);
    assert.throws(() => truncatedSvd(a, 40, 30, 0), /rank 0 must be an integer >= 1/);
  });

  it('leadingLeftSingularVectors spans the leading left subspace (wide and tall)', () => {
    const rng = new Rng(10);
    for (const [rows, cols] of [[20, 300], [300, 20]] as const) {
      const u0 = orthonormal(rng, rows, 4);
      const v0 = orthonormal(rng, cols, 4);
      for (let i = 0; i < rows; i++) for (let j = 0; j < 4; j++) u0[i * 4 + j] *= [8, 4, 2, 1][j];
      const a = matmul(u0, v0, rows, 4, cols, false, true);
      const u = leadingLeftSingularVectors(a, rows, cols, 3);
      assert.ok(orthError(u, rows, 3) < 1e-10);
      // ||Uᵀ A||² = 64 + 16 + 4 for the top three directions
      assert.ok(Math.abs(frobenius(matmul(u, a, 3, rows, cols, true, false)) ** 2 - 84) < 1e-8);
    }
    assert.throws(() => leadingLeftSingularVectors(new Float64Array(6), 2, 3, 3), /rank 3 exceeds the number of rows = 2/);
  });
});

describe('linalg: solveSpd', () => {
  it('solves SPD systems (Cholesky and inverse paths) and falls back to the pseudo-inverse', () => {
    const rng = new Rng(11);
    for (const [n, nrhs] of [[5, 2], [40, 3], [64, 80]] as const) {
      const x = randn(rng, n * (n + 3));
      const a = matmul(x, x, n, n + 3, n, false, true);
      const want = randn(rng, n * nrhs);
      const b = matmul(a, want, n, n, nrhs);
      assert.ok(relativeError(solveSpd(a, b, n, nrhs), want) < 1e-8, `n=${n}`);
    }
    // singular PSD (rank 3 of 6) with a consistent right-hand side: A X = B still holds
    const x = randn(rng, 6 * 3);
    const a = matmul(x, x, 6, 3, 6, false, true);
    const b = matmul(a, randn(rng, 6 * 2), 6, 6, 2);
    const sol = solveSpd(a, b, 6, 2);
    assert.ok(relativeError(matmul(a, sol, 6, 6, 2), b) < 1e-8);
    // ridge: (A + I) X = B
    const r = solveSpd(a, b, 6, 2, 1);
    const ar = Float64Array.from(a);
    for (let i = 0; i < 6; i++) ar[i * 6 + i] += 1;
    assert.ok(relativeError(matmul(ar, r, 6, 6, 2), b) < 1e-10);
    const inv = spdInverse(ar, 6);
    assert.ok(maxAbsDiff(matmul(ar, inv, 6, 6, 6), Float64Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0))) < 1e-10);
  });
});

describe('tensor: unfoldings and mode products', () => {
  it('unfold follows the documented column order; fold inverts it exactly', () => {
    const rng = new Rng(12);
    for (const dims of [[3, 4, 5], [2, 3, 4, 5], [3, 3, 7, 2]]) {
      const size = dims.reduce((a, b) => a * b, 1);
      const x = randn(rng, size);
      for (let mode = 0; mode < dims.length; mode++) {
        const u = unfold(x, dims, mode);
        const rest = dims.filter((_, m) => m !== mode);
        // walk all multi-indices
        const idx = new Array<number>(dims.length).fill(0);
        for (let flat = 0; flat < size; flat++) {
          let col = 0;
          for (let m = 0, r = 0; m < dims.length; m++) if (m !== mode) col = col * rest[r++] + idx[m];
          assert.equal(u[idx[mode] * (size / dims[mode]) + col], x[flat]);
          for (let m = dims.length - 1; m >= 0; m--) {
            if (++idx[m] < dims[m]) break;
            idx[m] = 0;
          }
        }
        assert.deepEqual(fold(u, dims, mode), x);
      }
    }
  });

  it('modeProduct equals a naive loop (plain and transposed matrix, every mode)', () => {
    const rng = new Rng(13);
    const dims = [3, 4, 5, 6];
    const x = Float32Array.from(randn(rng, 360));
    for (let mode = 0; mode < 4; mode++) {
      const d = dims[mode];
      const j = 7;
      const m = randn(rng, j * d); // J × d
      const got = modeProduct(x, dims, m, mode);
      const gotT = modeProduct(x, dims, transpose(m, j, d), mode, true);
      assert.deepEqual(got.dims, dims.map((v, i) => (i === mode ? j : v)));
      const want = new Float64Array(360 / d * j);
      const nd = got.dims;
      const stride = (ds: number[], m2: number) => ds.slice(m2 + 1).reduce((a, b) => a * b, 1);
      for (let flat = 0; flat < want.length; flat++) {
        const idx = nd.map((_, m2) => Math.floor(flat / stride(nd, m2)) % nd[m2]);
        let s = 0;
        for (let i = 0; i < d; i++) {
          let src = 0;
          for (let m2 = 0; m2 < 4; m2++) src += (m2 === mode ? i : idx[m2]) * stride(dims, m2);
          s += m[idx[mode] * d + i] * x[src];
        }
        want[flat] = s;
      }
      assert.ok(maxAbsDiff(got.data, want) < 1e-12, `mode ${mode}`);
      assert.ok(maxAbsDiff(gotT.data, want) < 1e-12, `mode ${mode} transposed`);
    }
  });

  it('permute, frobenius and relativeError', () => {
    const x = Float64Array.from({ length: 24 }, (_, i) => i);
    const p = permute(x, [2, 3, 4], [2, 0, 1]);
    assert.deepEqual(p.dims, [4, 2, 3]);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) assert.equal(p.data[c * 6 + a * 3 + b], x[a * 12 + b * 4 + c]);
    assert.equal(frobenius([3, 4]), 5);
    assert.equal(relativeError([3, 4], [3, 0]), 4 / 3);
    assert.equal(relativeError([0, 0], [0, 0]), 0);
  });
});

describe('Tucker-2', () => {
  /** An exactly rank-(R3, R4) kernel [k, k, S, T] from a Gaussian core and the given factor kind. */
  function tuckerKernel(rng: Rng, k: number, s: number, t: number, r3: number, r4: number, orthonormalFactors: boolean): Float32Array {
    const core = Float32Array.from(randn(rng, k * k * r3 * r4));
    const uIn = Float32Array.from(orthonormalFactors ? orthonormal(rng, s, r3) : randn(rng, s * r3));
    const uOut = Float32Array.from(orthonormalFactors ? orthonormal(rng, t, r4) : randn(rng, t * r4));
    return tucker2Reconstruct({ core, uIn, uOut }, [k, k, s, t]);
  }

  for (const [k, s, t, r3, r4, ortho] of [
    [3, 32, 48, 8, 12, true], // S < T
    [3, 48, 32, 12, 5, false], // S > T
    [1, 40, 24, 10, 6, true],
    [5, 16, 20, 4, 9, false],
    [3, 24, 24, 24, 3, true], // full input rank
  ] as const) {
    it(`recovers an exact rank-(${r3},${r4}) [${k},${k},${s},${t}] kernel (${ortho ? 'orthonormal' : 'Gaussian'} factors)`, () => {
      const rng = new Rng(k * 1000 + s * 10 + t);
      const kernel = tuckerKernel(rng, k, s, t, r3, r4, ortho);
      const res = tucker2(kernel, [k, k, s, t], [r3, r4]);
      const err = relativeError(tucker2Reconstruct(res, [k, k, s, t]), kernel);
      assert.ok(err <= 1e-5, `error ${err}`);
      assert.ok(res.relError <= 1e-5, `reported ${res.relError}`);
      assert.equal(res.core.length, k * k * r3 * r4);
      assert.ok(orthError(res.uIn, s, r3) < 1e-5 && orthError(res.uOut, t, r4) < 1e-5);
      // ranks larger than needed are still exact
      if (r3 < s && r4 < t) {
        const big = tucker2(kernel, [k, k, s, t], [Math.min(s, r3 + 4), Math.min(t, r4 + 5)]);
        assert.ok(relativeError(tucker2Reconstruct(big, [k, k, s, t]), kernel) <= 1e-5);
      }
    });
  }

  it('HOOI lowers the error of the HOSVD initialisation on a Gaussian kernel; relError is the true error', () => {
    const rng = new Rng(21);
    const kernel = Float32Array.from(randn(rng, 9 * 24 * 32));
    const hosvd = tucker2(kernel, [3, 3, 24, 32], [8, 10], { maxIter: 0 });
    const hooi = tucker2(kernel, [3, 3, 24, 32], [8, 10]);
    assert.equal(hosvd.iterations, 0);
    assert.ok(hooi.iterations >= 2);
    assert.ok(hooi.relError < hosvd.relError - 1e-4, `HOOI ${hooi.relError} vs HOSVD ${hosvd.relError}`);
    for (const r of [hosvd, hooi]) assert.ok(Math.abs(relativeError(tucker2Reconstruct(r, [3, 3, 24, 32]), kernel) - r.relError) < 1e-6);
    // deterministic
    const again = tucker2(kernel, [3, 3, 24, 32], [8, 10]);
    assert.deepEqual(again.core, hooi.core);
  });

  it('rejects bad ranks with the exact messages and honours abort', () => {
    const kernel = new Float32Array(9 * 32 * 16).fill(1);
    assert.throws(() => tucker2(kernel, [3, 3, 32, 16], [40, 4]), { message: 'tucker2: rank R3 = 40 exceeds the input channels S = 32' });
    assert.throws(() => tucker2(kernel, [3, 3, 32, 16], [4, 17]), { message: 'tucker2: rank R4 = 17 exceeds the output channels T = 16' });
    assert.throws(() => tucker2(kernel, [3, 3, 32, 16], [0, 4]), { message: 'tucker2: rank R3 = 0 must be >= 1' });
    assert.throws(() => tucker2(kernel, [3, 3, 32, 16], [4, 0]), { message: 'tucker2: rank R4 = 0 must be >= 1' });
    assert.throws(() => tucker2(kernel, [3, 3, 32, 16], [2.5, 4]), { message: 'tucker2: rank R3 = 2.5 must be an integer' });
    assert.throws(() => tucker2(kernel, [3, 3, 32, 15], [4, 4]), /kernel has 4608 values, shape \[3,3,32,15\] needs 4320/);
    const ac = new AbortController();
    ac.abort();
    assert.throws(() => tucker2(kernel, [3, 3, 32, 16], [4, 4], { signal: ac.signal }));
  });
});

describe('CP-ALS', () => {
  function cpTensor(rng: Rng, dims: readonly number[], r: number): { x: Float64Array; factors: Float64Array[]; lambda: Float64Array } {
    const factors = dims.map((d) => randn(rng, d * r));
    const lambda = new Float64Array(r).fill(1);
    return { x: cpReconstruct(factors, lambda, dims), factors, lambda };
  }

  it('cpReconstruct equals the defining sum', () => {
    const rng = new Rng(30);
    const dims = [2, 3, 4, 5];
    const { x, factors } = cpTensor(rng, dims, 3);
    const lambda = Float64Array.from([2, -1, 0.5]);
    const y = cpReconstruct(factors, lambda, dims);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) for (let d = 0; d < 5; d++) {
      let s = 0;
      for (let r = 0; r < 3; r++) s += lambda[r] * factors[0][a * 3 + r] * factors[1][b * 3 + r] * factors[2][c * 3 + r] * factors[3][d * 3 + r];
      assert.ok(Math.abs(y[((a * 3 + b) * 4 + c) * 5 + d] - s) < 1e-12);
    }
    assert.equal(x.length, 120);
  });

  for (const [dims, r] of [
    [[3, 3, 16, 24], 6],
    [[3, 3, 32, 32], 10],
    [[10, 12, 14], 5],
    [[16, 24, 3, 3], 6],
  ] as const) {
    it(`recovers an exact rank-${r} [${dims}] tensor (SVD init), deterministically`, () => {
      const rng = new Rng(dims.reduce<number>((a, b) => a * 31 + b, r));
      const { x } = cpTensor(rng, dims, r);
      const res = cpAls(x, dims, r);
      assert.ok(res.relError <= 1e-3, `error ${res.relError} after ${res.iterations}`);
      assert.ok(relativeError(cpReconstruct(res.factors, res.lambda, dims), x) <= 1e-3);
      assert.ok(res.converged);
      res.factors.forEach((f, m) => {
        assert.equal(f.length, dims[m] * r);
        for (let c = 0; c < r; c++) {
          let s = 0;
          for (let i = 0; i < dims[m]; i++) s += f[i * r + c] ** 2;
          assert.ok(Math.abs(s - 1) < 1e-12);
        }
      });
      for (let c = 1; c < r; c++) assert.ok(res.lambda[c] <= res.lambda[c - 1]);
      const again = cpAls(x, dims, r);
      again.factors.forEach((f, m) => assert.deepEqual(f, res.factors[m]));
      assert.deepEqual(again.lambda, res.lambda);
    });
  }

  it('random init and line search also recover an exact tensor; random init is seeded', () => {
    const rng = new Rng(31);
    const dims = [3, 3, 20, 20];
    const { x } = cpTensor(rng, dims, 7);
    const rand = cpAls(x, dims, 7, { init: 'random', seed: 5, maxIter: 500 });
    assert.ok(rand.relError <= 1e-3, `random ${rand.relError}`);
    const rand2 = cpAls(x, dims, 7, { init: 'random', seed: 5, maxIter: 500 });
    rand.factors.forEach((f, m) => assert.deepEqual(rand2.factors[m], f));
    const other = cpAls(x, dims, 7, { init: 'random', seed: 6, maxIter: 3, tol: 0 });
    assert.notDeepEqual(other.factors[0], cpAls(x, dims, 7, { init: 'random', seed: 5, maxIter: 3, tol: 0 }).factors[0]);
    const ls = cpAls(x, dims, 7, { lineSearch: true });
    assert.ok(ls.relError <= 1e-3, `line search ${ls.relError}`);
    const ridge = cpAls(x, dims, 7, { ridge: 1e-6 });
    assert.ok(ridge.relError <= 1e-3, `ridge ${ridge.relError}`);
  });

  it('tol = 0 runs every sweep; onIteration reports a non-increasing error', () => {
    const rng = new Rng(32);
    const x = randn(rng, 3 * 3 * 12 * 12);
    const seen: number[] = [];
    const res = cpAls(x, [3, 3, 12, 12], 6, { maxIter: 15, tol: 0, onIteration: (it, e) => seen.push(it, e) });
    assert.equal(res.iterations, 15);
    assert.equal(res.converged, false);
    assert.equal(seen.length, 30);
    for (let i = 3; i < seen.length; i += 2) assert.ok(seen[i] <= seen[i - 2] + 1e-12, `sweep ${seen[i - 1]}: ${seen[i]} > ${seen[i - 2]}`);
    assert.ok(Math.abs(seen[29] - res.relError) < 1e-6);
  });

  it('rank above the generic bound is allowed (fits exactly); bad ranks and ways are errors', () => {
    const rng = new Rng(33);
    const x = randn(rng, 2 * 3 * 4);
    const res = cpAls(x, [2, 3, 4], 8, { maxIter: 500 });
    assert.ok(res.relError < 1e-3, `overcomplete ${res.relError}`);
    assert.throws(() => cpAls(x, [2, 3, 4], 0), { message: 'cpAls: rank 0 must be >= 1' });
    assert.throws(() => cpAls(x, [2, 3, 4], 1.5), { message: 'cpAls: rank 1.5 must be an integer' });
    assert.throws(() => cpAls(x, [24], 2), /1-way tensors are not supported/);
    assert.throws(() => cpAls(x, [2, 3, 5], 2), /24 values do not fill dims \[2,3,5\]/);
    const ac = new AbortController();
    ac.abort();
    assert.throws(() => cpAls(x, [2, 3, 4], 2, { signal: ac.signal }));
  });

  it('cpAlsFromFactors: same rank recovers the tensor; lower rank matches cpAls on the full tensor', () => {
    const rng = new Rng(34);
    const dims = [3, 3, 16, 24];
    const { x, factors, lambda } = cpTensor(rng, dims, 12);
    const same = cpAlsFromFactors(factors, lambda, dims, 12);
    assert.ok(same.relError <= 1e-3, `rank 12 -> 12: ${same.relError}`);
    assert.ok(relativeError(cpReconstruct(same.factors, same.lambda, dims), x) <= 1e-3);
    const low = cpAlsFromFactors(factors, lambda, dims, 6);
    const full = cpAls(x, dims, 6);
    assert.ok(Math.abs(low.relError - full.relError) <= 0.01 * full.relError, `from factors ${low.relError} vs dense ${full.relError}`);
    // its reported error is the true one
    assert.ok(Math.abs(relativeError(cpReconstruct(low.factors, low.lambda, dims), x) - low.relError) < 1e-6);
    assert.throws(() => cpAlsFromFactors(factors, lambda, dims, 0), { message: 'cpAlsFromFactors: rank 0 must be >= 1' });
  });
});
