// Model quality on a dataset: accuracy for classifiers; PSNR/SSIM (and gain over the noisy input)
// for denoisers. Inference is split over worker threads like training.
import { accuracy, meanPsnr, meanSsim } from '../data/metrics.js';
import type { Graph } from '../ir/types.js';
import { type ProgressFn, throwIfAborted } from '../util/progress.js';
import type { Dataset } from './dataset.js';
import { paramLayout } from './flat-params.js';
import type { AcceleratorSpec } from './accelerator.js';
import { ReplicaPool } from './pool.js';

export interface ClassifierQuality {
  readonly task: 'classification';
  readonly samples: number;
  readonly accuracy: number;
}
export interface DenoiserQuality {
  readonly task: 'denoising';
  readonly samples: number;
  readonly psnrNoisy: number;
  readonly psnrDenoised: number;
  readonly psnrGain: number;
  readonly ssimNoisy: number;
  readonly ssimDenoised: number;
}
export type Quality = ClassifierQuality | DenoiserQuality;

export interface EvaluateOptions {
  readonly workers?: number;
  readonly chunk?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  /** Evaluate with an accelerator model in the forward pass. */
  readonly accelerator?: AcceleratorSpec;
}

export async function evaluate(graph: Graph, data: Dataset, task: Quality['task'], opts: EvaluateOptions = {}): Promise<Quality> {
  const layout = paramLayout(graph);
  const pool = await ReplicaPool.create(graph, layout, data.targetSize, { loss: task === 'classification' ? 'crossEntropy' : 'mse', workers: opts.workers, accelerator: opts.accelerator });
  const chunk = opts.chunk ?? 1000;
  const per = data.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(chunk * per);
  const y = new Float32Array(chunk * data.targetSize);
  const [h, w, c] = data.inputShape;
  let acc = 0;
  const sums = { pn: 0, pd: 0, sn: 0, sd: 0 };
  try {
    for (let s = 0; s < data.size; s += chunk) {
      throwIfAborted(opts.signal);
      const n = Math.min(chunk, data.size - s);
      data.fill(
        Array.from({ length: n }, (_, i) => s + i),
        x,
        y,
      );
      const out = await pool.predict(x, n);
      if (task === 'classification') {
        acc += accuracy(out, y.subarray(0, n), out.length / n) * n;
      } else {
        const shape = { n, height: h, width: w, channels: c };
        const clean = y.subarray(0, n * per);
        const noisy = x.subarray(0, n * per);
        sums.pn += meanPsnr(noisy, clean, shape) * n;
        sums.pd += meanPsnr(out, clean, shape) * n;
        sums.sn += meanSsim(noisy, clean, shape) * n;
        sums.sd += meanSsim(out, clean, shape) * n;
      }
      opts.onProgress?.({ phase: 'eval', done: s + n, total: data.size });
    }
  } finally {
    await pool.close();
  }
  const N = data.size;
  if (task === 'classification') return { task, samples: N, accuracy: acc / N };
  return {
    task,
    samples: N,
    psnrNoisy: sums.pn / N,
    psnrDenoised: sums.pd / N,
    psnrGain: (sums.pd - sums.pn) / N,
    ssimNoisy: sums.sn / N,
    ssimDenoised: sums.sd / N,
  };
}
