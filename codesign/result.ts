// The co-design loop's output: every evaluated candidate with its metrics and per-layer decisions, which
// objectives were optimised, and the Pareto front. Written as front.json (and front.csv, report.html) by
// `tandem codesign`; the HTML report and the UI read only this.
import type { Plan } from '../compiler/contracts/plan.js';

/** A number the loop optimises or constrains. `min` objectives are minimised, `max` maximised. */
export interface MetricInfo {
  /** Key into Candidate.metrics, e.g. 'accuracy', 'energy:rram-128', 'latency:qemu'. */
  readonly key: string;
  /** Human label, e.g. 'energy per image on rram-128'. */
  readonly label: string;
  /** Display unit, e.g. '%', 'µJ', 'ms', 'arrays', 'params'. */
  readonly unit: string;
  readonly direction: 'min' | 'max';
  /** Where the number comes from, e.g. 'sim:rram-128 cost model', 'predictor:qemu forest', 'serial:qemu measured'. */
  readonly source: string;
}

/** One layer's decision in a candidate, and why. */
export interface LayerDecision {
  /** Original layer id. */
  readonly layer: string;
  /** e.g. 'original', 'tucker2 16x24', 'cp 12', 'svd 32', 'prune 25%'. */
  readonly decision: string;
  /** Why, e.g. 'energy share 31% -> weakening 0.62' or 'least error per µJ saved (0.0041/µJ)'. */
  readonly reason: string;
  /** The layer's cost under each metric, where known (same keys as Candidate.metrics). */
  readonly cost?: Readonly<Record<string, number>>;
}

export interface Candidate {
  /** Stable within a run: 'c0', 'c1', ... in evaluation order. */
  readonly id: string;
  /** Which strategy proposed it, e.g. 'greedy:energy:rram-128', 'musco:macs', 'nsga2:latency:qemu'. */
  readonly strategy: string;
  readonly plan: Plan;
  /** Every objective and constraint metric, keyed as MetricInfo.key. Accuracy in %. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly layers: readonly LayerDecision[];
  /** Meets the accuracy constraint and every hard budget. */
  readonly feasible: boolean;
  /** Why not feasible, e.g. 'accuracy 91.2% < 92.7%', 'arrays 80 > 64'. */
  readonly violations: readonly string[];
  /** On the Pareto front of the feasible candidates (over the objectives). */
  readonly onFront: boolean;
  /** sha256 of the exported int8 model (models/<hash>/ next to the run store). */
  readonly modelHash?: string;
  readonly seconds: number;
}

export interface CodesignResult {
  readonly format: 'tandem-codesign-result';
  readonly version: 1;
  readonly createdAt: string;
  /** Run id in the store, and the store file (--store as given, else the default store's path). */
  readonly run: number;
  readonly store: string;
  readonly command: string;
  readonly seed: number;
  /** The problem statement as given (validated). */
  readonly problem: unknown;
  /** The base model's metrics (uncompressed, int8), same keys. */
  readonly baseline: Readonly<Record<string, number>>;
  /** Objectives first, then constraint-only metrics. */
  readonly metrics: readonly MetricInfo[];
  /** Keys of the objectives (subset of metrics), in problem order. */
  readonly objectives: readonly string[];
  readonly candidates: readonly Candidate[];
  /** The candidate exported as the answer (best on the first objective among the feasible front), if any. */
  readonly chosen?: string;
  readonly seconds: number;
}
