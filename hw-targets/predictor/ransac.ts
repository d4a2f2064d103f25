// RANSAC line fit y = a·x + b (Fischler & Bolles 1981), as LETI fits latency on FLOPs: repeatedly fit a line
// through two random points, count the points within the residual threshold, keep the largest consensus, then
// refit by least squares on it. Robust to the outliers that make a plain least-squares line useless.
import { Rng } from '../../compiler/util/rng.js';

export interface Line {
  readonly slope: number;
  readonly intercept: number;
}

export interface RansacOptions {
  readonly seed: number;
  readonly iterations?: number;
  /** Inlier if |residual| ≤ threshold; default: the median absolute deviation of y from its median (scikit-learn's default). */
  readonly threshold?: number;
}

/** Ordinary least squares on the points `idx` (all when omitted). A single x value gives a flat line at the mean. */
export function leastSquares(x: readonly number[], y: readonly number[], idx?: readonly number[]): Line {
  const ids = idx ?? x.map((_, i) => i);
  const n = ids.length;
  let mx = 0;
  let my = 0;
  for (const i of ids) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (const i of ids) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}

const median = (v: readonly number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function ransacLine(x: readonly number[], y: readonly number[], o: RansacOptions): Line & { readonly inliers: number } {
  if (x.length !== y.length || x.length < 2) throw new Error(`RANSAC needs at least 2 points (got ${x.length} x, ${y.length} y)`);
  const rng = new Rng(o.seed);
  const my = median(y);
  const threshold = o.threshold ?? Math.max(median(y.map((v) => Math.abs(v - my))), 1e-12);
  let best: number[] = [];
  for (let it = 0; it < (o.iterations ?? 200); it++) {
    const i = rng.int(x.length);
    const j = rng.int(x.length);
    if (x[i] === x[j]) continue;
    const slope = (y[j] - y[i]) / (x[j] - x[i]);
    const intercept = y[i] - slope * x[i];
    const inl: number[] = [];
    for (let k = 0; k < x.length; k++) if (Math.abs(slope * x[k] + intercept - y[k]) <= threshold) inl.push(k);
    if (inl.length > best.length) best = inl;
  }
  if (best.length < 2) best = x.map((_, i) => i);
  return { ...leastSquares(x, y, best), inliers: best.length };
}
