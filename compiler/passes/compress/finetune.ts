// Fine-tuning a compressed network with the foundation's engine: a short, gentle version of the
// reference recipes, with some layers optionally frozen (Two-Pass keeps decomposed layers fixed).
import type { Graph } from '../../ir/types.js';
import type { Recipe } from '../../models/recipes.js';
import { type Augment, type Dataset, shiftFlip } from '../../train/dataset.js';
import { type Regularizer, train } from '../../train/trainer.js';
import type { ProgressFn } from '../../util/progress.js';

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
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
}

export async function finetune(graph: Graph, o: FinetuneOptions): Promise<Graph> {
  if (o.epochs <= 0) return graph;
  const r = FINETUNE[o.task];
  const whole = Math.max(1, Math.ceil(o.epochs));
  // A fractional budget trains on a prefix of the (already shuffled) training split.
  const train_ = o.epochs < 1 ? { ...o.train, size: Math.max(r.batchSize, Math.floor(o.train.size * o.epochs)) } : o.train;
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
    { workers: o.workers, augment, checkpointDir: o.checkpointDir, checkpointEvery: o.checkpointDir ? 50 : undefined, regularizer: o.regularizer, signal: o.signal, onProgress: o.onProgress },
  );
  return result.graph;
}
