// Training checkpoints: everything needed to resume exactly where training stopped.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { concatFloat32 } from '../util/arrays.js';
import { writeDirAtomic } from '../util/atomic.js';

export interface CheckpointMeta {
  readonly fingerprint: string;
  readonly epoch: number;
  /** Batches of `epoch` already done. */
  readonly stepInEpoch: number;
  readonly globalStep: number;
  readonly optimizerStep: number;
  readonly history: readonly unknown[];
  readonly best?: { readonly epoch: number; readonly metric: number };
  readonly savedAt: string;
}

export interface Checkpoint {
  readonly meta: CheckpointMeta;
  readonly params: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly bestParams?: Float32Array;
}

const META = 'state.json';
const ARRAYS = 'arrays.bin';

export async function saveCheckpoint(dir: string, ck: Checkpoint): Promise<void> {
  const arrays = [ck.params, ck.m, ck.v, ...(ck.bestParams ? [ck.bestParams] : [])];
  const lengths = arrays.map((a) => a.length);
  const buf = concatFloat32(arrays);
  await writeDirAtomic(dir, async (tmp) => {
    await fs.writeFile(path.join(tmp, ARRAYS), new Uint8Array(buf.buffer));
    await fs.writeFile(path.join(tmp, META), JSON.stringify({ ...ck.meta, lengths }, null, 1));
  });
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  let metaText: string;
  try {
    metaText = await fs.readFile(path.join(dir, META), 'utf8');
  } catch {
    return undefined;
  }
  const meta = JSON.parse(metaText) as CheckpointMeta & { lengths: number[] };
  const raw = await fs.readFile(path.join(dir, ARRAYS));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const total = meta.lengths.reduce((a, b) => a + b, 0);
  if (all.length !== total) throw new Error(`${path.join(dir, ARRAYS)}: holds ${all.length} floats, ${META} expects ${total}`);
  const parts: Float32Array[] = [];
  let at = 0;
  for (const l of meta.lengths) {
    parts.push(all.subarray(at, at + l));
    at += l;
  }
  return { meta, params: parts[0], m: parts[1], v: parts[2], bestParams: parts[3] };
}
