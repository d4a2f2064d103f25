// readBlobInfo: the header and layer table of a compiled model blob (docs/blob-format.md), for the
// serial driver and tests. Checks magic, version, length and CRC-32 with errors that say which failed.
import { crc32 } from '../serial/crc32.js';
import { FORMAT_VERSION, H, HEADER_BYTES, L, LAYER_BYTES, MAGIC, NAME_BYTES, OP_NAMES } from './format.js';

export interface BlobLayerInfo {
  readonly name: string;
  /** Op code and its op name ('unknown' for a code the format does not define). */
  readonly opCode: number;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly outShape: readonly [number, number, number];
  readonly macs: number;
}

export interface BlobInfo {
  readonly version: number;
  readonly totalLength: number;
  readonly crc32: number;
  readonly inputShape: readonly [number, number, number];
  readonly inputZeroPoint: number;
  readonly inputScale: number;
  /** int8 codes of one input / one output (the last layer's value). */
  readonly inputSize: number;
  readonly outputSize: number;
  readonly layers: readonly BlobLayerInfo[];
}

export class BlobError extends Error {
  override readonly name = 'BlobError';
}

export function readBlobInfo(bytes: Uint8Array): BlobInfo {
  if (bytes.length < HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) throw new BlobError(`not a Tandem blob: expected magic "${MAGIC}" in a header of ${HEADER_BYTES} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(H.version, true);
  if (version !== FORMAT_VERSION) throw new BlobError(`blob format version ${version}: this reader supports version ${FORMAT_VERSION}`);
  const totalLength = dv.getUint32(H.totalLen, true);
  if (totalLength > bytes.length || totalLength < HEADER_BYTES) throw new BlobError(`truncated blob: header says ${totalLength} bytes, ${bytes.length} present`);
  const crc = dv.getUint32(H.crc, true);
  const actual = crc32(bytes.subarray(HEADER_BYTES, totalLength));
  if (crc !== actual) throw new BlobError(`blob checksum mismatch: header CRC-32 0x${crc.toString(16).padStart(8, '0')}, bytes give 0x${actual.toString(16).padStart(8, '0')}`);
  const n = dv.getUint16(H.nLayers, true);
  if (HEADER_BYTES + n * LAYER_BYTES > totalLength) throw new BlobError(`truncated blob: ${n} layer records do not fit in ${totalLength} bytes`);
  const shape = (at: number) => [dv.getUint16(at, true), dv.getUint16(at + 2, true), dv.getUint16(at + 4, true)] as const;
  const layers: BlobLayerInfo[] = [];
  for (let i = 0; i < n; i++) {
    const r = HEADER_BYTES + i * LAYER_BYTES;
    const nameRaw = bytes.subarray(r + L.name, r + L.name + NAME_BYTES);
    const end = nameRaw.indexOf(0);
    const opCode = dv.getUint8(r + L.op);
    const nIn = dv.getUint8(r + L.nInputs);
    layers.push({
      name: new TextDecoder().decode(nameRaw.subarray(0, end < 0 ? NAME_BYTES : end)),
      opCode,
      op: OP_NAMES.get(opCode) ?? 'unknown',
      inputs: Array.from({ length: Math.min(nIn, 4) }, (_, k) => dv.getUint16(r + L.inputs + 2 * k, true)),
      outShape: shape(r + L.outShape),
      macs: dv.getUint32(r + L.macs, true),
    });
  }
  const inputShape = shape(H.inputShape);
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return {
    version,
    totalLength,
    crc32: crc,
    inputShape,
    inputZeroPoint: dv.getInt32(H.inputZeroPoint, true),
    inputScale: dv.getFloat32(H.inputScale, true),
    inputSize: size(inputShape),
    outputSize: n > 0 ? size(layers[n - 1].outShape) : 0,
    layers,
  };
}
