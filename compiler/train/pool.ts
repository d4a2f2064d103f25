// Data-parallel replicas: each worker thread computes gradients on its share of the batch;
// the pool averages them. Parameters live in one SharedArrayBuffer the trainer updates in place.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Graph, OpKind } from '../ir/types.js';
import { serializeGraph } from '../ir/serialize.js';
import { concatFloat32 } from '../util/arrays.js';
import { type BackendChoice, initBackend } from './backend.js';
import { type ParamLayout, packParams } from './flat-params.js';
import type { AcceleratorSpec } from './accelerator.js';
import { type Distillation, type LossKind, Replica } from './replica.js';
import type { WorkerInit, WorkerRequest } from './worker.js';

export interface PoolOptions {
  readonly loss: LossKind;
  readonly frozen?: readonly string[];
  /** 0 = in-process (no threads); default: one per core, or in-process with tfjs-node. */
  readonly workers?: number;
  readonly backend?: BackendChoice;
  readonly registerKernels?: boolean;
  /** An accelerator model in every forward pass (train/accelerator.ts). */
  readonly accelerator?: AcceleratorSpec;
  /** Knowledge distillation from a teacher model (replica.ts). */
  readonly distill?: Distillation;
}

export interface PoolStep {
  readonly loss: number;
  readonly correct: number;
  /** Averaged over the whole batch. */
  readonly grad: Float32Array;
  /** Combined BN batch statistics (means, and variances of the whole batch). */
  readonly stats: Float32Array;
}

type Reply = { ok: true; loss?: number; correct?: number; stats?: Float32Array; out?: Float32Array; ready?: boolean } | { ok: false; error: string };

class WorkerHandle {
  private waiting?: { resolve: (r: Reply) => void; reject: (e: Error) => void };
  readonly ready: Promise<void>;

  constructor(
    private readonly worker: Worker,
    readonly grad: Float32Array,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.waiting = { resolve: () => resolve(), reject };
    });
    worker.on('message', (r: Reply) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (!w) return;
      if (r.ok) w.resolve(r);
      else w.reject(new Error(`training worker: ${r.error}`));
    });
    worker.on('error', (e) => this.waiting?.reject(e));
    worker.on('exit', (code) => this.waiting?.reject(new Error(`training worker exited with code ${code}`)));
  }

  request(req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.worker.postMessage(req, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Native TensorFlow already uses every core; the single-threaded backends get one worker per core. */
async function defaultWorkers(opts: PoolOptions): Promise<number> {
  const info = await initBackend(opts.backend ?? 'auto', { registerKernels: opts.registerKernels });
  return info.name === 'tensorflow' ? 0 : availableParallelism();
}

export class ReplicaPool {
  private constructor(
    readonly layout: ParamLayout,
    /** Shared parameters: write updates here between steps. */
    readonly params: Float32Array,
    private readonly sampleSize: number,
    private readonly targetSize: number,
    private readonly bnChannels: readonly number[],
    private readonly workers: WorkerHandle[],
    private readonly local?: { replica: Replica; grad: Float32Array },
  ) {}

  static async create(graph: Graph, layout: ParamLayout, targetSize: number, opts: PoolOptions): Promise<ReplicaPool> {
    const n = opts.workers ?? (await defaultWorkers(opts));
    const params = new Float32Array(new SharedArrayBuffer(layout.size * 4));
    packParams(graph, layout, params);
    const sampleSize = graph.inputs[0].shape.reduce((a, b) => a * b, 1);
    const bnChannels = graph.nodes.filter((nd) => nd.op === OpKind.BatchNorm).map((nd) => nd.weights.mean.data.length);
    if (n === 0) {
      await initBackend(opts.backend ?? 'auto', { registerKernels: opts.registerKernels });
      const replica = new Replica(graph, layout, opts.loss, opts.accelerator, opts.distill);
      return new ReplicaPool(layout, params, sampleSize, targetSize, bnChannels, [], { replica, grad: new Float32Array(layout.size) });
    }
    const { json, weights } = serializeGraph(graph);
    const teacher = opts.distill && serializeGraph(opts.distill.teacher);
    const distill = teacher && { graphJson: teacher.json, weights: teacher.weights, alpha: opts.distill!.alpha, temperature: opts.distill!.temperature };
    const handles: WorkerHandle[] = [];
    for (let i = 0; i < n; i++) {
      const grad = new SharedArrayBuffer(layout.size * 4);
      const init: WorkerInit = {
        graphJson: json,
        weights,
        frozen: opts.frozen ?? [],
        loss: opts.loss,
        backend: opts.backend ?? 'auto',
        registerKernels: opts.registerKernels ?? true,
        params: params.buffer as SharedArrayBuffer,
        grad,
        accelerator: opts.accelerator,
        distill,
      };
      handles.push(new WorkerHandle(new Worker(new URL('./worker.js', import.meta.url), { workerData: init }), new Float32Array(grad)));
    }
    const pool = new ReplicaPool(layout, params, sampleSize, targetSize, bnChannels, handles);
    try {
      await Promise.all(handles.map((h) => h.ready));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return Math.max(1, this.workers.length);
  }

  private shards(n: number): { start: number; count: number }[] {
    const k = Math.min(this.size, n);
    return Array.from({ length: k }, (_, i) => {
      const start = Math.floor((i * n) / k);
      return { start, count: Math.floor(((i + 1) * n) / k) - start };
    });
  }

  /** Gradient of the mean loss over the n samples in x/y. */
  async step(x: Float32Array, y: Float32Array, n: number, seed: number): Promise<PoolStep> {
    if (this.local) {
      const r = this.local.replica.step(this.params, x, y, n, seed, this.local.grad);
      return { loss: r.loss, correct: r.correct, grad: this.local.grad, stats: r.stats };
    }
    const shards = this.shards(n);
    const replies = await Promise.all(
      shards.map((s, i) =>
        this.workers[i].request({
          type: 'step',
          x: x.slice(s.start * this.sampleSize, (s.start + s.count) * this.sampleSize),
          y: y.slice(s.start * this.targetSize, (s.start + s.count) * this.targetSize),
          n: s.count,
          seed: seed * 65537 + i,
        }),
      ),
    );
    const grad = new Float32Array(this.layout.size);
    const means = new Float32Array(2 * this.bnChannels.reduce((a, c) => a + c, 0));
    let loss = 0;
    let correct = 0;
    shards.forEach((s, i) => {
      const w = s.count / n;
      const g = this.workers[i].grad;
      for (let j = 0; j < grad.length; j++) grad[j] += w * g[j];
      const r = replies[i] as { loss: number; correct: number; stats: Float32Array };
      loss += w * r.loss;
      correct += r.correct;
      for (let j = 0; j < means.length; j++) means[j] += w * r.stats[j];
    });
    // Means combine linearly; variances need the spread of the shard means (law of total variance).
    const stats = this.combineStats(shards, replies as { stats: Float32Array }[], means, n);
    return { loss, correct, grad, stats };
  }

  private combineStats(shards: { count: number }[], replies: { stats: Float32Array }[], avg: Float32Array, n: number): Float32Array {
    if (shards.length === 1) return replies[0].stats;
    const out = new Float32Array(replies[0].stats.length);
    // QAT ranges after the BN statistics: [min, max] pairs, the batch's are the extremes of the shards'
    for (let j = avg.length; j < out.length; j += 2) {
      out[j] = Math.min(...replies.map((r) => r.stats[j]));
      out[j + 1] = Math.max(...replies.map((r) => r.stats[j + 1]));
    }
    // Per BN node: C means then C variances. The batch variance is the weighted mean of shard
    // variances plus the spread of the shard means (law of total variance).
    let o = 0;
    for (const c of this.bnChannels) {
      for (let ch = 0; ch < c; ch++) {
        const mu = avg[o + ch];
        let v = 0;
        shards.forEach((s, i) => {
          const d = replies[i].stats[o + ch] - mu;
          v += (s.count / n) * (replies[i].stats[o + c + ch] + d * d);
        });
        out[o + ch] = mu;
        out[o + c + ch] = v;
      }
      o += 2 * c;
    }
    return out;
  }

  /** Inference (graph output 0) on n samples, split over the workers. */
  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    if (this.local) return this.local.replica.predict(this.params, x, n);
    const shards = this.shards(n);
    const outs = await Promise.all(
      shards.map((s, i) => this.workers[i].request({ type: 'predict', x: x.slice(s.start * this.sampleSize, (s.start + s.count) * this.sampleSize), n: s.count })),
    );
    return concatFloat32(outs.map((r) => (r as { out: Float32Array }).out));
  }

  async close(): Promise<void> {
    this.local?.replica.dispose();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
