// EVBMF: empirical variational Bayesian matrix factorisation, global analytic solution, used to pick ranks.
//
// Method (Nakajima, Sugiyama, Babacan & Tomioka, "Global analytic solution of fully-observed variational
// Bayesian matrix factorization", JMLR 14, 2013; the noise-variance part in the normalised form of
// Nakajima, Tomioka, Sugiyama & Babacan, "Condition for perfect dimensionality recovery by variational
// Bayesian PCA", JMLR 16, 2015). Equations are cited by content, not by number: the numbering differs
// between the NIPS and JMLR versions and was not checked against the PDFs.
//
// Model: V = B Aᵀ + E, V is L×M with L <= M, E i.i.d. N(0, σ²), Gaussian priors on the columns of A and B
// whose variances are learned (the "empirical" part). The global solution is a reweighted SVD of V: with
// γ_h the singular values of V, α = L/M and the normalised squared value x_h = γ_h² / (M σ²),
//
//   τ(x)  = ½ (x − (1+α) + √((x − (1+α))² − 4α))            (the larger root of x = (1+τ)(1+α/τ))
//   Ψ(τ)  = τ − log(1+τ) − α log(1 + τ/α)                     (free-energy gain of keeping a component)
//   τ̲     = the unique zero of Ψ on (√α, ∞)                   (≈ 2.5129 √α; exactly 2.5129… at α = 1)
//   x̲     = (1+τ̲)(1+α/τ̲)
//   keep component h  ⇔  γ_h > γ̲ = √(M σ² x̲) = σ √(L + M + √(LM)(κ + 1/κ)),  κ = τ̲/√α
//   shrunk value       γ̆_h = γ_h τ(x_h)/x_h
//                           = (γ_h/2)(1 − (L+M)σ²/γ_h² + √((1 − (L+M)σ²/γ_h²)² − 4LMσ⁴/γ_h⁴)).
//
// The widely used approximation τ̲ ≈ 2.5129 √α is only exact at α = 1 (for α = 1/9 it is 0.838 against
// the exact 0.864); here τ̲ is solved for exactly (bisection), which also makes the free energy below
// continuous in σ².
//
// Unknown σ²: minimise the EVB free energy over σ². Up to constants, 2F/M as a function of σ² is
//
//   Ω(σ²) = L log σ² + ‖V‖²_F / (M σ²) − Σ_{h <= H} max(0, Ψ(τ(x_h)))
//
// (H = maxRank; components beyond H are forced to zero). Its minimiser lies in [σ̲², σ̄²] with
//   σ̄² = ‖V‖²_F / (LM)                        (the all-noise estimate),
//   σ̲² = max(γ²_{H̄+1} / (M x̲), Σ_{h > H̄} γ_h² / (M (L − H̄))),   H̄ = min(⌈L/(1+α)⌉ − 1, H),
// because EVB with estimated σ² never keeps more than ⌈L/(1+α)⌉ − 1 components. Ω is minimised over
// log σ² on that interval: a 200-point log-spaced scan (Ω can have several local minima), Brent's
// method on the best basins, then a bisection polish on the analytic derivative
//   dΩ/d log σ² = L − Σ_{h not kept} x_h − Σ_{h kept} (1 + α + α/τ_h)
// (zero at σ² = ‖V‖² / (M (L + Σ_kept τ_h)), i.e. roughly residual / (LM − r(L+M))), so σ² is found to
// near machine precision rather than the ~1e-8 a function-value minimiser can resolve.
// When the trailing singular values are (numerically) zero, σ̲² is floored at (ε γ_1)²/M (ε = 2^-52);
// a noiseless rank-r matrix then gets σ² at that floor and rank r (if r <= ⌈L/(1+α)⌉ − 1).
//
// PITFALL (seen in reference code): everything above assumes L <= M. Code written for that case and fed
// a matrix with more rows than columns computes α > 1 and bounds that exclude every component, and
// silently returns rank 0. Here the matrix is always transposed so that L = min(rows, cols),
// M = max(rows, cols), and `transposed` reports it; A and Aᵀ give bit-identical results.
//
// Deterministic: no randomness; the SVD is ml-matrix's (one-sided, vectors not computed).

import { Matrix, SVD } from 'ml-matrix';

export interface EvbmfResult {
  /** Estimated rank: number of retained singular components. */
  readonly rank: number;
  /** Estimated noise variance sigma^2. */
  readonly sigma2: number;
  /** Retained (shrunk) singular values, descending, length = rank. */
  readonly shrunk: Float64Array;
  /** All singular values of the input, descending. */
  readonly singularValues: Float64Array;
  /** L, M actually used (L <= M after transposing). */
  readonly L: number;
  readonly M: number;
  readonly transposed: boolean;
}

export interface EvbmfOptions {
  /** Known noise variance; estimated from the data when absent. */
  readonly sigma2?: number;
  /** Upper bound on the rank considered, default min(rows, cols). */
  readonly maxRank?: number;
}

function checkShape(rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`evbmf: rows and cols must be non-negative integers, got ${rows}x${cols}`);
  }
  if (rows === 0 || cols === 0) throw new RangeError(`evbmf: empty matrix (${rows}x${cols})`);
}

/** EVBMF on an rows×cols row-major matrix. sigma2 optional (known noise variance); otherwise estimated. */
export function evbmf(a: Float32Array | Float64Array, rows: number, cols: number, opts: EvbmfOptions = {}): EvbmfResult {
  checkShape(rows, cols);
  if (a.length !== rows * cols) {
    throw new RangeError(`evbmf: data length ${a.length} does not match ${rows}x${cols} = ${rows * cols}`);
  }
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new RangeError(`evbmf: matrix has a non-finite value at (${Math.floor(i / cols)}, ${i % cols})`);
    }
  }
  checkOptions(opts);
  const transposed = rows > cols;
  const L = Math.min(rows, cols);
  const M = Math.max(rows, cols);
  // Build the tall M×L matrix Vᵀ (JAMA-style SVD wants rows >= cols). For a rows <= cols input that is
  // Aᵀ, for a rows > cols input it is A itself, so A and Aᵀ produce the very same matrix here.
  const tall = new Matrix(M, L);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (transposed) tall.set(r, c, a[r * cols + c]);
      else tall.set(c, r, a[r * cols + c]);
    }
  }
  const svd = new SVD(tall, { computeLeftSingularVectors: false, computeRightSingularVectors: false });
  const s = Float64Array.from(svd.diagonal, (v) => Math.max(0, v)).sort().reverse();
  return solve(s, L, M, transposed, opts);
}

/** Same, from the singular values alone (the matrix is rows×cols); lets callers compute singular values their own way. */
export function evbmfFromSingularValues(s: Float64Array, rows: number, cols: number, opts: EvbmfOptions = {}): EvbmfResult {
  checkShape(rows, cols);
  const L = Math.min(rows, cols);
  const M = Math.max(rows, cols);
  if (s.length !== L) {
    throw new RangeError(`evbmf: expected ${L} singular values for a ${rows}x${cols} matrix, got ${s.length}`);
  }
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i]) || s[i] < 0) {
      throw new RangeError(`evbmf: singular value ${i} is negative or non-finite (${s[i]})`);
    }
  }
  checkOptions(opts);
  return solve(Float64Array.from(s).sort().reverse(), L, M, rows > cols, opts);
}

function checkOptions(opts: EvbmfOptions): void {
  if (opts.sigma2 !== undefined && !(Number.isFinite(opts.sigma2) && opts.sigma2 > 0)) {
    throw new RangeError(`evbmf: sigma2 must be a positive finite number, got ${opts.sigma2}`);
  }
  if (opts.maxRank !== undefined && !(Number.isInteger(opts.maxRank) && opts.maxRank >= 0)) {
    throw new RangeError(`evbmf: maxRank must be a non-negative integer, got ${opts.maxRank}`);
  }
}

/** Ψ(τ) = τ − log(1+τ) − α log(1+τ/α): negative on (0, τ̲), positive beyond. */
function psi(tau: number, alpha: number): number {
  return tau - Math.log1p(tau) - alpha * Math.log1p(tau / alpha);
}

/** τ(x): the larger root of x = (1+τ)(1+α/τ); defined for x >= (1+√α)². */
function tauOf(x: number, alpha: number): number {
  const b = x - (1 + alpha);
  return 0.5 * (b + Math.sqrt(Math.max(0, b * b - 4 * alpha)));
}

/** τ̲(α), the EVB threshold in τ: the unique zero of Ψ on (√α, ∞), α = L/M in (0, 1]. ≈ 2.5129 √α. */
export function evbTauBar(alpha: number): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`evbmf: alpha must be in (0, 1], got ${alpha}`);
  let lo = Math.sqrt(alpha); // Ψ has its minimum (< 0) here
  let hi = 2 * lo + 1;
  while (psi(hi, alpha) <= 0) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (psi(mid, alpha) > 0) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/** The EVB threshold γ̲ = √(M σ² (1+τ̲)(1+α/τ̲)) on singular values of an L×M (L <= M) matrix. */
export function evbThreshold(sigma2: number, L: number, M: number): number {
  const alpha = L / M;
  const tb = evbTauBar(alpha);
  return Math.sqrt(M * sigma2 * (1 + tb) * (1 + alpha / tb));
}

interface Problem {
  readonly s2: Float64Array; // squared singular values, descending
  readonly sumSq: number; // ‖V‖²_F
  readonly L: number;
  readonly M: number;
  readonly H: number;
  readonly alpha: number;
  readonly xBar: number;
}

/** Number of kept components at log σ² = t (a prefix, since the values are sorted). */
function keptAt(p: Problem, t: number): number {
  const inv = Math.exp(-t) / p.M;
  let k = 0;
  while (k < p.H && p.s2[k] * inv > p.xBar) k++;
  return k;
}

/**
 * Ω(t) with t = log σ², written without the large cancelling terms:
 * L t + Σ_{h>=k} x_h + Σ_{h<k} (x_h − Ψ(τ_h)), and x − Ψ(τ) = 1 + α + α/τ + log(1+τ) + α log(1+τ/α).
 */
function objective(p: Problem, t: number): number {
  const inv = Math.exp(-t) / p.M;
  const k = keptAt(p, t);
  let f = p.L * t;
  let tail = 0;
  for (let h = p.L - 1; h >= k; h--) tail += p.s2[h];
  f += tail * inv;
  for (let h = 0; h < k; h++) {
    const tau = tauOf(p.s2[h] * inv, p.alpha);
    f += 1 + p.alpha + p.alpha / tau + Math.log1p(tau) + p.alpha * Math.log1p(tau / p.alpha);
  }
  return f;
}

/** dΩ/dt with the first k components kept (smooth in t while k is fixed). */
function derivative(p: Problem, t: number, k: number): number {
  const inv = Math.exp(-t) / p.M;
  let g = p.L;
  let tail = 0;
  for (let h = p.L - 1; h >= k; h--) tail += p.s2[h];
  g -= tail * inv;
  for (let h = 0; h < k; h++) g -= 1 + p.alpha + p.alpha / tauOf(p.s2[h] * inv, p.alpha);
  return g;
}

/** Brent's bounded minimiser (golden section + parabolic steps) of f on [a, b], absolute tolerance tol. */
function brentMinimise(f: (x: number) => number, a: number, b: number, tol: number): { x: number; fx: number } {
  const golden = (3 - Math.sqrt(5)) / 2;
  let x = a + golden * (b - a);
  let w = x;
  let v = x;
  let fx = f(x);
  let fw = fx;
  let fv = fx;
  let d = 0;
  let e = 0;
  for (let iter = 0; iter < 500; iter++) {
    const m = 0.5 * (a + b);
    const tol1 = tol + 4 * Number.EPSILON * Math.abs(x);
    const tol2 = 2 * tol1;
    if (Math.abs(x - m) <= tol2 - 0.5 * (b - a)) break;
    let parabolic = false;
    if (Math.abs(e) > tol1) {
      const r = (x - w) * (fx - fv);
      let q = (x - v) * (fx - fw);
      let p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      else q = -q;
      const eOld = e;
      e = d;
      if (Math.abs(p) < Math.abs(0.5 * q * eOld) && p > q * (a - x) && p < q * (b - x)) {
        d = p / q;
        const u = x + d;
        if (u - a < tol2 || b - u < tol2) d = x < m ? tol1 : -tol1;
        parabolic = true;
      }
    }
    if (!parabolic) {
      e = (x < m ? b : a) - x;
      d = golden * e;
    }
    const u = Math.abs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    const fu = f(u);
    if (fu <= fx) {
      if (u < x) b = x;
      else a = x;
      v = w; fv = fw;
      w = x; fw = fx;
      x = u; fx = fu;
    } else {
      if (u < x) a = u;
      else b = u;
      if (fu <= fw || w === x) {
        v = w; fv = fw;
        w = u; fw = fu;
      } else if (fu <= fv || v === x || v === w) {
        v = u; fv = fu;
      }
    }
  }
  return { x, fx };
}

/** Refines a minimiser t of Ω to the zero of dΩ/dt inside its smooth piece, if one brackets t closely. */
function polish(p: Problem, t: number, lo: number, hi: number): number {
  const k = keptAt(p, t);
  // The piece where exactly k components are kept: log(s²_k/(M x̲)) <= t < log(s²_{k-1}/(M x̲)).
  let a = Math.max(lo, t - 1e-6);
  let b = Math.min(hi, t + 1e-6);
  if (k < p.H && p.s2[k] > 0) a = Math.max(a, Math.log(p.s2[k] / (p.M * p.xBar)));
  if (k > 0) b = Math.min(b, Math.log(p.s2[k - 1] / (p.M * p.xBar)));
  if (!(a < b)) return t;
  let ga = derivative(p, a, k);
  const gb = derivative(p, b, k);
  if (!(ga < 0 && gb > 0)) return t;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (a + b);
    if (mid <= a || mid >= b) break;
    const g = derivative(p, mid, k);
    if (g === 0) return mid;
    if (g < 0) {
      a = mid;
      ga = g;
    } else b = mid;
  }
  return 0.5 * (a + b);
}

/** The EVB estimate of σ² (the free-energy minimiser on the paper's interval). */
function estimateSigma2(p: Problem, s: Float64Array): number {
  const { L, M, H, xBar } = p;
  const hi = p.sumSq / (L * M);
  // H̄ = ⌈L/(1+α)⌉ − 1 = ⌈LM/(L+M)⌉ − 1, in integers; it is < L.
  const hBar = Math.min(Math.floor((L * M + L + M - 1) / (L + M)) - 1, H);
  let tailSum = 0;
  for (let h = hBar; h < L; h++) tailSum += p.s2[h];
  let lo = Math.max(p.s2[hBar] / (M * xBar), tailSum / (M * (L - hBar)));
  const floor = (Number.EPSILON * s[0]) ** 2 / M;
  lo = Math.min(hi, Math.max(lo, floor));
  const tLo = Math.log(lo);
  const tHi = Math.log(hi);
  if (!(tHi - tLo > 1e-12)) return hi;

  const f = (t: number): number => objective(p, t);
  const n = 200;
  const ts = new Float64Array(n);
  const fs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = i === n - 1 ? tHi : tLo + ((tHi - tLo) * i) / (n - 1);
    fs[i] = f(ts[i]);
  }
  // Basins: grid points no higher than their neighbours; refine the five lowest.
  const basins: number[] = [];
  for (let i = 0; i < n; i++) {
    if ((i === 0 || fs[i] <= fs[i - 1]) && (i === n - 1 || fs[i] <= fs[i + 1])) basins.push(i);
  }
  basins.sort((i, j) => fs[i] - fs[j] || i - j);
  let bestT = ts[basins[0]];
  let bestF = Number.POSITIVE_INFINITY;
  for (const i of basins.slice(0, 5)) {
    const a = ts[Math.max(0, i - 1)];
    const b = ts[Math.min(n - 1, i + 1)];
    const m = brentMinimise(f, a, b, 1e-10);
    // The polished point is the exact stationary point of this basin; near it Ω is flat to rounding, so
    // its Ω is not compared against Brent's point, only against the other basins.
    const t = polish(p, m.x, a, b);
    const ft = t === m.x ? m.fx : f(t);
    if (ft < bestF || (ft === bestF && t < bestT)) {
      bestF = ft;
      bestT = t;
    }
  }
  return Math.exp(bestT);
}

function solve(s: Float64Array, L: number, M: number, transposed: boolean, opts: EvbmfOptions): EvbmfResult {
  const H = Math.min(opts.maxRank ?? L, L);
  const alpha = L / M;
  const tauBar = evbTauBar(alpha);
  const xBar = (1 + tauBar) * (1 + alpha / tauBar);
  const s2 = Float64Array.from(s, (v) => v * v);
  let sumSq = 0;
  for (let h = L - 1; h >= 0; h--) sumSq += s2[h];
  const p: Problem = { s2, sumSq, L, M, H, alpha, xBar };

  let sigma2: number;
  if (opts.sigma2 !== undefined) sigma2 = opts.sigma2;
  else if (sumSq === 0) sigma2 = 0;
  else sigma2 = estimateSigma2(p, s);

  const kept: number[] = [];
  if (sigma2 > 0) {
    const threshold = Math.sqrt(M * sigma2 * xBar);
    for (let h = 0; h < H && s[h] > threshold; h++) {
      const x = s2[h] / (M * sigma2);
      kept.push((s[h] * tauOf(x, alpha)) / x);
    }
  }
  return {
    rank: kept.length,
    sigma2,
    shrunk: Float64Array.from(kept),
    singularValues: s,
    L,
    M,
    transposed,
  };
}
