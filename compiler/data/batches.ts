// Mini-batches in a seeded order that changes per epoch, converted to float only one batch at a time.
import { mixSeed, Rng } from '../util/rng.js';
import { imagesToFloat, labelsAt } from './images.js';
import type { Subset } from './split.js';

export interface Batch {
  /** [n, H, W, C] float32 in [0, 1]. */
  readonly x: Float32Array;
  readonly y: Uint8Array;
  readonly n: number;
  /** Which rows of the image set this batch holds (for tracing and per-sample noise seeds). */
  readonly indices: Uint32Array;
}

export interface BatchOptions {
  readonly batchSize: number;
  readonly seed: number;
  /** Each epoch gets its own order, derived from (seed, epoch). */
  readonly epoch?: number;
  /** false keeps the subset order (evaluation). Default true. */
  readonly shuffle?: boolean;
  /** Skip a last, smaller batch. Default false. */
  readonly dropLast?: boolean;
}

export { mixSeed };

/** The row order of one epoch. */
export function epochOrder(subset: Subset, seed: number, epoch = 0): Uint32Array {
  return new Rng(mixSeed(seed, epoch)).shuffle(subset.indices.slice());
}

export function* batches(subset: Subset, opts: BatchOptions): Generator<Batch> {
  const { batchSize } = opts;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batchSize ${batchSize} is not a positive integer`);
  const order = opts.shuffle === false ? subset.indices : epochOrder(subset, opts.seed, opts.epoch ?? 0);
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, Math.min(start + batchSize, order.length));
    if (opts.dropLast && indices.length < batchSize) break;
    yield { x: imagesToFloat(subset.data, indices), y: labelsAt(subset.data, indices), n: indices.length, indices };
  }
}
