// What the trainer needs from data: sample count, shapes, and a way to fill a batch.
import type { Shape } from '../ir/types.js';
import type { Rng } from '../util/rng.js';

export interface Dataset {
  readonly size: number;
  /** Per-sample input shape (HWC). */
  readonly inputShape: Shape;
  /** Floats per target: 1 for a class id, H*W*C for an image target. */
  readonly targetSize: number;
  /** Writes the samples `indices` into x (batch-major) and y. */
  fill(indices: ArrayLike<number>, x: Float32Array, y: Float32Array): void;
}

/** In-place augmentation of a batch of HWC images (and image targets, kept aligned). */
export type Augment = (x: Float32Array, y: Float32Array | undefined, n: number, shape: Shape, rng: Rng) => void;

/**
 * Random translation by up to `shift` pixels (zero fill) and horizontal flip with probability 1/2:
 * the standard light augmentation for 28x28 clothing images.
 */
export function shiftFlip(shift = 2): Augment {
  return (x, y, n, shape, rng) => {
    const [h, w, c] = shape;
    const per = h * w * c;
    const tmp = new Float32Array(per);
    for (let b = 0; b < n; b++) {
      const dy = rng.int(2 * shift + 1) - shift;
      const dx = rng.int(2 * shift + 1) - shift;
      const flip = rng.next() < 0.5;
      for (const buf of y ? [x, y] : [x]) {
        const img = buf.subarray(b * per, (b + 1) * per);
        tmp.fill(0);
        for (let i = 0; i < h; i++) {
          const si = i - dy;
          if (si < 0 || si >= h) continue;
          for (let j = 0; j < w; j++) {
            let sj = j - dx;
            if (flip) sj = w - 1 - sj;
            if (sj < 0 || sj >= w) continue;
            for (let k = 0; k < c; k++) tmp[(i * w + j) * c + k] = img[(si * w + sj) * c + k];
          }
        }
        img.set(tmp);
      }
    }
  };
}
