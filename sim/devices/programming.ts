// Programming the cells of a crossbar: stuck-at faults, then programming (write) noise.
//
// 1. Stuck-at: every cell independently is stuck on (at Gmax) with probability stuckOnRate, stuck off
//    (at Gmin) with probability stuckOffRate, else programmable. A stuck cell keeps its stuck
//    conductance exactly: no programming noise, and (our choice, see drift.ts) no drift.
// 2. Programming noise on the programmable cells, G = G_target + σ·N(0, 1):
//    'gaussian': σ = stdFractionOfRange·(Gmax − Gmin), the same for every level;
//    'pcm':      σ = max(c0 + c1·g + c2·g², 0)·scale, g = G_target/Gmax (µS), after IBM aihwkit's
//                PCMLikeNoiseModel.apply_programming_noise_to_conductance (src/aihwkit/inference/noise/
//                pcm.py, commit 1384c564): sig_prog = Σ c_i (g_target/g_max)^i · g_max/prog_coeff_g_max_reference,
//                g_prog = g_target + prog_noise_scale·sig_prog·randn, clamped at 0. aihwkit's defaults are
//                c = [0.26348, 1.9650, −1.1731] µS fitted at g_max = 25 µS (prog_coeff_g_max_reference),
//                and rescaled by g_max/25 for another g_max. Differences: our coefficientsUs are used
//                as given (a preset with Gmax ≠ 25 µS that wants aihwkit's rescaling folds Gmax/25 into
//                `scale`); a negative polynomial gives σ = 0 here (aihwkit multiplies the symmetric noise
//                by the negative value, i.e. uses |σ|; with the default coefficients σ > 0 on [0, 1]).
// 3. The programmed conductance is clipped to [0, +∞) (as aihwkit: no negative conductance; not to
//    [Gmin, Gmax]: a write can overshoot the nominal range).
import type { CrossbarSpec, DeviceSpec, ProgrammingNoiseSpec } from '../spec/types.js';
import { fillCategories, fillNormal, type RandomSource } from './random.js';

/** Stuck-at state of a cell (the `stuck` array of programConductances). */
export const STUCK_NONE = 0;
export const STUCK_ON = 1;
export const STUCK_OFF = 2;

export interface ProgrammedCells {
  /** Programmed conductances, µS, ≥ 0. */
  readonly gUs: Float32Array;
  /** Per cell: STUCK_NONE, STUCK_ON (at Gmax) or STUCK_OFF (at Gmin). */
  readonly stuck: Uint8Array;
}

/** Default aihwkit PCM programming-noise coefficients, µS, at Gmax = 25 µS (see the header). */
export const AIHWKIT_PCM_PROG_COEFFICIENTS_US: readonly [number, number, number] = [0.26348, 1.965, -1.1731];
export const AIHWKIT_PCM_PROG_GMAX_US = 25;

/** The programming-noise std (µS) of a cell programmed to targetUs. */
export function programmingNoiseStdUs(targetUs: number, noise: ProgrammingNoiseSpec, crossbar: CrossbarSpec): number {
  switch (noise.model) {
    case 'none':
      return 0;
    case 'gaussian':
      return noise.stdFractionOfRange * (crossbar.gMaxUs - crossbar.gMinUs);
    case 'pcm': {
      const g = targetUs / crossbar.gMaxUs;
      const [c0, c1, c2] = noise.coefficientsUs;
      const s = c0 + g * (c1 + g * c2);
      return s > 0 ? s * noise.scale : 0;
    }
  }
}

/**
 * Programs target conductances (µS): stuck-at faults, then programming noise, clipped at 0 (see the
 * header). Draws the stuck map first (only if a stuck rate is > 0), then the noise (only if a noise
 * model is set), each as one stream from `rng`.
 */
export function programConductances(targetUs: Float32Array, crossbar: CrossbarSpec, devices: DeviceSpec, rng: RandomSource): ProgrammedCells {
  const n = targetUs.length;
  const stuck = new Uint8Array(n);
  if (devices.stuckOnRate > 0 || devices.stuckOffRate > 0) fillCategories(stuck, rng, devices.stuckOnRate, devices.stuckOffRate);
  const g = new Float32Array(n);
  const noise = devices.programmingNoise;
  const gMax = crossbar.gMaxUs;
  const gMin = crossbar.gMinUs;
  if (noise.model === 'none') {
    for (let i = 0; i < n; i++) {
      const t = targetUs[i];
      g[i] = stuck[i] === STUCK_NONE ? (t > 0 ? t : 0) : stuck[i] === STUCK_ON ? gMax : gMin;
    }
    return { gUs: g, stuck };
  }
  fillNormal(g, rng); // z, overwritten in place
  if (noise.model === 'gaussian') {
    const sd = noise.stdFractionOfRange * (gMax - gMin);
    for (let i = 0; i < n; i++) {
      const v = targetUs[i] + sd * g[i];
      g[i] = stuck[i] === STUCK_NONE ? (v > 0 ? v : 0) : stuck[i] === STUCK_ON ? gMax : gMin;
    }
  } else {
    const [c0, c1, c2] = noise.coefficientsUs;
    const scale = noise.scale;
    const inv = 1 / gMax;
    for (let i = 0; i < n; i++) {
      const t = targetUs[i];
      const r = t * inv;
      const p = c0 + r * (c1 + r * c2);
      const v = t + (p > 0 ? p * scale : 0) * g[i];
      g[i] = stuck[i] === STUCK_NONE ? (v > 0 ? v : 0) : stuck[i] === STUCK_ON ? gMax : gMin;
    }
  }
  return { gUs: g, stuck };
}
