// Denoising inputs for the DnCNN reference model: additive white Gaussian noise, seeded.
import { Rng } from '../util/rng.js';

/** σ = 25 on the 0..255 scale: DnCNN-S's standard known-noise-level setting. */
export const DNCNN_SIGMA = 25 / 255;

/**
 * clean + σ·N(0, 1) per element, NOT clipped to [0, 1] (as in DnCNN's training data).
 * The same (clean, sigma, seed) always gives the same output.
 */
export function addGaussianNoise(clean: Float32Array, opts: { readonly seed: number; readonly sigma?: number }): Float32Array {
  const sigma = opts.sigma ?? DNCNN_SIGMA;
  if (!(sigma >= 0)) throw new RangeError(`sigma ${sigma} must be >= 0`);
  const rng = new Rng(opts.seed);
  const noisy = new Float32Array(clean.length);
  for (let i = 0; i < clean.length; i++) noisy[i] = clean[i] + sigma * rng.normal();
  return noisy;
}
