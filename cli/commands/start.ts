// `tandem start` (what `npm start` runs): the app (cli/commands/app.ts). `tandem start --job`: the main job on
// the embedded default without the UI, the co-design loop on fmnist-vgg with the rram-128 accelerator and the
// emulated board (codesign/default-problem.ts); its report is written to ./tandem-start/report.html. The app's
// Co-design view runs the same job.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_JOB } from '../../codesign/default-problem.js';
import { codesignCommand } from './codesign.js';
import type { DataOptions } from './data.js';
import { type AppFlags, appCommand } from './app.js';

/** The repository root (dist/cli/commands -> ../../..), where bench/ lives. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function startCommand(f: DataOptions & AppFlags & { job?: boolean; json?: boolean; out?: string; store?: string; workers?: number; candidates?: number; minutes?: number }): Promise<void> {
  if (!f.job) return appCommand(f);
  // the surrogate's dataset is in the repository: resolve it from there, not from the working directory
  const problem = { ...DEFAULT_JOB, objectives: DEFAULT_JOB.objectives.map((o) => (o.surrogate ? { ...o, surrogate: `predictor:${path.join(ROOT, o.surrogate.slice('predictor:'.length))}` } : o)) };
  const out = path.resolve(f.out ?? 'tandem-start');
  process.stderr.write(`tandem start: the co-design loop on ${problem.model} (energy on rram-128, latency on the emulated Cortex-M4 board), about ${problem.limits.minutes} minutes of evaluation\n`);
  await codesignCommand(undefined, { ...f, out }, problem);
  if (!f.json) process.stdout.write(`open ${path.join(out, 'report.html')} in a browser to see the front and the chosen model's per-layer decisions\n`);
}
