// Inference throughput: the exported ONNX in onnxruntime-node vs Tandem's engine (one thread, and
// data-parallel over all cores) on the same batch; also checks the outputs agree.
import { exportOnnxBytes } from '../compiler/export/onnx.js';
import type { Graph } from '../compiler/ir/types.js';
import { paramLayout } from '../compiler/train/flat-params.js';
import { ReplicaPool } from '../compiler/train/pool.js';
import { median } from './stats.js';

export interface InferenceRow {
  readonly label: string;
  readonly batch: number;
  readonly medianMs: number;
  readonly imgPerSec: number;
}

async function time(repeats: number, f: () => Promise<unknown>): Promise<number> {
  await f();
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

/** NHWC -> NCHW for the ONNX model's input. */
function toNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
  return out;
}

export async function inferenceThroughput(graph: Graph, x: Float32Array, batch: number, repeats: number, workers: number): Promise<{ rows: InferenceRow[]; maxAbsDiff: number }> {
  const [h, w, c] = graph.inputs[0].shape;
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(exportOnnxBytes(graph));
  const feed = { [session.inputNames[0]]: new ort.Tensor('float32', toNchw(x, batch, h, w, c), [batch, c, h, w]) };
  let ortOut: Float32Array = new Float32Array(0);
  const ortMs = await time(repeats, async () => {
    ortOut = (await session.run(feed))[session.outputNames[0]].data as Float32Array;
  });
  const rows: InferenceRow[] = [{ label: 'onnxruntime-node (CPU EP, default threads)', batch, medianMs: ortMs, imgPerSec: batch / (ortMs / 1000) }];
  let maxAbsDiff = 0;
  for (const n of [0, workers]) {
    const pool = await ReplicaPool.create(graph, paramLayout(graph), 1, { loss: 'crossEntropy', workers: n });
    let out: Float32Array = new Float32Array(0);
    const ms = await time(repeats, async () => {
      out = await pool.predict(x, batch);
    });
    await pool.close();
    for (let i = 0; i < out.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(out[i] - ortOut[i]));
    rows.push({ label: n === 0 ? 'Tandem engine (1 thread)' : `Tandem engine (${n} worker threads)`, batch, medianMs: ms, imgPerSec: batch / (ms / 1000) });
  }
  return { rows, maxAbsDiff };
}
