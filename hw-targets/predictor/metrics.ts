// Accuracy of latency predictions as LETI / nn-Meter / BRP-NAS report it: the share of predictions within ±p
// of the measurement (relative), RMSE (in the measurement's unit) and R² (1 − SSE/SST).

export interface Accuracy {
  readonly n: number;
  /** Share (0..1) with |pred − true| ≤ 0.10·true. */
  readonly within10: number;
  readonly within5: number;
  readonly rmse: number;
  readonly r2: number;
  /** Mean |pred − true| / true. */
  readonly mape: number;
}

export function accuracy(pred: readonly number[], truth: readonly number[]): Accuracy {
  if (pred.length !== truth.length) throw new Error(`accuracy: ${pred.length} predictions for ${truth.length} measurements`);
  const n = truth.length;
  if (n === 0) throw new Error('accuracy of no predictions');
  let w10 = 0;
  let w5 = 0;
  let sse = 0;
  let ape = 0;
  let mean = 0;
  for (const t of truth) mean += t / n;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    const e = pred[i] - truth[i];
    // a relative bound on a zero measurement holds only for an exact prediction
    const rel = truth[i] === 0 ? (e === 0 ? 0 : Infinity) : Math.abs(e) / truth[i];
    if (rel <= 0.1) w10++;
    if (rel <= 0.05) w5++;
    ape += Number.isFinite(rel) ? rel : 0;
    sse += e * e;
    sst += (truth[i] - mean) ** 2;
  }
  return { n, within10: w10 / n, within5: w5 / n, rmse: Math.sqrt(sse / n), r2: sst > 0 ? 1 - sse / sst : NaN, mape: ape / n };
}
