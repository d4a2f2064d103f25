// How each reference model is trained: the recipe is data, stored with the trained model's meta.
import type { TrainConfig } from '../train/trainer.js';
import type { ReferenceName } from './reference.js';

export interface Recipe extends Pick<TrainConfig, 'epochs' | 'batchSize' | 'optimizer' | 'schedule' | 'loss' | 'seed' | 'patience'> {
  /** Held out of the 60000 training images for validation (early stopping, best epoch). */
  readonly valFraction: number;
  readonly augment: 'none' | 'shift-flip';
  /** Train on only this many training images (the rest of the split is unused). */
  readonly trainLimit?: number;
  /** Noise level for denoising models, on the [0, 1] scale. */
  readonly sigma?: number;
}

/** The classifiers' recipe: SGD with Nesterov momentum, cosine decay, light augmentation. */
const CLASSIFIER: Omit<Recipe, 'seed'> = {
  epochs: 12,
  batchSize: 128,
  optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
  schedule: { kind: 'cosine', lr: 0.05, warmupSteps: 200 },
  loss: 'crossEntropy',
  valFraction: 1 / 12,
  augment: 'shift-flip',
};

export const RECIPES: Readonly<Record<ReferenceName, Recipe>> = {
  'fmnist-vgg': { ...CLASSIFIER, seed: 1 },
  'fmnist-resnet': { ...CLASSIFIER, epochs: 4, seed: 3 },
  'fmnist-dncnn': {
    epochs: 2,
    batchSize: 64,
    optimizer: { kind: 'adam', weightDecay: 0 },
    schedule: { kind: 'cosine', lr: 1e-3, warmupSteps: 100 },
    loss: 'mse',
    seed: 2,
    valFraction: 1 / 12,
    augment: 'none',
    trainLimit: 30000,
    sigma: 25 / 255,
  },
};
