// Order statistics of latency samples: what `tandem profile` prints per layer (median, IQR, min).
// Quartiles by linear interpolation between order statistics (R type 7, numpy's default), so numbers agree
// with what a user gets from numpy.percentile on the same samples.

export interface SampleSummary {
  readonly n: number;
  readonly min: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  /** q3 − q1. */
  readonly iqr: number;
  readonly max: number;
  readonly mean: number;
}

/** The p-quantile (0..1) of sorted samples, linear interpolation (type 7). */
export function quantileSorted(s: ArrayLike<number>, p: number): number {
  if (s.length === 0) throw new Error('quantile of no samples');
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

export function summarize(samples: ArrayLike<number>): SampleSummary {
  if (samples.length === 0) throw new Error('summary of no samples');
  const s = Float64Array.from(samples).sort();
  const q1 = quantileSorted(s, 0.25);
  const q3 = quantileSorted(s, 0.75);
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, min: s[0], q1, median: quantileSorted(s, 0.5), q3, iqr: q3 - q1, max: s[s.length - 1], mean: sum / s.length };
}
