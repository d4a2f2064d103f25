// Pareto utilities for the co-design loop: domination (plain and Deb's constrained form), non-dominated
// sorting, crowding distance, exact hypervolume, "best at equal X" queries and front comparison. Pure
// functions over points = number[] (one value per objective) with a direction per objective; no I/O.

/** `min` objectives are minimised, `max` maximised (as MetricInfo.direction). */
export type Direction = 'min' | 'max';

/** Rejects ragged points and non-finite values: NaN would silently make a point incomparable (front 0). */
function checkPoints(points: readonly (readonly number[])[], dirs: readonly Direction[], what: string): void {
  if (dirs.length === 0) throw new RangeError(`${what}: no objectives`);
  points.forEach((p, i) => {
    if (p.length !== dirs.length) {
      throw new RangeError(`${what}: point ${i} has ${p.length} values, expected ${dirs.length}`);
    }
    for (const v of p) if (!Number.isFinite(v)) throw new RangeError(`${what}: point ${i} has a non-finite value ${v}`);
  });
}

/** a is no worse than b on every objective and strictly better on at least one. */
export function dominates(a: readonly number[], b: readonly number[], dirs: readonly Direction[]): boolean {
  let better = false;
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i] === 'min' ? b[i] - a[i] : a[i] - b[i]; // > 0: a better
    if (d < 0) return false;
    if (d > 0) better = true;
  }
  return better;
}

/** a is no worse than b on every objective (equal points weakly dominate each other). */
export function weaklyDominates(a: readonly number[], b: readonly number[], dirs: readonly Direction[]): boolean {
  for (let i = 0; i < dirs.length; i++) {
    if (dirs[i] === 'min' ? a[i] > b[i] : a[i] < b[i]) return false;
  }
  return true;
}

/**
 * Deb's constrained domination (Deb et al. 2002, §V): a feasible point (violation 0) beats an infeasible one;
 * of two infeasible points the smaller violation wins (equal violations: neither); two feasible points compare
 * by plain domination.
 */
export function constrainedDominates(
  a: readonly number[],
  b: readonly number[],
  dirs: readonly Direction[],
  violationA: number,
  violationB: number,
): boolean {
  if (violationA === 0 && violationB === 0) return dominates(a, b, dirs);
  return violationA < violationB;
}

/**
 * Fronts of indices, front 0 (non-dominated) first: the fast non-dominated sort of Deb et al. 2002, O(M·N²).
 * Indices ascend within each front. With `violations` (one per point, 0 = feasible) the sort uses constrained
 * domination, so every feasible point lands in an earlier front than every infeasible one.
 */
export function nonDominatedSort(
  points: readonly (readonly number[])[],
  dirs: readonly Direction[],
  violations?: readonly number[],
): number[][] {
  checkPoints(points, dirs, 'nonDominatedSort');
  const n = points.length;
  if (violations) {
    if (violations.length !== n) {
      throw new RangeError(`nonDominatedSort: ${violations.length} violations for ${n} points`);
    }
    for (const v of violations) if (!(v >= 0)) throw new RangeError(`nonDominatedSort: violation ${v} is not >= 0`);
  }
  const dom = violations
    ? (i: number, j: number) => constrainedDominates(points[i], points[j], dirs, violations[i], violations[j])
    : (i: number, j: number) => dominates(points[i], points[j], dirs);
  const dominatedBy: number[][] = Array.from({ length: n }, () => []); // S_p: the points p dominates
  const count = new Array<number>(n).fill(0); // n_p: how many points dominate p
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dom(i, j)) {
        dominatedBy[i].push(j);
        count[j]++;
      } else if (dom(j, i)) {
        dominatedBy[j].push(i);
        count[i]++;
      }
    }
  }
  const fronts: number[][] = [];
  let front = [];
  for (let i = 0; i < n; i++) if (count[i] === 0) front.push(i);
  while (front.length > 0) {
    fronts.push(front);
    const next: number[] = [];
    for (const p of front) {
      for (const q of dominatedBy[p]) if (--count[q] === 0) next.push(q);
    }
    front = next.sort((a, b) => a - b);
  }
  return fronts;
}

/** Indices of the non-dominated points (front 0), ascending. */
export function paretoFront(points: readonly (readonly number[])[], dirs: readonly Direction[]): number[] {
  return nonDominatedSort(points, dirs)[0] ?? [];
}

/**
 * Crowding distance of each index in `front` (Deb et al. 2002): per objective, the gap between the two
 * neighbours divided by the objective's range over the front, summed. The two extremes of an objective get
 * Infinity. Equal values are ordered by index, so the result is deterministic. An objective with zero range
 * over the front contributes nothing (and marks no extremes: which of equal points is "extreme" would be
 * arbitrary). Directions do not matter (distances are symmetric); `dirs` only fixes the objective count.
 */
export function crowdingDistance(
  points: readonly (readonly number[])[],
  front: readonly number[],
  dirs: readonly Direction[],
): Map<number, number> {
  checkPoints(front.map((i) => points[i] ?? []), dirs, 'crowdingDistance');
  const dist = new Map<number, number>(front.map((i) => [i, 0]));
  if (front.length <= 2) {
    for (const i of front) dist.set(i, Infinity);
    return dist;
  }
  for (let m = 0; m < dirs.length; m++) {
    const order = [...front].sort((a, b) => points[a][m] - points[b][m] || a - b);
    const lo = points[order[0]][m];
    const range = points[order[order.length - 1]][m] - lo;
    if (range === 0) continue;
    dist.set(order[0], Infinity);
    dist.set(order[order.length - 1], Infinity);
    for (let k = 1; k < order.length - 1; k++) {
      const i = order[k];
      dist.set(i, dist.get(i)! + (points[order[k + 1]][m] - points[order[k - 1]][m]) / range);
    }
  }
  return dist;
}

/** Points and reference flipped so every objective is minimised; keeps only points strictly better than ref. */
function toMinimisation(
  points: readonly (readonly number[])[],
  dirs: readonly Direction[],
  ref: readonly number[],
  what: string,
): { pts: number[][]; r: number[] } {
  checkPoints(points, dirs, what);
  checkPoints([ref], dirs, `${what} (reference)`);
  const flip = (p: readonly number[]) => p.map((v, i) => (dirs[i] === 'min' ? v : -v));
  const r = flip(ref);
  // A point not strictly better than ref in every objective encloses zero volume: drop it.
  const pts = points.map(flip).filter((p) => p.every((v, i) => v < r[i]));
  return { pts, r };
}

/** Area dominated by minimisation points (all strictly inside ref): sweep in ascending x. */
function area2d(pts: readonly (readonly number[])[], r: readonly number[]): number {
  const sorted = [...pts].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let area = 0;
  let y = r[1];
  for (const p of sorted) {
    if (p[1] < y) {
      area += (r[0] - p[0]) * (y - p[1]);
      y = p[1];
    }
  }
  return area;
}

/**
 * Exact 2-objective hypervolume: the area dominated by the points and bounded by `ref`. Points that do not
 * strictly dominate ref (in the objectives' directions) add nothing and are ignored.
 */
export function hypervolume2d(
  points: readonly (readonly number[])[],
  dirs: readonly Direction[],
  ref: readonly number[],
): number {
  if (dirs.length !== 2) throw new RangeError(`hypervolume2d: ${dirs.length} objectives, expected 2`);
  const { pts, r } = toMinimisation(points, dirs, ref, 'hypervolume2d');
  return area2d(pts, r);
}

/** a[m] <= b[m] for every m (minimisation). */
function weaklyBelow(a: readonly number[], b: readonly number[]): boolean {
  for (let m = 0; m < a.length; m++) if (a[m] > b[m]) return false;
  return true;
}

/**
 * Adds q to a mutually non-dominated minimisation set, unless a member already covers it; drops the members q
 * covers. Keeping each slice non-dominated keeps the recursion small.
 */
function insertNondominated(set: (readonly number[])[], q: readonly number[]): (readonly number[])[] {
  if (set.some((s) => weaklyBelow(s, q))) return set;
  const kept = set.filter((s) => !weaklyBelow(q, s));
  kept.push(q);
  return kept;
}

/**
 * Hypervolume by slicing objectives (HSO, While et al. 2006): sort on the last objective; between
 * consecutive values the dominated region's cross-section is the (d-1)-volume of the points seen so far.
 */
function volume(pts: readonly (readonly number[])[], r: readonly number[]): number {
  const d = r.length;
  if (pts.length === 0) return 0;
  if (d === 1) return r[0] - Math.min(...pts.map((p) => p[0]));
  if (d === 2) return area2d(pts, r);
  const sorted = [...pts].sort((a, b) => a[d - 1] - b[d - 1]);
  const rLow = r.slice(0, d - 1);
  let vol = 0;
  let slice: (readonly number[])[] = [];
  for (let k = 0; k < sorted.length; k++) {
    slice = insertNondominated(slice, sorted[k].slice(0, d - 1));
    const z = sorted[k][d - 1];
    const next = k + 1 < sorted.length ? sorted[k + 1][d - 1] : r[d - 1];
    if (next === z) continue; // same slice: add all points at this height first
    vol += (next - z) * volume(slice, rLow);
  }
  return vol;
}

/**
 * Exact hypervolume for any number of objectives (HSO slicing; exact up to floating-point rounding). Meant for
 * the sizes here (hundreds of points, up to ~4 objectives). Points not strictly dominating ref are ignored.
 * With 2 objectives it computes what hypervolume2d does.
 */
export function hypervolume(
  points: readonly (readonly number[])[],
  dirs: readonly Direction[],
  ref: readonly number[],
): number {
  const { pts, r } = toMinimisation(points, dirs, ref, 'hypervolume');
  return volume(pts, r);
}

/** A bound on one objective, e.g. {index: 0, atLeast: 92.7} for "accuracy ≥ 92.7%". */
export interface Constraint {
  readonly index: number;
  readonly atLeast?: number;
  readonly atMost?: number;
}

/**
 * The index of the best point on objective `objective` among the points meeting `constraint` (used for
 * "−x% energy at equal accuracy"); undefined if none does. Ties on the objective go to the point better on
 * the remaining objectives in order (so of two equally cheap points the more accurate one wins), then to the
 * lower index.
 */
export function bestUnder(
  points: readonly (readonly number[])[],
  objective: number,
  dirs: readonly Direction[],
  constraint: Constraint,
): number | undefined {
  checkPoints(points, dirs, 'bestUnder');
  if (!(objective >= 0 && objective < dirs.length)) throw new RangeError(`bestUnder: no objective ${objective}`);
  const c = constraint.index;
  if (!(c >= 0 && c < dirs.length)) throw new RangeError(`bestUnder: no objective ${c} to constrain`);
  // Signed so that > 0 means a is better than b on objective m.
  const gain = (a: readonly number[], b: readonly number[], m: number) =>
    dirs[m] === 'min' ? b[m] - a[m] : a[m] - b[m];
  let best: number | undefined;
  points.forEach((p, i) => {
    if (constraint.atLeast !== undefined && !(p[c] >= constraint.atLeast)) return;
    if (constraint.atMost !== undefined && !(p[c] <= constraint.atMost)) return;
    if (best === undefined) {
      best = i;
      return;
    }
    const b = points[best];
    let g = gain(p, b, objective);
    for (let m = 0; m < dirs.length && g === 0; m++) if (m !== objective) g = gain(p, b, m);
    if (g > 0) best = i;
  });
  return best;
}

/** How two point sets compare (see compareFronts). */
export interface FrontComparison {
  /** Indices into a (resp. b) of its own non-dominated points. */
  readonly frontA: number[];
  readonly frontB: number[];
  /** Share (0..1) of b's front weakly dominated by (worse than or equal to) some point of a's front. */
  readonly aCoversB: number;
  /** Share (0..1) of a's front weakly dominated by some point of b's front. */
  readonly bCoversA: number;
  /**
   * The common reference: each objective's worst value over both sets, pushed out by 1% of its range over both
   * sets (by 1 if that range is 0), so the extreme points still enclose volume.
   */
  readonly ref: number[];
  /** Hypervolume of each set against ref (larger is better). */
  readonly hypervolumeA: number;
  readonly hypervolumeB: number;
}

/**
 * Compares two point sets (e.g. two strategies' candidates): Zitzler's coverage both ways on their fronts,
 * and both hypervolumes against one reference. Throws on an empty set (nothing to compare).
 */
export function compareFronts(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  dirs: readonly Direction[],
): FrontComparison {
  if (a.length === 0 || b.length === 0) {
    throw new RangeError(`compareFronts: set ${a.length === 0 ? 'a' : 'b'} is empty`);
  }
  checkPoints(a, dirs, 'compareFronts (a)');
  checkPoints(b, dirs, 'compareFronts (b)');
  const frontA = paretoFront(a, dirs);
  const frontB = paretoFront(b, dirs);
  const covers = (x: readonly (readonly number[])[], fx: number[], y: readonly (readonly number[])[], fy: number[]) =>
    fy.filter((j) => fx.some((i) => weaklyDominates(x[i], y[j], dirs))).length / fy.length;
  const all = [...a, ...b];
  const ref = dirs.map((dir, m) => {
    const lo = Math.min(...all.map((p) => p[m]));
    const hi = Math.max(...all.map((p) => p[m]));
    const push = hi > lo ? 0.01 * (hi - lo) : 1;
    return dir === 'min' ? hi + push : lo - push;
  });
  return {
    frontA,
    frontB,
    aCoversB: covers(a, frontA, b, frontB),
    bCoversA: covers(b, frontB, a, frontA),
    ref,
    hypervolumeA: hypervolume(frontA.map((i) => a[i]), dirs, ref),
    hypervolumeB: hypervolume(frontB.map((i) => b[i]), dirs, ref),
  };
}
