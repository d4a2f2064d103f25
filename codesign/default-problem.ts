// The embedded default job (`npm start`): fmnist-vgg on Fashion-MNIST, energy on the rram-128 accelerator
// preset and latency measured on the emulated Cortex-M4 board (QEMU), hardware-aware greedy allocation by
// simulated energy, a reduced search space and a short time budget, so it finishes in about ten minutes on a
// 2-core machine (docs/codesign.md has the measured times).
import type { Problem } from './problem.js';

export const DEFAULT_JOB: Problem = {
  model: 'fmnist-vgg',
  dataset: 'fashion-mnist',
  accuracy: { maxDropPp: 1.5, images: 1000 },
  objectives: [
    { metric: 'energy', on: 'rram-128' },
    { metric: 'latency', on: 'qemu', surrogate: 'predictor:bench/latency/qemu.json' },
  ],
  budgets: [],
  space: { layers: [], decompositions: ['tucker2', 'cp', 'svd'], ranks: [0.5, 0.25], prune: [0.5] },
  search: { strategy: 'greedy', cost: 'energy:rram-128' },
  finetune: { images: 1024, lr: 0.005 },
  calib: 128,
  limits: { candidates: 5, minutes: 7 },
  seed: 1,
};
