// Conductance drift: G(t) = G0·((t + t0)/t0)^(−ν), ν per device, t the time since programming ended.
//
// Drift coefficients ν:
//   'power-law': ν ~ N(nuMean, nuStd) per device, clipped at 0 (no upward drift).
//   'pcm':       IBM aihwkit's PCMLikeNoiseModel.generate_drift_coefficients (src/aihwkit/inference/
//                noise/pcm.py, commit 1384c564), conductance dependent, from the *target* conductance:
//                  g_rel = max(|G_target/Gmax|, 1e-7)
//                  μ_ν = clip(−0.0155·ln(g_rel) + 0.0244, 0.049, 0.1)
//                  σ_ν = clip(−0.0125·ln(g_rel) − 0.0059, 0.008, 0.045)
//                  ν   = |μ_ν + σ_ν·N(0, 1)|            (aihwkit folds with abs, then clamps at 0)
//                (aihwkit's drift_scale, 1 by default, is not in our spec.)
//   'none':      ν = 0.
// Stuck cells (programming.ts) get ν = 0 when the stuck map is passed: a stuck cell does not drift.
//
// Time form: aihwkit's apply_drift_noise_to_conductance sets t = t_inference + t_0 and, for t > t_0,
// g_drift = g_prog·(t/t_0)^(−ν), i.e. G0·((t_inference + t0)/t0)^(−ν) with t_inference counted from the
// end of programming — the same form as ours (aihwkit's default t_0 = 20 s). The textbook form
// (t/t0)^(−ν) for t > t0 (Ielmini et al.), with t counted from programming and G0 read at t0, differs
// only by where the clock starts: ours is continuous at t = 0 (G(0) = G0) and reaches the textbook
// curve for t ≫ t0.
import type { DriftSpec } from '../spec/types.js';
import { fillNormal, type RandomSource } from './random.js';
import { STUCK_NONE } from './programming.js';

/** aihwkit's PCM drift-coefficient mean and std at relative conductance gRel = |G_target/Gmax|. */
export function pcmDriftNuMoments(gRel: number): { mean: number; std: number } {
  const g = Math.max(Math.abs(gRel), 1e-7);
  const l = Math.log(g);
  const mean = Math.min(Math.max(-0.0155 * l + 0.0244, 0.049), 0.1);
  const std = Math.min(Math.max(-0.0125 * l - 0.0059, 0.008), 0.045);
  return { mean, std };
}

/**
 * Samples a drift coefficient ν per cell (see the header) from the target conductances (µS).
 * `stuck` (programConductances' map), if given, sets ν = 0 on stuck cells.
 */
export function sampleDriftNu(targetUs: Float32Array, drift: DriftSpec, gMaxUs: number, rng: RandomSource, stuck?: Uint8Array): Float32Array {
  const n = targetUs.length;
  const nu = new Float32Array(n);
  if (drift.model === 'none') return nu;
  fillNormal(nu, rng); // z, transformed in place
  if (drift.model === 'power-law') {
    const m = drift.nuMean;
    const sd = drift.nuStd;
    for (let i = 0; i < n; i++) {
      const v = m + sd * nu[i];
      nu[i] = v > 0 ? v : 0;
    }
  } else {
    const inv = 1 / gMaxUs;
    for (let i = 0; i < n; i++) {
      let g = targetUs[i] * inv;
      if (g < 0) g = -g;
      if (g < 1e-7) g = 1e-7;
      const l = Math.log(g);
      let mu = -0.0155 * l + 0.0244;
      mu = mu < 0.049 ? 0.049 : mu > 0.1 ? 0.1 : mu;
      let sd = -0.0125 * l - 0.0059;
      sd = sd < 0.008 ? 0.008 : sd > 0.045 ? 0.045 : sd;
      const v = mu + sd * nu[i];
      nu[i] = v < 0 ? -v : v;
    }
  }
  if (stuck) for (let i = 0; i < n; i++) if (stuck[i] !== STUCK_NONE) nu[i] = 0;
  return nu;
}

/** The drift factor ((t + t0)/t0)^(−ν) of one device. */
export function driftFactor(nu: number, tS: number, t0S: number): number {
  return tS > 0 ? Math.exp(-nu * Math.log((tS + t0S) / t0S)) : 1;
}

/**
 * G(t) = G0·((t + t0)/t0)^(−ν) per cell, t ≥ 0 seconds since programming ended (t ≤ 0: G0). Writes
 * `out` (may be gUs itself; allocated if absent) and returns it.
 */
export function applyDrift(gUs: Float32Array, nu: Float32Array, tS: number, t0S: number, out?: Float32Array): Float32Array {
  const n = gUs.length;
  if (nu.length !== n) throw new RangeError(`drift: ${nu.length} coefficients for ${n} cells`);
  if (!(t0S > 0)) throw new RangeError(`drift t0 ${t0S} s must be > 0`);
  const o = out ?? new Float32Array(n);
  if (!(tS > 0)) {
    if (o !== gUs) o.set(gUs);
    return o;
  }
  const L = Math.log((tS + t0S) / t0S);
  for (let i = 0; i < n; i++) o[i] = gUs[i] * Math.exp(-nu[i] * L);
  return o;
}
