// IDX files (the MNIST container): magic 0x0000TTRR (T = type byte, R = rank), R big-endian uint32 sizes,
// then the values, big-endian, row-major. Read from plain files or .gz; every check names the file.
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { DataError } from './errors.js';

export type IdxDtype = 'ubyte' | 'byte' | 'short' | 'int' | 'float' | 'double';
export type IdxValues = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  readonly dtype: IdxDtype;
  readonly dims: readonly number[];
  /** Row-major values; for 'ubyte' a view into the input bytes (no copy). */
  readonly data: IdxValues;
}

/** What the caller requires; `dims` entries left undefined match any size. */
export interface IdxExpect {
  readonly dtype: IdxDtype;
  readonly rank: number;
  readonly dims?: readonly (number | undefined)[];
}

const TYPES: Readonly<Record<IdxDtype, { code: number; size: number }>> = {
  ubyte: { code: 0x08, size: 1 },
  byte: { code: 0x09, size: 1 },
  short: { code: 0x0b, size: 2 },
  int: { code: 0x0c, size: 4 },
  float: { code: 0x0d, size: 4 },
  double: { code: 0x0e, size: 8 },
};

const hex8 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

function dtypeOf(code: number): IdxDtype | undefined {
  return (Object.keys(TYPES) as IdxDtype[]).find((k) => TYPES[k].code === code);
}

/** Parses IDX bytes (already decompressed). `name` is used in every error message. */
export function parseIdx(bytes: Uint8Array, name: string, expect?: IdxExpect): IdxArray {
  if (bytes.length < 4) throw new DataError(`${name}: ${bytes.length} bytes, too short for an IDX header (4-byte magic)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const typeByte = bytes[2];
  const rank = bytes[3];
  if (expect) {
    const want = (TYPES[expect.dtype].code << 8) | expect.rank;
    if (magic !== want) throw new DataError(`${name}: bad magic ${hex8(magic)}, expected ${hex8(want)} (idx${expect.rank} ${expect.dtype})`);
  } else if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(`${name}: bad magic ${hex8(magic)}, expected 0x0000TTRR (two zero bytes, type byte, rank byte)`);
  }
  const dtype = dtypeOf(typeByte);
  if (!dtype) throw new DataError(`${name}: bad magic ${hex8(magic)}: unknown IDX type byte 0x${typeByte.toString(16).padStart(2, '0')}`);

  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataError(`${name}: idx${rank} header needs ${headerBytes} bytes, file holds ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (expect?.dims) {
    const ok = expect.dims.length === rank && expect.dims.every((d, i) => d === undefined || d === dims[i]);
    if (!ok) {
      const want = expect.dims.map((d) => (d === undefined ? 'N' : String(d))).join('×');
      throw new DataError(`${name}: dims ${dims.join('×')}, expected ${want}`);
    }
  }

  const count = dims.reduce((a, b) => a * b, 1);
  const size = TYPES[dtype].size;
  const held = bytes.length - headerBytes;
  if (held !== count * size) {
    const amount = size === 1 ? `${count}` : `${count} ${dtype} values × ${size} = ${count * size}`;
    throw new DataError(`${name}: header says ${dims.join('×')} = ${amount} bytes of data, file holds ${held}`);
  }
  return { dtype, dims, data: decode(dtype, bytes, view, headerBytes, count) };
}

function decode(dtype: IdxDtype, bytes: Uint8Array, view: DataView, at: number, count: number): IdxValues {
  switch (dtype) {
    case 'ubyte':
      return new Uint8Array(bytes.buffer, bytes.byteOffset + at, count);
    case 'byte':
      return new Int8Array(bytes.buffer, bytes.byteOffset + at, count);
    case 'short': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case 'int': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case 'float': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case 'double': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}

const gunzipAsync = promisify(zlib.gunzip);

/** Decompresses gzip bytes; zlib also checks the CRC-32 and length in the gzip trailer. */
export async function gunzipBytes(gz: Uint8Array, name: string): Promise<Uint8Array> {
  try {
    // 1 MiB chunks: the default 16 KiB makes ~3000 thread-pool round trips for the 47 MB train images.
    const out = await gunzipAsync(gz, { chunkSize: 1 << 20 });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const kind = err.code === 'Z_BUF_ERROR' ? 'truncated gzip' : 'corrupt gzip';
    throw new DataError(`${name}: ${kind} (${err.message})`);
  }
}

/** The decompressed bytes of an IDX file: gunzipped when the name ends in .gz, as-is otherwise. */
export async function readIdxBytes(file: string): Promise<Uint8Array> {
  const raw = await fs.readFile(file);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  return file.endsWith('.gz') ? gunzipBytes(bytes, file) : bytes;
}

export async function readIdxFile(file: string, expect?: IdxExpect): Promise<IdxArray> {
  return parseIdx(await readIdxBytes(file), file, expect);
}
