// weightsManifest + shard files -> named float32 tensors. Shards of a group are one byte stream;
// entries follow each other in it. uint8/uint16 affine quantization and float16 are dequantized.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelFormatError } from '../common.js';

interface Quantization {
  dtype: string;
  scale?: number;
  min?: number;
}
interface WeightEntry {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: Quantization;
}
export interface ManifestGroup {
  paths: string[];
  weights: WeightEntry[];
}

export interface NamedWeight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2, bool: 1 };
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function decode(e: WeightEntry, bytes: Uint8Array, file: string): Float32Array | undefined {
  const n = e.shape.reduce((a, b) => a * b, 1);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = e.quantization;
  if (q) {
    if (q.dtype === 'float16') return Float32Array.from({ length: n }, (_, i) => half(dv.getUint16(i * 2, true)));
    if (q.dtype !== 'uint8' && q.dtype !== 'uint16') {
      throw new ModelFormatError(`${file}: weight '${e.name}' is quantized as '${q.dtype}'; Tandem reads uint8, uint16 and float16 quantization`);
    }
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const get = q.dtype === 'uint8' ? (i: number) => bytes[i] : (i: number) => dv.getUint16(i * 2, true);
    return Float32Array.from({ length: n }, (_, i) => get(i) * scale + min);
  }
  if ((e.dtype ?? 'float32') !== 'float32') return undefined; // int32/bool weights: no supported layer uses them
  if (LITTLE_ENDIAN) {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
    return out;
  }
  return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(i * 4, true));
}

/** Reads every group's shards (relative to model.json's folder) and decodes its entries. */
export async function readWeights(manifest: unknown, file: string): Promise<Map<string, NamedWeight>> {
  const out = new Map<string, NamedWeight>();
  if (manifest === undefined) return out;
  if (!Array.isArray(manifest)) throw new ModelFormatError(`${file}: weightsManifest is not a list`);
  const dir = path.dirname(file);
  for (const g of manifest as ManifestGroup[]) {
    const parts: Uint8Array[] = [];
    for (const p of g.paths ?? []) {
      const full = path.resolve(dir, p);
      try {
        parts.push(new Uint8Array(await fs.readFile(full)));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new ModelFormatError(`${file}: weight file '${p}' listed in weightsManifest is missing (${full})`);
        throw new ModelFormatError(`${file}: cannot read weight file '${p}' (${code ?? (err as Error).message})`);
      }
    }
    const total = parts.reduce((a, p) => a + p.byteLength, 0);
    const all = new Uint8Array(total);
    parts.reduce((at, p) => (all.set(p, at), at + p.byteLength), 0);
    let offset = 0;
    for (const e of g.weights ?? []) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      const per = BYTES[e.quantization?.dtype ?? e.dtype ?? 'float32'];
      if (!per) throw new ModelFormatError(`${file}: weight '${e.name}' has unknown dtype '${e.quantization?.dtype ?? e.dtype}'`);
      const size = n * per;
      if (offset + size > total) {
        throw new ModelFormatError(`${file}: weight files [${g.paths.join(', ')}] hold ${total} bytes, but the manifest needs at least ${offset + size} (truncated shard?)`);
      }
      const data = decode(e, all.subarray(offset, offset + size), file);
      if (data) out.set(e.name.replace(/:0$/, ''), { shape: e.shape, data });
      offset += size;
    }
  }
  return out;
}
