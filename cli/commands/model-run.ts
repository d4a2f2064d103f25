// What the model-transforming commands (compress, prune) share: the model and its data splits, the
// quality before, progress/cancel, and the atomic output folder (IR + ONNX + plan + report).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { exportOnnx } from '../../compiler/export/onnx.js';
import { serializeGraph } from '../../compiler/ir/serialize.js';
import type { Graph } from '../../compiler/ir/types.js';
import { RECIPES } from '../../compiler/models/recipes.js';
import { type ResolvedModel } from '../../compiler/models/registry.js';
import { initBackend } from '../../compiler/train/backend.js';
import type { Dataset } from '../../compiler/train/dataset.js';
import { evaluate, type Quality } from '../../compiler/train/evaluate.js';
import { writeDirAtomic } from '../../compiler/util/atomic.js';
import type { ProgressFn } from '../../compiler/util/progress.js';
import { cliProgress, interruptSignal } from '../progress.js';
import { type DataOptions, fashionMnistSplits, type Splits } from './data.js';

export function qualityText(q: Quality | undefined): string {
  if (!q) return 'not evaluated';
  return q.task === 'classification' ? `${(100 * q.accuracy).toFixed(2)}% accuracy` : `PSNR ${q.psnrDenoised.toFixed(2)} dB (gain ${q.psnrGain.toFixed(2)}), SSIM ${q.ssimDenoised.toFixed(4)}`;
}

export interface RunFlags extends DataOptions {
  readonly json?: boolean;
  readonly workers?: number;
  readonly trainLimit?: number;
  readonly evalLimit?: number;
  readonly calib?: number;
}

export interface ModelRun {
  readonly data: Splits;
  /** The first `calib` training images. */
  readonly calib: { readonly x: Float32Array; readonly n: number };
  readonly testSet: Dataset;
  readonly baseQuality: Quality;
  readonly evalGraph: (g: Graph) => Promise<Quality>;
  readonly progress: ProgressFn;
  readonly signal: AbortSignal;
  readonly log: (s: string) => void;
  /** Stops the progress display (before printing the final table). */
  stop(): void;
}

/** Backend, data splits (as the model's reference recipe made them), calibration images, quality before. */
export async function startModelRun(m: ResolvedModel, f: RunFlags): Promise<ModelRun> {
  const progress = cliProgress({ quiet: !!f.json });
  const signal = interruptSignal();
  const log = (s: string) => {
    if (f.json) return;
    progress.stop();
    process.stderr.write(s + '\n');
  };
  await initBackend();
  const recipe = m.reference ? RECIPES[m.reference] : undefined;
  const dataSeed = (m.graph.meta?.seed as number | undefined) ?? recipe?.seed ?? 0;
  const data = await fashionMnistSplits(m.task, { ...f, splitSeed: dataSeed, valFraction: recipe?.valFraction ?? 1 / 12, noiseSeed: dataSeed, sigma: recipe?.sigma, trainLimit: f.trainLimit ?? recipe?.trainLimit, signal, onProgress: progress.update });
  const nCalib = Math.min(f.calib ?? 256, data.train.size);
  const per = data.train.inputShape.reduce((a, b) => a * b, 1);
  const calib = { x: new Float32Array(nCalib * per), n: nCalib };
  data.train.fill(
    Array.from({ length: nCalib }, (_, i) => i),
    calib.x,
    new Float32Array(nCalib * data.train.targetSize),
  );
  const testSet = f.evalLimit ? { ...data.test, size: Math.min(f.evalLimit, data.test.size) } : data.test;
  const evalGraph = (g: Graph) => evaluate(g, testSet, m.task, { workers: f.workers, signal, onProgress: progress.update });
  // The committed metric of a reference model is its full test-set evaluation (test/refs.test.ts).
  const metaTest = m.graph.meta?.test as Quality | undefined;
  const baseQuality = metaTest && !f.evalLimit ? metaTest : await evalGraph(m.graph);
  log(`${m.graph.name}: ${qualityText(baseQuality)} before`);
  return { data, calib, testSet, baseQuality, evalGraph, progress: progress.update, signal, log, stop: () => progress.stop() };
}

/** graph.json + weights.bin, model.onnx (unless onnx: false) and the given text files, into `out` atomically. */
export async function writeModelDir(out: string, graph: Graph, files: Readonly<Record<string, string>>, o: { onnx?: boolean } = {}): Promise<void> {
  const { json, weights } = serializeGraph(graph);
  await writeDirAtomic(out, async (tmp) => {
    await fs.writeFile(path.join(tmp, 'weights.bin'), weights);
    await fs.writeFile(path.join(tmp, 'graph.json'), json);
    if (o.onnx ?? true) await exportOnnx(graph, path.join(tmp, 'model.onnx'));
    for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(tmp, name), text);
  });
}
