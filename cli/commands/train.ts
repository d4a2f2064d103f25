// `tandem train <model>`: train a reference architecture with its recipe (or a model file with
// flags), resumable from checkpoints; evaluates on the test set and saves a Tandem model dir.
import { existsSync } from 'node:fs';
import { saveGraph } from '../../compiler/ir/serialize.js';
import { RECIPES, type Recipe } from '../../compiler/models/recipes.js';
import { isReferenceName, REFERENCE_MODELS } from '../../compiler/models/reference.js';
import { resolveModel, type Task, taskOf } from '../../compiler/models/registry.js';
import { initBackend } from '../../compiler/train/backend.js';
import { shiftFlip } from '../../compiler/train/dataset.js';
import { evaluate } from '../../compiler/train/evaluate.js';
import { train } from '../../compiler/train/trainer.js';
import type { Graph } from '../../compiler/ir/types.js';
import { cliProgress, interruptSignal } from '../progress.js';
import { type DataOptions, fashionMnistSplits } from './data.js';

export interface TrainFlags extends DataOptions {
  out?: string;
  checkpoint?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: 'sgd' | 'adam';
  seed?: number;
  workers?: number;
  trainLimit?: number;
  from?: string;
  json?: boolean;
}

const DEFAULT_RECIPE: Recipe = {
  epochs: 5,
  batchSize: 128,
  optimizer: { kind: 'adam' },
  schedule: { kind: 'cosine', lr: 1e-3 },
  loss: 'crossEntropy',
  seed: 0,
  valFraction: 1 / 12,
  augment: 'none',
};

export async function trainCommand(model: string, f: TrainFlags): Promise<void> {
  let graph: Graph;
  let task: Task;
  let base: Recipe;
  if (isReferenceName(model)) {
    base = RECIPES[model];
    task = REFERENCE_MODELS[model].task;
    graph = f.from ? (await resolveModel(f.from)).graph : REFERENCE_MODELS[model].build(f.seed ?? base.seed);
  } else {
    graph = (await resolveModel(model)).graph;
    task = taskOf(graph);
    base = { ...DEFAULT_RECIPE, loss: task === 'classification' ? 'crossEntropy' : 'mse' };
  }
  const recipe: Recipe = {
    ...base,
    ...(f.epochs !== undefined ? { epochs: f.epochs } : {}),
    ...(f.batchSize !== undefined ? { batchSize: f.batchSize } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
    ...(f.trainLimit !== undefined ? { trainLimit: f.trainLimit } : {}),
    ...(f.optimizer ? { optimizer: f.optimizer === 'sgd' ? { kind: 'sgd', momentum: 0.9 } : { kind: 'adam' } } : {}),
    ...(f.lr !== undefined ? { schedule: { ...base.schedule, lr: f.lr } } : {}),
  };
  const out = f.out ?? `out/${graph.name}`;
  const checkpointDir = f.checkpoint ?? `${out}.ckpt`;
  const progress = cliProgress({ quiet: !!f.json });
  const signal = interruptSignal();
  const backend = await initBackend();
  const data = await fashionMnistSplits(task, { ...f, splitSeed: recipe.seed, valFraction: recipe.valFraction, noiseSeed: recipe.seed, sigma: recipe.sigma, trainLimit: recipe.trainLimit, signal, onProgress: progress.update });
  if (!f.json) process.stderr.write(`training ${graph.name} on ${data.train.size} images (val ${data.val.size}) with ${backend.name}; checkpoints in ${checkpointDir}${existsSync(checkpointDir) ? ' (resuming)' : ''}\n`);
  const result = await train(
    graph,
    data.train,
    data.val,
    { epochs: recipe.epochs, batchSize: recipe.batchSize, optimizer: recipe.optimizer, schedule: recipe.schedule, loss: recipe.loss, seed: recipe.seed, patience: recipe.patience },
    {
      workers: f.workers,
      augment: recipe.augment === 'shift-flip' ? shiftFlip(2) : undefined,
      checkpointDir,
      checkpointEvery: 50,
      signal,
      onProgress: progress.update,
      onEpoch: (e) => {
        if (f.json) return;
        progress.stop();
        const val = e.valAccuracy !== undefined ? `val acc ${(100 * e.valAccuracy).toFixed(2)}%` : `val loss ${e.valLoss?.toFixed(6)}`;
        process.stderr.write(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, ${val}, ${e.samplesPerSecond.toFixed(1)} img/s\n`);
      },
    },
  );
  progress.stop();
  const test = await evaluate(result.graph, data.test, task, { workers: f.workers, signal, onProgress: progress.update });
  progress.stop();
  const meta = {
    ...(graph.meta ?? {}),
    task,
    recipe,
    seed: recipe.seed,
    trainedAt: new Date().toISOString(),
    backend: backend.name,
    bestEpoch: result.bestEpoch,
    history: result.history,
    test,
    data: data.sourceDir,
  };
  await saveGraph(out, { ...result.graph, meta });
  const summary = { model: graph.name, out, bestEpoch: result.bestEpoch, test, samplesPerSecond: result.samplesPerSecond, resumedFrom: result.resumedFrom };
  process.stdout.write(f.json ? JSON.stringify(summary) + '\n' : `saved ${out}: ${JSON.stringify(test)}\n`);
}
