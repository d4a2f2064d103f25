// Read noise: each read of a cell sees G + σ·N(0, 1), a fresh sample per read (addReadNoise).
//
//   'gaussian': σ = stdFractionOfRange·(Gmax − Gmin), the same for every cell and time.
//   'pcm':      IBM aihwkit's PCM 1/f noise (PCMLikeNoiseModel.apply_drift_noise_to_conductance,
//               src/aihwkit/inference/noise/pcm.py, commit 1384c564):
//                 Q_s = min(0.0088 / max((|G_prog|/Gmax)^0.65, 1e-3), 0.2)
//                 σ   = |G(t)|·Q_s·sqrt(ln((t + t_read)/(2·t_read)))·scale
//               G relative to Gmax (aihwkit's g_max) in Q_s — not G in µS; the 1e-3 floor on
//               g_rel^0.65 and the 0.2 cap guard G ≈ 0 (the cap binds below g_rel ≈ 0.0083).
//               Q_s is taken at the programmed (pre-drift) conductance and multiplies the drifted
//               one, as aihwkit: pass gProgUs for Q_s, else Q_s uses gUs. For t ≤ t_read the log is
//               ≤ 0 and σ = 0 here (aihwkit never evaluates it there: its t ≥ t_0 = 20 s).
//               Time: aihwkit evaluates this at t = t_inference + t_0 (its drift t_0): pass
//               tS = t_inference + t0S to reproduce it.
//   'none':     σ = 0.
// Differences from aihwkit: aihwkit draws this noise once per drift_weights(t) call (a frozen
// perturbation of the weights used by every later forward pass); here every read is a fresh sample.
// A noisy read is clipped at 0 (as aihwkit's g_final.clamp(min=0)). Every cell is read with noise,
// stuck ones included (at their stuck conductance).
import type { CrossbarSpec, ReadNoiseSpec } from '../spec/types.js';
import { fillNormal, type RandomSource } from './random.js';

/** aihwkit's relative 1/f amplitude Q_s at relative conductance gRel = |G/Gmax|. */
export function pcmReadQs(gRel: number): number {
  const p = Math.pow(Math.abs(gRel), 0.65);
  return Math.min(0.0088 / Math.max(p, 1e-3), 0.2);
}

/**
 * Per-cell std (µS) of one read at time tS (see the header for the pcm time convention). gUs: the
 * conductances read (µS); gProgUs: the programmed ones for Q_s (pcm; default gUs). Writes `out`
 * (allocated if absent) and returns it.
 */
export function readNoiseStdUs(gUs: Float32Array, spec: ReadNoiseSpec, crossbar: CrossbarSpec, tS: number, out?: Float32Array, gProgUs?: Float32Array): Float32Array {
  const n = gUs.length;
  const o = out ?? new Float32Array(n);
  switch (spec.model) {
    case 'none':
      o.fill(0);
      return o;
    case 'gaussian':
      o.fill(spec.stdFractionOfRange * (crossbar.gMaxUs - crossbar.gMinUs));
      return o;
    case 'pcm': {
      const lg = Math.log((tS + spec.tReadS) / (2 * spec.tReadS));
      const k = lg > 0 ? Math.sqrt(lg) * spec.scale : 0;
      const gp = gProgUs ?? gUs;
      if (gp.length !== n) throw new RangeError(`read noise: ${gp.length} programmed conductances for ${n} cells`);
      const inv = 1 / crossbar.gMaxUs;
      for (let i = 0; i < n; i++) {
        let r = gp[i] * inv;
        if (r < 0) r = -r;
        let p = Math.pow(r, 0.65);
        if (p < 1e-3) p = 1e-3;
        let q = 0.0088 / p;
        if (q > 0.2) q = 0.2;
        const g = gUs[i];
        o[i] = (g < 0 ? -g : g) * q * k;
      }
      return o;
    }
  }
}

/**
 * One noisy read: out = max(G + σ·N(0, 1), 0) per cell, a fresh sample every call. `stdUs` is
 * readNoiseStdUs' result (computed once per (G, t)). `out` may be gUs itself. Returns `out`.
 */
export function addReadNoise(gUs: Float32Array, stdUs: Float32Array, rng: RandomSource, out?: Float32Array): Float32Array {
  const n = gUs.length;
  if (stdUs.length !== n) throw new RangeError(`read noise: ${stdUs.length} stds for ${n} cells`);
  const z = out && out !== gUs ? out : new Float32Array(n);
  fillNormal(z, rng);
  const o = out ?? z;
  for (let i = 0; i < n; i++) {
    const v = gUs[i] + stdUs[i] * z[i];
    o[i] = v > 0 ? v : 0;
  }
  return o;
}
