// Tucker-2 of a conv kernel on its two channel modes (SEEDS §2, §5):
//   K[i,j,s,t] ≈ Σ_ab C[i,j,a,b] · Uin[s,a] · Uout[t,b],  Uin (S×R3), Uout (T×R4) orthonormal columns,
// executed as 1×1 conv S->R3, kh×kw conv R3->R4, 1×1 conv R4->T.
//
// Algorithm: HOSVD initialisation (leading eigenvectors of the channel-mode Grams), then HOOI sweeps
// (Tucker & de Lathauwer's higher-order orthogonal iteration, restricted to modes 3 and 4 like tensorly's
// partial_tucker): U3 <- top-R3 left singular vectors of (K ×4 U4ᵀ)_(3), U4 <- same for (K ×3 U3ᵀ)_(4).
// Each update is one GEMM for the contraction, one symmetric GEMM for the S×S (T×T) Gram and a top-R
// symmetric eigensolve (linalg.ts); nothing of size S·kh·kw × S·kh·kw is ever formed. The fit is free:
// with orthonormal factors ||K - K̂||² = ||K||² - ||C||², and ||C||² is the sum of the top eigenvalues.
import { throwIfAborted } from '../../util/progress.js';
import { gemmPacked, gemmStrided, gram, packA, symmetricTopEigen, withResident } from './linalg.js';
import { frobenius } from './tensor.js';

export interface Tucker2Result {
  /** [kh, kw, R3, R4] */
  core: Float32Array;
  /** [S, R3] row-major, orthonormal columns */
  uIn: Float32Array;
  /** [T, R4] row-major, orthonormal columns */
  uOut: Float32Array;
  /** ||K - K̂||_F / ||K||_F of the float64 factors (Pythagoras; exact to ~1e-8 absolute). */
  relError: number;
  /** HOOI sweeps run after the HOSVD initialisation. */
  iterations: number;
  seconds: number;
}

export interface Tucker2Options {
  /** HOOI sweeps after the HOSVD init, default 20; 0 = HOSVD only. */
  maxIter?: number;
  /** Stop when a sweep lowers the relative error by less than this, default 1e-6. */
  tol?: number;
  signal?: AbortSignal;
}

type Shape4 = readonly [number, number, number, number];

function checkRank(name: string, r: number, limit: number, what: string): void {
  if (!Number.isInteger(r)) throw new Error(`tucker2: rank ${name} = ${r} must be an integer`);
  if (r < 1) throw new Error(`tucker2: rank ${name} = ${r} must be >= 1`);
  if (r > limit) throw new Error(`tucker2: rank ${name} = ${r} exceeds the ${what}`);
}

function checkShape(fn: string, shape: Shape4, length?: number): void {
  if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`${fn}: shape [${shape}] must be 4 positive integers [kh, kw, S, T]`);
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  if (length !== undefined && length !== size) throw new Error(`${fn}: kernel has ${length} values, shape [${shape}] needs ${size}`);
}

/** Tucker-2 of a [kh, kw, S, T] kernel at ranks [R3 (input side), R4 (output side)]. */
export function tucker2(kernel: Float32Array | Float64Array, shape: Shape4, ranks: readonly [number, number], opts: Tucker2Options = {}): Tucker2Result {
  const t0 = performance.now();
  checkShape('tucker2', shape, kernel.length);
  const [kh, kw, S, T] = shape;
  const [r3, r4] = ranks;
  checkRank('R3', r3, S, `input channels S = ${S}`);
  checkRank('R4', r4, T, `output channels T = ${T}`);
  const maxIter = opts.maxIter ?? 20;
  const tol = opts.tol ?? 1e-6;
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new Error(`tucker2: maxIter ${maxIter} must be an integer >= 0`);
  const L = kh * kw;
  // Xs[s, l, t] (S × L·T) and Xt[t, l, s] (T × L·S): the channel-mode unfoldings, float64
  const xs = new Float64Array(S * L * T);
  const xt = new Float64Array(T * L * S);
  for (let l = 0; l < L; l++) {
    for (let s = 0; s < S; s++) xs.set(kernel.subarray((l * S + s) * T, (l * S + s + 1) * T), (s * L + l) * T);
    // xt[t, l, :] = K[l, :, t]: transposed in 8×8 tiles (cache-friendly)
    for (let s0 = 0; s0 < S; s0 += 8) {
      const s1 = Math.min(S, s0 + 8);
      for (let t0 = 0; t0 < T; t0 += 8) {
        const t1 = Math.min(T, t0 + 8);
        for (let t = t0; t < t1; t++) {
          const dst = (t * L + l) * S;
          for (let s = s0; s < s1; s++) xt[dst + s] = kernel[(l * S + s) * T + t];
        }
      }
    }
  }
  const nx2 = frobenius(xs) ** 2;
  throwIfAborted(opts.signal);
  // HOSVD init. The first HOOI sweep recomputes U3 from U4 before using it, so U3's own HOSVD init
  // (another full Gram and eigensolve) is only needed when there are no sweeps.
  let u4 = symmetricTopEigen(gram(xt, T, L * S, 'rows'), T, r4).vectors;
  throwIfAborted(opts.signal);
  let u3 = maxIter === 0 ? symmetricTopEigen(gram(xs, S, L * T, 'rows'), S, r3).vectors : new Float64Array(S * r3);
  // the fixed operands of every sweep's contractions, packed once
  const pxs = packA(S * L, T, xs, 0, T, 1);
  const pxt = packA(T * L, S, xt, 0, S, 1);
  // Z[t, l, a] = Σ_s Xt[t, l, s] U3[s, a]  (the mode-4 unfolding of K ×3 U3ᵀ)
  const z = new Float64Array(T * L * r3);
  const y = new Float64Array(S * L * r4);
  let iterations = 0;
  withResident([pxs, pxt], ([rxs, rxt]) => {
    let err = Infinity;
    let haveZ = false;
    for (let it = 0; it < maxIter; it++) {
      throwIfAborted(opts.signal);
      // Y[s, l, b] = Σ_t Xs[s, l, t] U4[t, b]; U3 <- top-R3 of Y Yᵀ
      gemmPacked(rxs, r4, u4, 0, r4, 1, y, 0, r4);
      u3 = symmetricTopEigen(gram(y, S, L * r4, 'rows'), S, r3).vectors;
      throwIfAborted(opts.signal);
      gemmPacked(rxt, r3, u3, 0, r3, 1, z, 0, r3);
      const e4 = symmetricTopEigen(gram(z, T, L * r3, 'rows'), T, r4);
      u4 = e4.vectors;
      haveZ = true;
      iterations = it + 1;
      let core2 = 0;
      for (let b = 0; b < r4; b++) core2 += e4.values[b];
      const next = nx2 > 0 ? Math.sqrt(Math.max(0, nx2 - core2) / nx2) : 0;
      const improved = err - next;
      err = next;
      if (improved < tol) break;
    }
    if (!haveZ) gemmPacked(rxt, r3, u3, 0, r3, 1, z, 0, r3);
  });
  // core[l, a, b] = Σ_t Z[t, l, a] U4[t, b]
  const core = new Float64Array(L * r3 * r4);
  gemmStrided(L * r3, T, r4, z, 0, 1, L * r3, u4, 0, r4, 1, core, 0, r4);
  let core2 = 0;
  for (let i = 0; i < core.length; i++) core2 += core[i] * core[i];
  const relError = nx2 > 0 ? Math.sqrt(Math.max(0, nx2 - core2) / nx2) : 0;
  return {
    core: Float32Array.from(core),
    uIn: Float32Array.from(u3),
    uOut: Float32Array.from(u4),
    relError,
    iterations,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** K[i,j,s,t] = Σ_ab core[i,j,a,b] · uIn[s,a] · uOut[t,b] (ranks read from the factor sizes). */
export function tucker2Reconstruct(r: Pick<Tucker2Result, 'core' | 'uIn' | 'uOut'>, shape: Shape4): Float32Array {
  checkShape('tucker2Reconstruct', shape);
  const [kh, kw, S, T] = shape;
  const L = kh * kw;
  const r3 = r.uIn.length / S;
  const r4 = r.uOut.length / T;
  if (!Number.isInteger(r3) || !Number.isInteger(r4) || r.core.length !== L * r3 * r4) {
    throw new Error(`tucker2Reconstruct: core ${r.core.length}, uIn ${r.uIn.length}, uOut ${r.uOut.length} do not fit shape [${shape}]`);
  }
  // M[l, a, t] = Σ_b core[l, a, b] uOut[t, b];  K[l, s, t] = Σ_a uIn[s, a] M[l, a, t]
  const m = new Float64Array(L * r3 * T);
  gemmStrided(L * r3, r4, T, r.core, 0, r4, 1, r.uOut, 0, 1, r4, m, 0, T);
  const k = new Float64Array(L * S * T);
  for (let l = 0; l < L; l++) gemmStrided(S, r3, T, r.uIn, 0, r3, 1, m, l * r3 * T, T, 1, k, l * S * T, T);
  return Float32Array.from(k);
}
