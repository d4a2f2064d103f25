// `tandem eval <model>`: accuracy (classifiers) or PSNR/SSIM gain (denoisers) on Fashion-MNIST.
import { RECIPES } from '../../compiler/models/recipes.js';
import { resolveModel } from '../../compiler/models/registry.js';
import { evaluate } from '../../compiler/train/evaluate.js';
import { cliProgress, interruptSignal } from '../progress.js';
import { type DataOptions, fashionMnistSplits } from './data.js';

export async function evalCommand(model: string, f: DataOptions & { split?: 'test' | 'val'; json?: boolean; workers?: number; limit?: number }): Promise<void> {
  const m = await resolveModel(model);
  const recipe = m.reference ? RECIPES[m.reference] : undefined;
  const seed = (m.graph.meta?.seed as number | undefined) ?? recipe?.seed ?? 0;
  const signal = interruptSignal();
  const progress = cliProgress({ quiet: !!f.json });
  const data = await fashionMnistSplits(m.task, { ...f, splitSeed: seed, valFraction: recipe?.valFraction ?? 1 / 12, noiseSeed: seed, sigma: recipe?.sigma, signal, onProgress: progress.update });
  let set = f.split === 'val' ? data.val : data.test;
  if (f.limit) set = { ...set, size: Math.min(set.size, f.limit) };
  const q = await evaluate(m.graph, set, m.task, { workers: f.workers, signal, onProgress: progress.update });
  progress.stop();
  const result = { model: m.graph.name, source: m.source, split: f.split ?? 'test', ...q };
  if (f.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
  } else if (q.task === 'classification') {
    process.stdout.write(`${m.graph.name}: ${result.split} accuracy ${(100 * q.accuracy).toFixed(2)}% on ${q.samples} images\n`);
  } else {
    process.stdout.write(
      `${m.graph.name}: ${result.split} PSNR ${q.psnrNoisy.toFixed(2)} dB noisy -> ${q.psnrDenoised.toFixed(2)} dB denoised (gain ${q.psnrGain.toFixed(2)} dB); SSIM ${q.ssimNoisy.toFixed(4)} -> ${q.ssimDenoised.toFixed(4)} on ${q.samples} images\n`,
    );
  }
}
