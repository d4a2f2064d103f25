// `tandem info`: versions, the chosen compute backend and why, optional parts, where data is.
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { loadFashionMnist } from '../../compiler/data/index.js';
import { initBackend } from '../../compiler/train/backend.js';

async function probe(mod: string): Promise<string> {
  try {
    const m = (await import(mod)) as { version?: string; default?: unknown };
    return `available${typeof m.version === 'string' ? ` (${m.version})` : ''}`;
  } catch (e) {
    return `not available (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`;
  }
}

export async function infoCommand(f: { json?: boolean; data?: string }): Promise<void> {
  const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
  const backend = await initBackend();
  let data: string;
  try {
    data = (await loadFashionMnist({ dataDir: f.data, download: false })).sourceDir;
  } catch (e) {
    data = `not found: ${(e as Error).message.split('\n')[0]}`;
  }
  const info = {
    tandem: pkg.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: `${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown'}`,
    backend: backend.name,
    backendReason: backend.reason,
    registeredKernels: backend.registeredKernels,
    tfjs: backend.tfjsVersion,
    onnxruntime: await probe('onnxruntime-node'),
    electron: await probe('electron'),
    fashionMnist: data,
  };
  if (f.json) {
    process.stdout.write(JSON.stringify(info, null, 1) + '\n');
    return;
  }
  const w = Math.max(...Object.keys(info).map((k) => k.length));
  for (const [k, v] of Object.entries(info)) process.stdout.write(`${k.padEnd(w)}  ${Array.isArray(v) ? v.join(', ') || '(none)' : v}\n`);
}
