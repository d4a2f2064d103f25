// Fine-tuning a compressed network with the foundation's engine: a short, gentle version of the
// reference recipes, with some layers optionally frozen (Two-Pass keeps decomposed layers fixed).
import type { Graph } from '../../ir/types.js';
import type { Recipe } from '../../models/recipes.js';
import { type Augment, type Dataset, shiftFlip } from '../../train/dataset.js';
import type { Distillation } from '../../train/replica.js';
import { type Regularizer, train } from '../../train/trainer.js';
import type { ProgressFn } from '../../util/progress.js';
import { mixSeed, Rng } from '../../util/rng.js';

export type Task = 'classification' | 'denoising';

/** Fine-tuning recipes: a tenth of the reference peak learning rates, short warm-up. */
export const FINETUNE: Readonly<Record<Task, Omit<Recipe, 'seed' | 'epochs' | 'valFraction'>>> = {
  classification: {
    batchSize: 128,
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { kind: 'cosine', lr: 0.01, warmupSteps: 50 },
    loss: 'crossEntropy',
    augment: 'shift-flip',
  },
  denoising: {
    batchSize: 64,
    optimizer: { kind: 'adam', weightDecay: 0 },
    schedule: { kind: 'cosine', lr: 3e-4, warmupSteps: 50 },
    loss: 'mse',
    augment: 'none',
  },
};

export interface FinetuneOptions {
  readonly task: Task;
  readonly train: Dataset;
  readonly val?: Dataset;
  /** Epochs; fractions train on that share of one epoch's images. */
  readonly epochs: number;
  readonly seed: number;
  /** Origins (original layer ids) or node ids to keep fixed. */
  readonly frozen?: readonly string[];
  readonly lr?: number;
  readonly workers?: number;
  readonly checkpointDir?: string;
  /** A sparsity penalty (pruning's slim / ssl training). */
  readonly regularizer?: Regularizer;
  /** Distil from this teacher (the model before compression), classification only. */
  readonly distill?: Distillation;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
}

function randomShare(d: Dataset, n: number, seed: number): Dataset {
  const pick = new Rng(mixSeed(seed, 0x5a4e)).shuffle(Int32Array.from({ length: d.size }, (_, i) => i)).subarray(0, n);
  return { ...d, size: n, fill: (indices, x, y) => d.fill(Array.from(indices, (i) => pick[i]), x, y) };
}

export async function finetune(graph: Graph, o: FinetuneOptions): Promise<Graph> {
  if (o.epochs <= 0) return graph;
  const r = FINETUNE[o.task];
  const whole = Math.max(1, Math.ceil(o.epochs));
  // A fractional budget trains on a seeded random share of the training split (a different share per
  // seed, so that successive stages of a multi-stage run do not all see the same images).
  const train_ = o.epochs < 1 ? randomShare(o.train, Math.max(r.batchSize, Math.floor(o.train.size * o.epochs)), o.seed) : o.train;
  const augment: Augment | undefined = r.augment === 'shift-flip' ? shiftFlip(2) : undefined;
  const result = await train(
    graph,
    train_,
    o.val,
    {
      epochs: whole,
      batchSize: r.batchSize,
      optimizer: r.optimizer,
      schedule: o.lr !== undefined ? { ...r.schedule, lr: o.lr } : r.schedule,
      loss: r.loss,
      seed: o.seed,
      frozen: o.frozen,
    },
    { workers: o.workers, augment, checkpointDir: o.checkpointDir, checkpointEvery: o.checkpointDir ? 50 : undefined, regularizer: o.regularizer, distill: o.distill, signal: o.signal, onProgress: o.onProgress },
  );
  return result.graph;
}
