// Host latency of a Graph in Tandem's engine (tfjs, the backend initBackend chose): warm-up runs, then
// the median of `runs` timed forward passes on one batch. Nothing else runs in between.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../../compiler/ir/types.js';
import { disposeParams, forward, paramsFromGraph } from '../../compiler/train/executor.js';

export interface HostLatency {
  readonly batch: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly backend: string;
}

export async function hostLatency(graph: Graph, input: Float32Array, batch: number, runs = 30, warmup = 5): Promise<HostLatency> {
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`latency runs ${runs} must be an integer >= 1`);
  const params = paramsFromGraph(graph);
  const x = tf.tensor(input.subarray(0, batch * graph.inputs[0].shape.reduce((a, b) => a * b, 1)), [batch, ...graph.inputs[0].shape]);
  const once = async () => {
    const outs = tf.tidy(() => forward(graph, params, [x]));
    await Promise.all(outs.map((o) => o.data()));
    outs.forEach((o) => o.dispose());
  };
  try {
    for (let i = 0; i < warmup; i++) await once();
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await once();
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const medianMs = ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
    return { batch, runs, medianMs, minMs: ms[0], backend: tf.getBackend() };
  } finally {
    x.dispose();
    disposeParams(params);
  }
}
