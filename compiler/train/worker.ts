// Worker-thread entry: one Replica per thread, driven by ReplicaPool (pool.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { deserializeGraph } from '../ir/serialize.js';
import { type BackendChoice, initBackend } from './backend.js';
import { paramLayout } from './flat-params.js';
import type { AcceleratorSpec } from './accelerator.js';
import { type LossKind, Replica } from './replica.js';

export interface WorkerInit {
  readonly graphJson: string;
  readonly weights: Uint8Array;
  readonly frozen: readonly string[];
  readonly loss: LossKind;
  readonly backend: BackendChoice;
  readonly registerKernels: boolean;
  /** Shared parameters (read at each step) and this worker's own gradient buffer. */
  readonly params: SharedArrayBuffer;
  readonly grad: SharedArrayBuffer;
  readonly accelerator?: AcceleratorSpec;
  /** Distillation: the teacher serialized like the graph, and the loss mix. */
  readonly distill?: { readonly graphJson: string; readonly weights: Uint8Array; readonly alpha: number; readonly temperature: number };
}

export type WorkerRequest =
  | { readonly type: 'step'; readonly x: Float32Array; readonly y: Float32Array; readonly n: number; readonly seed: number }
  | { readonly type: 'predict'; readonly x: Float32Array; readonly n: number };

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  await initBackend(init.backend, { registerKernels: init.registerKernels });
  const graph = deserializeGraph(init.graphJson, init.weights, 'worker');
  const layout = paramLayout(graph, new Set(init.frozen));
  const d = init.distill;
  const distill = d && { teacher: deserializeGraph(d.graphJson, d.weights, 'teacher'), alpha: d.alpha, temperature: d.temperature };
  const replica = new Replica(graph, layout, init.loss, init.accelerator, distill);
  const params = new Float32Array(init.params);
  const grad = new Float32Array(init.grad);
  parentPort!.on('message', (req: WorkerRequest) => {
    try {
      if (req.type === 'step') {
        const r = replica.step(params, req.x, req.y, req.n, req.seed, grad);
        parentPort!.postMessage({ ok: true, loss: r.loss, correct: r.correct, stats: r.stats });
      } else {
        const out = replica.predict(params, req.x, req.n);
        parentPort!.postMessage({ ok: true, out }, [out.buffer as ArrayBuffer]);
      }
    } catch (e) {
      parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
  parentPort!.postMessage({ ok: true, ready: true });
}

main().catch((e) => parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) }));
