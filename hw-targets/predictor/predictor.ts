// A fitted latency predictor file (`tandem latency fit -o predictor.json`) and its predictions. Every method
// predicts per IR node and sums for the model; the model total adds the time spent outside the layers (the
// runtime's dispatch and layer hook on a board; input quantization, shape inference and output dequantization in
// the host executor), fitted on the training variants as a line in the number of nodes.
import { Checker, readJson } from './dataset.js';
import { FEATURE_NAMES } from './features.js';
import { Forest, type ForestModel } from './forest.js';
import { type Layer, Lut, type LutModel } from './lut.js';
import type { Accuracy } from './metrics.js';
import type { Line } from './ransac.js';

export const PREDICTOR_FORMAT = 'tandem-latency-predictor';

/** Per-layer methods (usable as a Target); 'flop-linear-model' is the classic whole-model baseline, table only. */
export const METHODS = ['lut', 'flop-linear', 'forest'] as const;
export type Method = (typeof METHODS)[number];

export interface FlopLinearModel {
  readonly kind: 'flop-linear';
  /** time = slope · MACs + intercept, per node (RANSAC). */
  readonly line: Line;
  readonly inliers: number;
}

export interface HeldOutRow {
  readonly method: Method | 'flop-linear-model';
  readonly model: Accuracy;
  /** Absent for the whole-model baseline. */
  readonly layer?: Accuracy;
}

export interface PredictorFile {
  readonly format: typeof PREDICTOR_FORMAT;
  readonly version: 1;
  readonly createdAt: string;
  readonly command: string;
  readonly dataset: { readonly file: string; readonly target: { readonly spec: string; readonly id: string; readonly name: string }; readonly seed: number; readonly variants: number };
  readonly unit: 'cycles' | 's';
  readonly clockHz?: number;
  readonly featureNames: readonly string[];
  /** Seeded split by variant: held-out variants were never seen in training. */
  readonly split: { readonly seed: number; readonly testFraction: number; readonly train: number; readonly test: readonly string[] };
  /** The method a Target uses unless `#method` is given. */
  readonly default: Method;
  /** Time outside the layers = slope · nodes + intercept (least squares on the training variants). */
  readonly outside: Line;
  readonly models: { readonly lut: LutModel; readonly 'flop-linear': FlopLinearModel; readonly forest: ForestModel };
  readonly heldOut: readonly HeldOutRow[];
  /** Held-out layers whose configuration the lookup table never saw (predicted from a neighbour). */
  readonly lutCoverage?: { readonly testLayers: number; readonly unseenConfigs: number };
}

export class LatencyPredictor {
  private readonly lut: Lut;
  private readonly forest: Forest;

  constructor(readonly file: PredictorFile) {
    this.lut = new Lut(file.models.lut);
    this.forest = new Forest(file.models.forest);
  }

  /** Per-node predictions, in the dataset's unit. */
  layers(method: Method, layers: readonly Layer[]): number[] {
    if (method === 'lut') return layers.map((l) => this.lut.predict(l));
    if (method === 'forest') return this.forest.predictMany(layers);
    const { slope, intercept } = this.file.models['flop-linear'].line;
    return layers.map((l) => slope * l.f[9] + intercept);
  }

  /** Time outside the layers for a model of `nodes` nodes (never negative). */
  outside(nodes: number): number {
    return Math.max(0, this.file.outside.slope * nodes + this.file.outside.intercept);
  }

  /** Σ per-node predictions + the time outside the layers. */
  total(method: Method, layers: readonly Layer[]): number {
    return this.layers(method, layers).reduce((a, b) => a + b, 0) + this.outside(layers.length);
  }
}

/** Reads a predictor file, checking the fields predictions use; errors name the file and field. */
export function readPredictor(file: string): PredictorFile {
  const c = new Checker(file);
  const p = c.header(readJson(file, 'latency predictor'), PREDICTOR_FORMAT);
  const names = c.arr(p.featureNames, 'featureNames');
  if (names.join() !== FEATURE_NAMES.join()) c.fail('featureNames', `[${FEATURE_NAMES.join(', ')}] (this Tandem's features)`, names);
  if (!(METHODS as readonly unknown[]).includes(p.default)) c.fail('default', METHODS.join(' | '), p.default);
  const outside = c.obj(p.outside, 'outside');
  c.num(outside.slope, 'outside.slope');
  c.num(outside.intercept, 'outside.intercept');
  const models = c.obj(p.models, 'models');
  const lut = c.obj(models.lut, 'models.lut');
  c.arr(lut.entries, 'models.lut.entries').forEach((e, i) => {
    const o = c.obj(e, `models.lut.entries[${i}]`);
    c.str(o.op, `models.lut.entries[${i}].op`);
    c.num(o.t, `models.lut.entries[${i}].t`, 0);
    if (c.arr(o.f, `models.lut.entries[${i}].f`).length !== FEATURE_NAMES.length) c.fail(`models.lut.entries[${i}].f`, `${FEATURE_NAMES.length} numbers`, o.f);
  });
  const fl = c.obj(c.obj(models['flop-linear'], 'models.flop-linear').line, 'models.flop-linear.line');
  c.num(fl.slope, 'models.flop-linear.line.slope');
  c.num(fl.intercept, 'models.flop-linear.line.intercept');
  const fo = c.obj(models.forest, 'models.forest');
  c.num(fo.floor, 'models.forest.floor', 0);
  for (const [op, m] of Object.entries(c.obj(fo.ops, 'models.forest.ops'))) {
    const o = c.obj(m, `models.forest.ops.${op}`);
    if (o.forest === undefined) c.num(o.constant, `models.forest.ops.${op}.constant`);
    else c.arr(c.obj(c.obj(o.forest, `models.forest.ops.${op}.forest`).baseModel, `models.forest.ops.${op}.forest.baseModel`).estimators, `models.forest.ops.${op}.forest.baseModel.estimators`);
  }
  return p as unknown as PredictorFile;
}
