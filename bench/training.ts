// Training throughput of a model through Tandem's real training loop (data prep, workers, optimizer),
// timed per step from progress events; the first `warmup` steps are excluded.
import type { Graph } from '../compiler/ir/types.js';
import type { BackendChoice } from '../compiler/train/backend.js';
import type { Dataset } from '../compiler/train/dataset.js';
import { train } from '../compiler/train/trainer.js';
import { median } from './stats.js';

export interface TrainingThroughput {
  readonly label: string;
  readonly backend: string;
  readonly workers: number;
  readonly batch: number;
  readonly steps: number;
  readonly medianStepMs: number;
  readonly imgPerSec: number;
  /** 3 x forward FLOPs (2 x MACs) x img/s. */
  readonly effectiveGflops: number;
}

export async function trainingThroughput(
  label: string,
  graph: Graph,
  macs: number,
  data: Dataset,
  o: { backend: BackendChoice; registerKernels: boolean; workers: number; batch: number; steps: number; warmup: number },
): Promise<TrainingThroughput> {
  const stamps: number[] = [];
  await train(
    graph,
    data,
    undefined,
    { epochs: 1, batchSize: o.batch, optimizer: { kind: 'sgd', momentum: 0.9 }, schedule: { kind: 'constant', lr: 0.01 }, loss: 'crossEntropy', seed: 1 },
    { workers: o.workers, backend: o.backend, registerKernels: o.registerKernels, maxSteps: o.warmup + o.steps, onProgress: () => stamps.push(performance.now()) },
  );
  const dts = stamps.slice(o.warmup).map((t, i) => t - stamps[o.warmup + i - 1]);
  const ms = median(dts);
  const ips = o.batch / (ms / 1000);
  return { label, backend: o.backend, workers: o.workers, batch: o.batch, steps: o.steps, medianStepMs: ms, imgPerSec: ips, effectiveGflops: (ips * 6 * macs) / 1e9 };
}
