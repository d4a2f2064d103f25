// A histogram of a layer's element-wise error (y − ref) / rms(ref), accumulated batch by batch without keeping
// the values: the bins are fixed in absolute units from the first batch (±4 of its error rms), and divided by
// the rms of every reference value seen at the end, so the edges are relative to the whole test set's rms.

export interface ErrorHistogram {
  /** Bin edges of (y − ref) / rms(ref), evenly spaced, symmetric about 0; counts.length + 1 of them. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  /** Elements below the first edge and at or above the last (the tails past ±4 first-batch error rms). */
  readonly below: number;
  readonly above: number;
}

export const HISTOGRAM_BINS = 40;
/** Half the range in error rms of the first batch: wide enough that the tails of a normal error are ~1e-4. */
const HALF_RANGE_RMS = 4;

export class ErrorHistogramAcc {
  private readonly counts: number[];
  private lo = 0;
  private width = 0;
  private below = 0;
  private above = 0;
  private ref2 = 0;
  private n = 0;

  constructor(readonly bins = HISTOGRAM_BINS) {
    this.counts = new Array<number>(bins).fill(0);
  }

  add(y: ArrayLike<number>, ref: ArrayLike<number>): void {
    if (this.width === 0) this.setRange(y, ref);
    const inv = 1 / this.width;
    for (let i = 0; i < ref.length; i++) {
      this.ref2 += ref[i] * ref[i];
      const k = Math.floor((y[i] - ref[i] - this.lo) * inv);
      if (k < 0) this.below++;
      else if (k >= this.bins) this.above++;
      else this.counts[k]++;
    }
    this.n += ref.length;
  }

  result(): ErrorHistogram {
    const rms = Math.sqrt(this.ref2 / Math.max(1, this.n)) || 1;
    const edges = Array.from({ length: this.bins + 1 }, (_, k) => (this.lo + k * this.width) / rms);
    return { edges, counts: [...this.counts], below: this.below, above: this.above };
  }

  private setRange(y: ArrayLike<number>, ref: ArrayLike<number>): void {
    let err2 = 0;
    let ref2 = 0;
    for (let i = 0; i < ref.length; i++) {
      err2 += (y[i] - ref[i]) ** 2;
      ref2 += ref[i] * ref[i];
    }
    const n = Math.max(1, ref.length);
    // an error-free first batch still needs a range: a thousandth of the signal, else 1
    const half = HALF_RANGE_RMS * Math.sqrt(err2 / n) || 1e-3 * Math.sqrt(ref2 / n) || 1;
    this.lo = -half;
    this.width = (2 * half) / this.bins;
  }
}
