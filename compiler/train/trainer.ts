// The training loop: data-parallel gradients (pool.ts), flat-array optimizer, LR schedule,
// BatchNorm running statistics, validation, early stopping, checkpoints, progress and cancel.
import { createHash } from 'node:crypto';
import { RANGE_MOMENTUM } from '../passes/quantize/qat-ranges.js';
import { printGraph } from '../ir/print.js';
import { type Graph, OpKind, QAT_RANGE_WEIGHT } from '../ir/types.js';
import { CancelledError, type ProgressFn } from '../util/progress.js';
import { mixSeed, Rng } from '../util/rng.js';
import type { BackendChoice } from './backend.js';
import type { AcceleratorSpec } from './accelerator.js';
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { Augment, Dataset } from './dataset.js';
import { type ParamLayout, paramLayout, unpackParams } from './flat-params.js';
import { applyUpdate, newOptimizerState, type OptimizerConfig } from './optimizer.js';
import { ReplicaPool } from './pool.js';
import type { Distillation, LossKind } from './replica.js';
import { learningRate, type LrSchedule } from './schedule.js';

export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerConfig;
  readonly schedule: LrSchedule;
  readonly loss: LossKind;
  readonly seed: number;
  /** Node ids or origins whose weights stay fixed. */
  readonly frozen?: readonly string[];
  /** Stop when the validation metric has not improved for this many epochs. */
  readonly patience?: number;
}

export interface TrainOptions {
  /** Worker threads (0 = in-process); default one per core. */
  readonly workers?: number;
  readonly augment?: Augment;
  /** Resume from and write checkpoints here. */
  readonly checkpointDir?: string;
  /** Also checkpoint every this many steps (default: only at epoch ends). */
  readonly checkpointEvery?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  readonly onEpoch?: (e: EpochRecord) => void;
  /** Plain tfjs without Tandem's kernels, or a forced backend (benchmark baselines). */
  readonly registerKernels?: boolean;
  readonly backend?: BackendChoice;
  /** Stop after this many steps in total (benchmarks); the result is the current weights. */
  readonly maxSteps?: number;
  /** A penalty on the weights (sparsity training): its gradient and/or a proximal step per update. */
  readonly regularizer?: Regularizer;
  /** Train with an accelerator model in the forward pass (hardware-aware training). */
  readonly accelerator?: AcceleratorSpec;
  /** Knowledge distillation from a teacher (classification). */
  readonly distill?: Distillation;
}

/**
 * A penalty on the weights applied in the main thread on the flat parameters, so that every replica
 * stays a plain forward/backward: `grad` adds the penalty's (sub)gradient before the optimizer step,
 * `prox` runs after it (e.g. soft-thresholding, which lets groups reach exact zero).
 */
export interface Regularizer {
  /** Identifies the penalty and its strength in checkpoints. */
  readonly name: string;
  grad?(params: Float32Array, grad: Float32Array, layout: ParamLayout): void;
  prox?(params: Float32Array, layout: ParamLayout, lr: number): void;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly trainAccuracy?: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
  readonly lr: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
}

export interface TrainResult {
  /** Weights of the best validation epoch (or the last, without validation). */
  readonly graph: Graph;
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: number;
  readonly resumedFrom?: { epoch: number; stepInEpoch: number };
  readonly steps: number;
  readonly samplesPerSecond: number;
}

/** Identifies (model structure, config) so a checkpoint is never resumed into something else. */
function fingerprint(graph: Graph, cfg: TrainConfig, trainSize: number, extra = ''): string {
  return createHash('sha256').update(printGraph(graph)).update(JSON.stringify(cfg)).update(String(trainSize)).update(extra).digest('hex').slice(0, 16);
}

function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return new Rng(mixSeed(seed, epoch)).shuffle(idx);
}

/** Moving averages of BatchNorm statistics (Keras momentum convention, unbiased batch variance) and QAT ranges. */
function updateRunningStats(graph: Graph, layout: ParamLayout, params: Float32Array, stats: Float32Array, batch: number): void {
  let o = 0;
  for (const n of graph.nodes) {
    if (n.op !== OpKind.BatchNorm) continue;
    const m = n.attrs.momentum;
    const mean = layout.slots.find((s) => s.node === n.id && s.name === 'mean')!;
    const variance = layout.slots.find((s) => s.node === n.id && s.name === 'variance')!;
    const c = mean.length;
    const unbias = batch > 1 ? batch / (batch - 1) : 1;
    for (let i = 0; i < c; i++) {
      params[mean.offset + i] = m * params[mean.offset + i] + (1 - m) * stats[o + i];
      params[variance.offset + i] = m * params[variance.offset + i] + (1 - m) * stats[o + c + i] * unbias;
    }
    o += 2 * c;
  }
  // QAT ranges (passes/quantize/qat-ranges.ts), in the replica's order
  for (const s of layout.slots) {
    if (s.name !== QAT_RANGE_WEIGHT) continue;
    for (let k = 0; k < 2; k++) params[s.offset + k] = RANGE_MOMENTUM * params[s.offset + k] + (1 - RANGE_MOMENTUM) * stats[o + k];
    o += 2;
  }
}

export interface Evaluation {
  readonly loss: number;
  readonly accuracy?: number;
}

/** Loss (and accuracy for classification) of the pool's current weights on a dataset. */
export async function evaluatePool(pool: ReplicaPool, data: Dataset, loss: LossKind, graph: Graph, chunk = 500): Promise<Evaluation> {
  const per = data.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(chunk * per);
  const y = new Float32Array(chunk * data.targetSize);
  const probabilities = graph.nodes.find((n) => n.id === graph.outputs[0])?.op === OpKind.Softmax;
  let total = 0;
  let correct = 0;
  for (let s = 0; s < data.size; s += chunk) {
    const n = Math.min(chunk, data.size - s);
    const idx = Array.from({ length: n }, (_, i) => s + i);
    data.fill(idx, x, y);
    const out = await pool.predict(x, n);
    if (loss === 'mse') {
      for (let i = 0; i < n * data.targetSize; i++) total += (out[i] - y[i]) ** 2;
      continue;
    }
    const k = out.length / n;
    for (let b = 0; b < n; b++) {
      const row = out.subarray(b * k, (b + 1) * k);
      const label = y[b];
      let arg = 0;
      for (let j = 1; j < k; j++) if (row[j] > row[arg]) arg = j;
      if (arg === label) correct++;
      // Softmax outputs are probabilities; otherwise the outputs are logits (log-sum-exp from the max).
      let p = row[label];
      if (!probabilities) {
        let z = 0;
        for (let j = 0; j < k; j++) z += Math.exp(row[j] - row[arg]);
        p = Math.exp(row[label] - row[arg]) / z;
      }
      total += -Math.log(Math.max(p, 1e-12));
    }
  }
  return loss === 'mse' ? { loss: total / (data.size * data.targetSize) } : { loss: total / data.size, accuracy: correct / data.size };
}

export async function train(graph: Graph, trainSet: Dataset, valSet: Dataset | undefined, cfg: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const layout = paramLayout(graph, new Set(cfg.frozen ?? []));
  const stepsPerEpoch = Math.ceil(trainSet.size / cfg.batchSize);
  const totalSteps = stepsPerEpoch * cfg.epochs;
  const d = opts.distill;
  const fp = fingerprint(graph, cfg, trainSet.size, (opts.regularizer?.name ?? '') + (opts.accelerator ? JSON.stringify(opts.accelerator) : '') + (d ? `distill ${d.teacher.name} ${d.alpha} ${d.temperature}` : ''));
  const pool = await ReplicaPool.create(graph, layout, trainSet.targetSize, {
    loss: cfg.loss,
    frozen: cfg.frozen,
    workers: opts.workers,
    registerKernels: opts.registerKernels,
    backend: opts.backend,
    accelerator: opts.accelerator,
    distill: opts.distill,
  });
  const opt = newOptimizerState(cfg.optimizer, layout.size);
  const history: EpochRecord[] = [];
  let best: { epoch: number; metric: number } | undefined;
  let bestParams: Float32Array | undefined;
  let epoch = 0;
  let stepInEpoch = 0;
  let globalStep = 0;
  let resumedFrom: TrainResult['resumedFrom'];

  if (opts.checkpointDir) {
    const ck = await loadCheckpoint(opts.checkpointDir);
    if (ck) {
      if (ck.meta.fingerprint !== fp) {
        await pool.close();
        throw new Error(`${opts.checkpointDir}: checkpoint belongs to a different model, config or dataset (fingerprint ${ck.meta.fingerprint}, expected ${fp}); remove it or choose another --checkpoint dir`);
      }
      pool.params.set(ck.params);
      opt.m.set(ck.m);
      opt.v.set(ck.v);
      opt.step = ck.meta.optimizerStep;
      epoch = ck.meta.epoch;
      stepInEpoch = ck.meta.stepInEpoch;
      globalStep = ck.meta.globalStep;
      history.push(...(ck.meta.history as EpochRecord[]));
      best = ck.meta.best;
      bestParams = ck.bestParams?.slice();
      resumedFrom = { epoch, stepInEpoch };
    }
  }

  /** `at` is where a resumed run continues. */
  const save = async (at: { epoch: number; stepInEpoch: number }) => {
    if (!opts.checkpointDir) return;
    const ck: Checkpoint = {
      meta: { fingerprint: fp, epoch: at.epoch, stepInEpoch: at.stepInEpoch, globalStep, optimizerStep: opt.step, history, best, savedAt: new Date().toISOString() },
      params: pool.params,
      m: opt.m,
      v: opt.v,
      bestParams,
    };
    await saveCheckpoint(opts.checkpointDir, ck);
  };

  const per = trainSet.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(cfg.batchSize * per);
  const y = new Float32Array(cfg.batchSize * trainSet.targetSize);
  const imageTargets = trainSet.targetSize === per;
  let stepsRun = 0;
  const t0 = performance.now();
  let stopped = false;
  try {
    for (; epoch < cfg.epochs && !stopped; epoch++, stepInEpoch = 0) {
      const order = epochOrder(trainSet.size, cfg.seed, epoch);
      const te = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let lr = 0;
      for (; stepInEpoch < stepsPerEpoch; stepInEpoch++) {
        if (opts.signal?.aborted) {
          await save({ epoch, stepInEpoch });
          throw new CancelledError(`training cancelled at epoch ${epoch + 1}, step ${stepInEpoch}${opts.checkpointDir ? ` (checkpoint in ${opts.checkpointDir})` : ''}`);
        }
        const s0 = stepInEpoch * cfg.batchSize;
        const n = Math.min(cfg.batchSize, trainSet.size - s0);
        trainSet.fill(order.subarray(s0, s0 + n), x, y);
        // Seeded per step so a resumed run augments exactly as an uninterrupted one.
        opts.augment?.(x, imageTargets ? y : undefined, n, trainSet.inputShape, new Rng(mixSeed(cfg.seed, 0xa06, globalStep)));
        const r = await pool.step(x, y, n, (cfg.seed + globalStep) >>> 0);
        if (!Number.isFinite(r.loss)) throw new Error(`training diverged: loss is ${r.loss} at epoch ${epoch + 1}, step ${stepInEpoch} (lower the learning rate)`);
        lr = learningRate(cfg.schedule, globalStep, totalSteps);
        opts.regularizer?.grad?.(pool.params, r.grad, layout);
        applyUpdate(cfg.optimizer, opt, layout, pool.params, r.grad, lr);
        opts.regularizer?.prox?.(pool.params, layout, lr);
        updateRunningStats(graph, layout, pool.params, r.stats, n);
        lossSum += r.loss * n;
        correct += r.correct;
        seen += n;
        globalStep++;
        stepsRun++;
        const rate = seen / ((performance.now() - te) / 1000);
        opts.onProgress?.({
          phase: 'train',
          done: globalStep,
          total: totalSteps,
          message: `epoch ${epoch + 1}/${cfg.epochs} loss ${(lossSum / seen).toFixed(4)}${cfg.loss === 'crossEntropy' ? ` acc ${((100 * correct) / seen).toFixed(2)}%` : ''} ${rate.toFixed(0)} img/s`,
        });
        if (opts.checkpointEvery && globalStep % opts.checkpointEvery === 0) await save({ epoch, stepInEpoch: stepInEpoch + 1 });
        if (opts.maxSteps && stepsRun >= opts.maxSteps) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      const seconds = (performance.now() - te) / 1000;
      const val = valSet ? await evaluatePool(pool, valSet, cfg.loss, graph) : undefined;
      const rec: EpochRecord = {
        epoch: epoch + 1,
        trainLoss: seen ? lossSum / seen : NaN,
        ...(cfg.loss === 'crossEntropy' && seen ? { trainAccuracy: correct / seen } : {}),
        ...(val ? { valLoss: val.loss, valAccuracy: val.accuracy } : {}),
        lr,
        seconds,
        samplesPerSecond: seen / seconds,
      };
      history.push(rec);
      opts.onEpoch?.(rec);
      // Higher is better: accuracy for classification, -loss otherwise.
      const metric = val ? (val.accuracy ?? -val.loss) : -rec.trainLoss;
      if (!best || metric > best.metric) {
        best = { epoch: epoch + 1, metric };
        bestParams = pool.params.slice();
      }
      const patience = cfg.patience;
      if (patience !== undefined && epoch + 1 - best.epoch >= patience) stopped = true;
      await save({ epoch: epoch + 1, stepInEpoch: 0 });
    }
    const finalParams = opts.maxSteps || !bestParams ? pool.params.slice() : bestParams;
    return {
      graph: unpackParams(graph, layout, finalParams),
      history,
      bestEpoch: best?.epoch ?? epoch,
      resumedFrom,
      steps: stepsRun,
      samplesPerSecond: history.length ? history.at(-1)!.samplesPerSecond : (stepsRun * cfg.batchSize) / ((performance.now() - t0) / 1000),
    };
  } finally {
    await pool.close();
  }
}
