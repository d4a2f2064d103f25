// Fits every predictor on a seeded split of a dataset by variant (held-out variants are never seen in
// training, not even their layers) and scores them on the held-out variants: per layer and per model.
import { Rng } from '../../compiler/util/rng.js';
import type { Dataset, DatasetVariant } from './dataset.js';
import { configKey, FEATURE_NAMES } from './features.js';
import { fitForest } from './forest.js';
import { fitLut } from './lut.js';
import { accuracy } from './metrics.js';
import { type HeldOutRow, LatencyPredictor, METHODS, PREDICTOR_FORMAT, type PredictorFile } from './predictor.js';
import { leastSquares, ransacLine } from './ransac.js';

export interface FitOptions {
  readonly seed: number;
  /** Share of variants held out (default 0.2). */
  readonly testFraction?: number;
  readonly trees?: number;
  readonly maxDepth?: number;
  readonly datasetFile: string;
  readonly command: string;
}

/** Seeded Fisher-Yates over the variant ids; the first ⌈f·n⌉ are held out. */
export function splitVariants(variants: readonly DatasetVariant[], seed: number, testFraction: number): { train: DatasetVariant[]; test: DatasetVariant[] } {
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`test fraction ${testFraction} must be in (0, 1)`);
  const idx = variants.map((_, i) => i);
  const rng = new Rng(seed);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const k = Math.ceil(testFraction * variants.length);
  if (k >= variants.length) throw new Error(`${variants.length} variants: too few to hold out ${k} and still train`);
  return { test: idx.slice(0, k).map((i) => variants[i]), train: idx.slice(k).map((i) => variants[i]) };
}

const macsOf = (v: DatasetVariant) => v.layers.reduce((a, l) => a + l.f[9], 0);

export function fitPredictors(ds: Dataset, o: FitOptions): PredictorFile {
  const testFraction = o.testFraction ?? 0.2;
  const { train, test } = splitVariants(ds.variants, o.seed, testFraction);
  const layers = train.flatMap((v) => v.layers);
  const lut = fitLut(layers);
  // Fitted on the layers that have MACs: with the MAC-free ones (relu, pool: most layers) in the fit, RANSAC's
  // consensus is the flat line through them. MAC-free layers are then predicted the intercept.
  const withMacs = layers.filter((l) => l.f[9] > 0);
  const fl = ransacLine(
    withMacs.map((l) => l.f[9]),
    withMacs.map((l) => l.t),
    { seed: o.seed },
  );
  const forest = fitForest(layers, { seed: o.seed, trees: o.trees, maxDepth: o.maxDepth });
  const outside = leastSquares(
    train.map((v) => v.layers.length),
    train.map((v) => v.total - v.layers.reduce((a, l) => a + l.t, 0)),
  );
  // The classic baseline: the whole model's time as a line in its MACs.
  const modelLine = ransacLine(train.map(macsOf), train.map((v) => v.total), { seed: o.seed });
  const file: Omit<PredictorFile, 'heldOut' | 'lutCoverage'> = {
    format: PREDICTOR_FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    command: o.command,
    dataset: { file: o.datasetFile, target: ds.target, seed: ds.seed, variants: ds.variants.length },
    unit: ds.unit,
    ...(ds.clockHz ? { clockHz: ds.clockHz } : {}),
    featureNames: FEATURE_NAMES,
    split: { seed: o.seed, testFraction, train: train.length, test: test.map((v) => v.id) },
    default: 'forest',
    outside,
    models: { lut, 'flop-linear': { kind: 'flop-linear', line: { slope: fl.slope, intercept: fl.intercept }, inliers: fl.inliers }, forest },
  };
  const p = new LatencyPredictor({ ...file, heldOut: [] });
  const testLayers = test.flatMap((v) => v.layers);
  const heldOut: HeldOutRow[] = METHODS.map((m) => ({
    method: m,
    model: accuracy(
      test.map((v) => p.total(m, v.layers)),
      test.map((v) => v.total),
    ),
    layer: accuracy(
      p.layers(m, testLayers),
      testLayers.map((l) => l.t),
    ),
  }));
  heldOut.push({
    method: 'flop-linear-model',
    model: accuracy(
      test.map((v) => modelLine.slope * macsOf(v) + modelLine.intercept),
      test.map((v) => v.total),
    ),
  });
  const seen = new Set(lut.entries.map((e) => configKey(e.op, e.f)));
  const unseen = testLayers.filter((l) => !seen.has(configKey(l.op, l.f))).length;
  return { ...file, heldOut, lutCoverage: { testLayers: testLayers.length, unseenConfigs: unseen } };
}
