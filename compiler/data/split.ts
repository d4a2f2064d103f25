// Fixed, seeded train/validation splits as index lists over one image set (no pixel copies).
import { Rng } from '../util/rng.js';
import type { LabeledImages } from './images.js';

/** Some rows of an image set, ascending. */
export interface Subset {
  readonly data: LabeledImages;
  readonly indices: Uint32Array;
}

export interface TrainValSplit {
  readonly train: Subset;
  readonly val: Subset;
}

/** Every row, e.g. the official test set. */
export function allOf(data: LabeledImages): Subset {
  const indices = new Uint32Array(data.n);
  for (let i = 0; i < data.n; i++) indices[i] = i;
  return { data, indices };
}

/**
 * Holds out round(n × valFraction) rows chosen by a seeded Fisher-Yates shuffle; the same (data size,
 * fraction, seed) always gives the same split. The default 1/6 keeps 10000 of Fashion-MNIST's 60000.
 */
export function splitTrainVal(data: LabeledImages, opts: { readonly valFraction?: number; readonly seed: number }): TrainValSplit {
  const valFraction = opts.valFraction ?? 1 / 6;
  if (!(valFraction >= 0 && valFraction <= 1)) throw new RangeError(`valFraction ${valFraction} is not in [0, 1]`);
  const order = new Rng(opts.seed).shuffle(allOf(data).indices);
  const nVal = Math.round(data.n * valFraction);
  // Sorted so a split reads in file order; batch order is shuffled separately per epoch.
  return {
    train: { data, indices: order.slice(nVal).sort() },
    val: { data, indices: order.slice(0, nVal).sort() },
  };
}
