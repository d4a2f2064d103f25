// `tandem start` (what `npm start` runs): the main job on the embedded default.
// For now: inspect + eval of fmnist-vgg; later issues extend it to the co-design loop and the app.
import { evalCommand } from './eval.js';
import { inspectCommand } from './inspect.js';
import type { DataOptions } from './data.js';

export async function startCommand(f: DataOptions & { json?: boolean }): Promise<void> {
  await inspectCommand('fmnist-vgg', { json: f.json });
  await evalCommand('fmnist-vgg', { ...f, json: f.json });
}
