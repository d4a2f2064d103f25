// Fashion-MNIST as the CLI's commands need it.
import { allOf, classificationSet, denoisingSet, loadFashionMnist, splitTrainVal } from '../../compiler/data/index.js';
import type { Task } from '../../compiler/models/registry.js';
import type { Dataset } from '../../compiler/train/dataset.js';
import type { ProgressFn } from '../../compiler/util/progress.js';

export interface DataOptions {
  readonly data?: string;
  readonly download?: boolean;
}

export interface Splits {
  readonly train: Dataset;
  readonly val: Dataset;
  readonly test: Dataset;
  readonly sourceDir: string;
}

export async function fashionMnistSplits(
  task: Task,
  o: DataOptions & { splitSeed: number; valFraction: number; noiseSeed?: number; sigma?: number; trainLimit?: number; onProgress?: ProgressFn; signal?: AbortSignal },
): Promise<Splits> {
  const fm = await loadFashionMnist({ dataDir: o.data, download: o.download ?? true, onProgress: o.onProgress, signal: o.signal });
  const { train, val } = splitTrainVal(fm.train, { seed: o.splitSeed, valFraction: o.valFraction });
  const trainSub = o.trainLimit ? { ...train, indices: train.indices.subarray(0, o.trainLimit) } : train;
  const test = allOf(fm.test);
  // Different noise seeds per split so validation/test noise is never seen in training.
  const make = (s: typeof train, k: number) => (task === 'classification' ? classificationSet(s) : denoisingSet(s, { seed: (o.noiseSeed ?? 0) * 3 + k, sigma: o.sigma }));
  return { train: make(trainSub, 0), val: make(val, 1), test: make(test, 2), sourceDir: fm.sourceDir };
}
