// EVBMF rank selection: true ranks of low-rank + noise matrices, noise-variance estimates, the threshold and
// shrinkage formulas recomputed here from the paper's own forms, orientation invariance, and bad input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evbmf, evbmfFromSingularValues, evbThreshold, evbTauBar } from '../compiler/passes/decompose/evbmf.js';
import { Rng } from '../compiler/util/rng.js';

const relClose = (actual: number, expected: number, rel: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what} ${actual} vs ${expected} (rel ${rel})`);

/** k orthonormal columns of length n (Gaussian columns, Gram-Schmidt applied twice). */
function orthonormal(n: number, k: number, rng: Rng): Float64Array[] {
  const cols: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= d * q[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) v[i] /= norm;
    cols.push(v);
  }
  return cols;
}

/**
 * U diag(s) Vᵀ + sigma·N, rows×cols row-major. The signal singular values run from 4 down to 2 times the
 * noise edge sigma(√rows + √cols), so they stand well clear of the EVB threshold (~1.1× the edge).
 */
function lowRankPlusNoise(rows: number, cols: number, rank: number, sigma: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const u = orthonormal(rows, rank, rng);
  const v = orthonormal(cols, rank, rng);
  const edge = sigma * (Math.sqrt(rows) + Math.sqrt(cols));
  const s = Array.from({ length: rank }, (_, k) => edge * (4 - (rank > 1 ? (2 * k) / (rank - 1) : 0)));
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let x = 0;
      for (let k = 0; k < rank; k++) x += s[k] * u[k][i] * v[k][j];
      a[i * cols + j] = x + sigma * rng.normal();
    }
  }
  return a;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** τ̲ by the test's own means: Newton on Ψ(τ) = τ − log(1+τ) − α log(1+τ/α), started to the right of the root. */
function tauBarHere(alpha: number): number {
  let t = 4 * Math.sqrt(alpha) + 2;
  for (let i = 0; i < 100; i++) {
    const f = t - Math.log(1 + t) - alpha * Math.log(1 + t / alpha);
    const df = 1 - 1 / (1 + t) - 1 / (1 + t / alpha);
    t -= f / df;
  }
  return t;
}

/** The EVB free energy in the form the paper writes it (Σ over components; up to constants). */
function paperObjective(s: Float64Array, L: number, M: number, sigma2: number): number {
  const alpha = L / M;
  const tb = tauBarHere(alpha);
  const xBar = (1 + tb) * (1 + alpha / tb);
  let f = 0;
  for (const g of s) {
    const x = (g * g) / (M * sigma2);
    if (x <= xBar) {
      f += x - Math.log(x);
    } else {
      const tau = 0.5 * (x - (1 + alpha) + Math.sqrt((x - (1 + alpha)) ** 2 - 4 * alpha));
      f += x - tau + Math.log((tau + 1) / x) + alpha * Math.log(tau / alpha + 1);
    }
  }
  return f;
}

const cases = [
  { rows: 50, cols: 80, rank: 5, sigma: 0.5, seed: 11 },
  { rows: 80, cols: 50, rank: 5, sigma: 0.5, seed: 12 },
  { rows: 100, cols: 100, rank: 10, sigma: 0.3, seed: 13 },
  { rows: 32, cols: 288, rank: 8, sigma: 1, seed: 14 },
  { rows: 288, cols: 32, rank: 8, sigma: 1, seed: 15 },
  { rows: 200, cols: 400, rank: 20, sigma: 0.1, seed: 16 },
  { rows: 64, cols: 576, rank: 3, sigma: 0.2, seed: 17 },
];

describe('evbmf: known answers on low-rank + Gaussian noise', () => {
  for (const c of cases) {
    it(`${c.rows}x${c.cols} rank ${c.rank}, sigma ${c.sigma}: true rank and sigma2 within 10%`, () => {
      const a = lowRankPlusNoise(c.rows, c.cols, c.rank, c.sigma, c.seed);
      const r = evbmf(a, c.rows, c.cols);
      assert.equal(r.rank, c.rank);
      relClose(r.sigma2, c.sigma ** 2, 0.1, 'sigma2');
      assert.equal(r.transposed, c.rows > c.cols);
      assert.equal(r.L, Math.min(c.rows, c.cols));
      assert.equal(r.M, Math.max(c.rows, c.cols));
      assert.equal(r.singularValues.length, r.L);
      assert.equal(r.shrunk.length, r.rank);
      for (let h = 0; h < r.rank; h++) {
        assert.ok(r.shrunk[h] > 0 && r.shrunk[h] < r.singularValues[h], `shrunk ${h}`);
        if (h > 0) assert.ok(r.shrunk[h] <= r.shrunk[h - 1], 'shrunk descending');
      }
      for (let h = 1; h < r.L; h++) assert.ok(r.singularValues[h] <= r.singularValues[h - 1], 'singular values descending');
    });
  }

  it('the estimated sigma2 is the stationary point S/(M(L + Σ_kept τ_h)) and the global minimum of the paper-form free energy', () => {
    for (const c of [cases[0], cases[3], cases[2]]) {
      const r = evbmf(lowRankPlusNoise(c.rows, c.cols, c.rank, c.sigma, c.seed), c.rows, c.cols);
      const { L, M } = r;
      const alpha = L / M;
      let sumSq = 0;
      for (const g of r.singularValues) sumSq += g * g;
      let sumTau = 0;
      for (let h = 0; h < r.rank; h++) {
        const x = r.singularValues[h] ** 2 / (M * r.sigma2);
        sumTau += 0.5 * (x - (1 + alpha) + Math.sqrt((x - (1 + alpha)) ** 2 - 4 * alpha));
      }
      relClose(r.sigma2, sumSq / (M * (L + sumTau)), 1e-12, 'stationarity');
      const at = paperObjective(r.singularValues, L, M, r.sigma2);
      const hi = sumSq / (L * M);
      for (let i = 0; i <= 2000; i++) {
        const s2 = hi * 10 ** (-3 + (3 * i) / 2000);
        const f = paperObjective(r.singularValues, L, M, s2);
        assert.ok(at <= f + 1e-9 * Math.abs(f), `free energy at sigma2=${s2} (${f}) below the estimate's (${at})`);
      }
    }
  });

  it('takes float32 data (conv weights) and finds the same rank', () => {
    const c = cases[3];
    const a = lowRankPlusNoise(c.rows, c.cols, c.rank, c.sigma, c.seed);
    const r32 = evbmf(Float32Array.from(a), c.rows, c.cols);
    const r64 = evbmf(a, c.rows, c.cols);
    assert.equal(r32.rank, c.rank);
    relClose(r32.sigma2, r64.sigma2, 1e-5, 'float32 sigma2');
  });
});

describe('evbmf: pure noise and noiseless matrices', () => {
  const noise = [
    { rows: 60, cols: 100, seed: 21 },
    { rows: 100, cols: 100, seed: 22 },
    { rows: 30, cols: 300, seed: 23 },
    { rows: 150, cols: 40, seed: 24 },
  ];
  for (const c of noise) {
    it(`pure noise ${c.rows}x${c.cols} (seed ${c.seed}) -> rank 0, sigma2 = the noise variance`, () => {
      const rng = new Rng(c.seed);
      const sigma = 0.7;
      const a = Float64Array.from({ length: c.rows * c.cols }, () => sigma * rng.normal());
      const r = evbmf(a, c.rows, c.cols);
      assert.equal(r.rank, 0);
      assert.equal(r.shrunk.length, 0);
      relClose(r.sigma2, sigma * sigma, 0.05, 'sigma2');
    });
  }

  it('noiseless rank-6 40x70 and 70x40 -> rank 6, sigma2 at the numerical floor', () => {
    const rng = new Rng(31);
    const [rows, cols, rank] = [40, 70, 6];
    const u = orthonormal(rows, rank, rng);
    const v = orthonormal(cols, rank, rng);
    const a = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        for (let k = 0; k < rank; k++) a[i * cols + j] += (10 - k) * u[k][i] * v[k][j];
      }
    }
    for (const [m, r, c] of [[a, rows, cols], [transpose(a, rows, cols), cols, rows]] as const) {
      const res = evbmf(m, r, c);
      assert.equal(res.rank, rank);
      assert.ok(res.sigma2 < 1e-20, `sigma2 ${res.sigma2}`);
      for (let k = 0; k < rank; k++) relClose(res.shrunk[k], 10 - k, 1e-9, `shrunk ${k}`);
    }
  });

  it('is scale-equivariant: 1000·A has the same rank and 1e6 times the sigma2', () => {
    const c = cases[0];
    const a = lowRankPlusNoise(c.rows, c.cols, c.rank, c.sigma, c.seed);
    const r = evbmf(a, c.rows, c.cols);
    const rs = evbmf(a.map((x) => 1000 * x), c.rows, c.cols);
    assert.equal(rs.rank, r.rank);
    relClose(rs.sigma2, 1e6 * r.sigma2, 1e-9, 'scaled sigma2');
  });

  it('a 1x1 matrix -> rank 0, sigma2 = its square (EVB keeps at most ⌈L/(1+α)⌉ − 1 = 0 components)', () => {
    const r = evbmf(Float64Array.from([3]), 1, 1);
    assert.equal(r.rank, 0);
    assert.equal(r.sigma2, 9);
  });

  it('an all-zero matrix -> rank 0, sigma2 0', () => {
    const r = evbmf(new Float64Array(12), 3, 4);
    assert.equal(r.rank, 0);
    assert.equal(r.sigma2, 0);
    assert.deepEqual(Array.from(r.singularValues), [0, 0, 0]);
  });
});

describe('evbmf: threshold and shrinkage formulas with known sigma2', () => {
  it('τ̲ is the zero of Ψ (2.5129 at α = 1, near 2.5129√α elsewhere)', () => {
    assert.ok(Math.abs(evbTauBar(1) - 2.5129) < 1e-4, `${evbTauBar(1)}`);
    for (const alpha of [1, 0.5, 0.2, 1 / 9, 0.01]) {
      relClose(evbTauBar(alpha), tauBarHere(alpha), 1e-12, `alpha ${alpha}`);
      const ratio = evbTauBar(alpha) / (2.5129 * Math.sqrt(alpha));
      assert.ok(ratio >= 0.9999 && ratio < 1.15, `alpha ${alpha}: ratio ${ratio}`);
    }
  });

  it('threshold = √(M σ² (1+τ̲)(1+α/τ̲)) = σ√(L + M + √(LM)(κ + 1/κ)), κ = τ̲/√α', () => {
    const [L, M, sigma2] = [32, 288, 0.37];
    const alpha = L / M;
    const tb = tauBarHere(alpha);
    const direct = Math.sqrt(M * sigma2 * (1 + tb) * (1 + alpha / tb));
    relClose(evbThreshold(sigma2, L, M), direct, 1e-12, 'threshold');
    const kappa = tb / Math.sqrt(alpha);
    relClose(direct, Math.sqrt(sigma2 * (L + M + Math.sqrt(L * M) * (kappa + 1 / kappa))), 1e-12, 'kappa form');
  });

  it('keeps exactly the singular values above the directly computed threshold, shrunk per the paper', () => {
    const [rows, cols, sigma2] = [12, 5, 0.8]; // transposed: L = 5, M = 12
    const L = 5;
    const M = 12;
    const alpha = L / M;
    const tb = tauBarHere(alpha);
    const thr = Math.sqrt(M * sigma2 * (1 + tb) * (1 + alpha / tb));
    const s = Float64Array.from([thr * 3, thr * 1.0001, thr * 0.9999, thr * 0.5, 0]);
    const r = evbmfFromSingularValues(s, rows, cols, { sigma2 });
    assert.equal(r.rank, 2);
    assert.equal(r.sigma2, sigma2);
    assert.equal(r.transposed, true);
    for (let h = 0; h < 2; h++) {
      const g = s[h];
      const b = 1 - ((L + M) * sigma2) / (g * g);
      const expected = (g / 2) * (b + Math.sqrt(b * b - (4 * L * M * sigma2 * sigma2) / g ** 4));
      relClose(r.shrunk[h], expected, 1e-12, `shrunk ${h}`);
    }
  });

  it('on a 50x80 matrix with the true sigma2 given: rank = #(s > threshold) = 5', () => {
    const c = cases[0];
    const r = evbmf(lowRankPlusNoise(c.rows, c.cols, c.rank, c.sigma, c.seed), c.rows, c.cols, { sigma2: c.sigma ** 2 });
    const tb = tauBarHere(50 / 80);
    const thr = Math.sqrt(80 * c.sigma ** 2 * (1 + tb) * (1 + 50 / 80 / tb));
    assert.equal(r.rank, r.singularValues.filter((g) => g > thr).length);
    assert.equal(r.rank, 5);
    assert.equal(r.sigma2, c.sigma ** 2);
  });

  it('maxRank caps the rank; maxRank 0 gives the all-noise sigma2 ‖V‖²/(LM)', () => {
    const c = cases[0];
    const a = lowRankPlusNoise(c.rows, c.cols, c.rank, c.sigma, c.seed);
    assert.equal(evbmf(a, c.rows, c.cols, { maxRank: 3 }).rank, 3);
    assert.equal(evbmf(a, c.rows, c.cols, { maxRank: 99 }).rank, 5);
    const r0 = evbmf(a, c.rows, c.cols, { maxRank: 0 });
    assert.equal(r0.rank, 0);
    let sumSq = 0;
    for (const x of a) sumSq += x * x;
    relClose(r0.sigma2, sumSq / (c.rows * c.cols), 1e-9, 'all-noise sigma2');
  });
});

describe('evbmf: orientation', () => {
  for (const c of [cases[0], cases[3], cases[5]]) {
    it(`${c.rows}x${c.cols} and its transpose give the same rank, sigma2 and shrunk values`, () => {
      const a = lowRankPlusNoise(c.rows, c.cols, c.rank, c.sigma, c.seed);
      const r = evbmf(a, c.rows, c.cols);
      const rt = evbmf(transpose(a, c.rows, c.cols), c.cols, c.rows);
      assert.equal(r.rank, c.rank);
      assert.equal(rt.rank, r.rank);
      relClose(rt.sigma2, r.sigma2, 1e-9, 'sigma2');
      assert.equal(r.transposed, false);
      assert.equal(rt.transposed, true);
      assert.equal(rt.L, r.L);
      assert.equal(rt.M, r.M);
      for (let h = 0; h < r.rank; h++) relClose(rt.shrunk[h], r.shrunk[h], 1e-9, `shrunk ${h}`);
      // From the singular values alone, in either orientation and any order: the same answer.
      const fromS = evbmfFromSingularValues(Float64Array.from(r.singularValues).reverse(), c.cols, c.rows);
      assert.equal(fromS.rank, r.rank);
      relClose(fromS.sigma2, r.sigma2, 1e-12, 'from singular values');
    });
  }
});

describe('evbmf: bad input', () => {
  it('rejects empty, mis-sized and non-finite matrices and bad options with exact messages', () => {
    assert.throws(() => evbmf(new Float64Array(0), 0, 5), { message: 'evbmf: empty matrix (0x5)' });
    assert.throws(() => evbmf(new Float64Array(0), 3, 0), { message: 'evbmf: empty matrix (3x0)' });
    assert.throws(() => evbmf(new Float64Array(4), 2.5, 4), {
      message: 'evbmf: rows and cols must be non-negative integers, got 2.5x4',
    });
    assert.throws(() => evbmf(new Float64Array(6), 2, 4), { message: 'evbmf: data length 6 does not match 2x4 = 8' });
    const a = new Float32Array(12);
    a[1 * 4 + 2] = Number.NaN;
    assert.throws(() => evbmf(a, 3, 4), { message: 'evbmf: matrix has a non-finite value at (1, 2)' });
    const b = new Float64Array(12);
    b[2 * 3 + 0] = Number.NEGATIVE_INFINITY;
    assert.throws(() => evbmf(b, 4, 3), { message: 'evbmf: matrix has a non-finite value at (2, 0)' });
    const ok = new Float64Array(12).fill(1);
    assert.throws(() => evbmf(ok, 3, 4, { sigma2: -1 }), { message: 'evbmf: sigma2 must be a positive finite number, got -1' });
    assert.throws(() => evbmf(ok, 3, 4, { sigma2: 0 }), { message: 'evbmf: sigma2 must be a positive finite number, got 0' });
    assert.throws(() => evbmf(ok, 3, 4, { maxRank: 1.5 }), { message: 'evbmf: maxRank must be a non-negative integer, got 1.5' });
    assert.throws(() => evbmfFromSingularValues(new Float64Array(2), 3, 5), {
      message: 'evbmf: expected 3 singular values for a 3x5 matrix, got 2',
    });
    assert.throws(() => evbmfFromSingularValues(Float64Array.from([2, -1, 0]), 5, 3), {
      message: 'evbmf: singular value 1 is negative or non-finite (-1)',
    });
  });
});
