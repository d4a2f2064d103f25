// Picks the fastest tfjs backend available here: tfjs-node if it loads, else wasm (with Tandem's
// training kernels registered), else cpu. Records why, so `tandem info` can say it.
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;

export interface BackendInfo {
  readonly name: BackendName;
  readonly reason: string;
  /** Kernels Tandem registered on this backend. */
  readonly registeredKernels: readonly string[];
  readonly tfjsVersion: string;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  // Node's "imported from /abs/path/..." names this machine's checkout: not part of the reason.
  return m.split('\n')[0].replace(/ imported from \S+/, '');
}

async function tryNode(): Promise<string | undefined> {
  try {
    // Optional dependency: its native binary cannot download everywhere.
    await import('@tensorflow/tfjs-node' as string);
    if (!(await tf.setBackend('tensorflow'))) return 'tfjs-node loaded but its backend failed to initialise';
    return undefined;
  } catch (e) {
    return `tfjs-node not usable (${message(e)})`;
  }
}

async function tryWasm(registerKernels: boolean): Promise<{ error?: string; kernels: string[] }> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    let kernels: string[] = [];
    if (registerKernels) {
      const { registerTrainingKernels } = await import('./kernels/index.js');
      kernels = registerTrainingKernels();
    }
    if (!(await tf.setBackend('wasm'))) return { error: 'wasm backend failed to initialise', kernels };
    return { kernels };
  } catch (e) {
    return { error: `wasm not usable (${message(e)})`, kernels: [] };
  }
}

/**
 * Initialises the tfjs backend once per process (later calls return the first result).
 * `registerKernels: false` gives plain tfjs, the baseline the benchmarks compare against.
 */
export function initBackend(choice: BackendChoice = 'auto', opts: { registerKernels?: boolean } = {}): Promise<BackendInfo> {
  if (pending) return pending;
  pending = (async () => {
    const env = process.env.TANDEM_BACKEND as BackendChoice | undefined;
    const want = choice === 'auto' && env ? env : choice;
    const registerKernels = opts.registerKernels ?? true;
    const notes: string[] = [];
    if (want === 'auto' || want === 'tensorflow') {
      const err = await tryNode();
      if (!err) return (current = { name: 'tensorflow', reason: 'tfjs-node is installed and loaded (native TensorFlow, multi-threaded)', registeredKernels: [], tfjsVersion: tf.version.tfjs });
      if (want === 'tensorflow') throw new Error(`backend 'tensorflow' requested but ${err}`);
      notes.push(err);
    }
    if (want === 'auto' || want === 'wasm') {
      const { error, kernels } = await tryWasm(registerKernels);
      if (!error) {
        const why = registerKernels ? `with Tandem's training kernels (${kernels.join(', ')})` : 'plain (no Tandem kernels)';
        return (current = { name: 'wasm', reason: [...notes, `using wasm ${why}`].join('; '), registeredKernels: kernels, tfjsVersion: tf.version.tfjs });
      }
      if (want === 'wasm') throw new Error(`backend 'wasm' requested but ${error}`);
      notes.push(error);
    }
    await tf.setBackend('cpu');
    return (current = { name: 'cpu', reason: [...notes, 'using the pure-JS cpu backend (slow for training)'].join('; '), registeredKernels: [], tfjsVersion: tf.version.tfjs });
  })();
  return pending;
}

export function backendInfo(): BackendInfo | undefined {
  return current;
}
