// writeBlob: a quantized Graph -> the compiled model blob a board runs (docs/blob-format.md, version 1).
// blobModel (layers.ts) does the checks and the integer tensors; this module only lays out bytes.
import type { Graph } from '../../compiler/ir/types.js';
import { crc32 } from '../serial/crc32.js';
import { align4, FORMAT_VERSION, H, HEADER_BYTES, L, LAYER_BYTES, MAGIC, NAME_BYTES } from './format.js';
import { type BlobLayer, blobModel, type BlobOptions } from './layers.js';

export { readBlobInfo, type BlobInfo } from './read.js';
export type { BlobOptions } from './layers.js';

/** The node id as at most 31 UTF-8 bytes, cut at a character boundary. */
function nameBytes(name: string): Uint8Array {
  const b = new TextEncoder().encode(name);
  if (b.length < NAME_BYTES) return b;
  let n = NAME_BYTES - 1;
  while (n > 0 && (b[n] & 0xc0) === 0x80) n--; // do not split a multi-byte character
  return b.subarray(0, n);
}

const TENSORS = ['weights', 'bias', 'm0', 'shift'] as const;
const TENSOR_FIELD = { weights: L.weightsOff, bias: L.biasOff, m0: L.m0Off, shift: L.shiftOff } as const;

/** The blob of a quantized graph; throws an IrError naming the node a version-1 blob cannot hold. */
export function writeBlob(graph: Graph, opts: BlobOptions = {}): Uint8Array {
  const model = blobModel(graph, opts);
  const n = model.layers.length;
  const dataOffset = HEADER_BYTES + LAYER_BYTES * n;
  // tensor offsets first, so the buffer is allocated once
  let end = dataOffset;
  const offsets = model.layers.map((layer) => {
    const o: Record<string, number> = {};
    for (const t of TENSORS) {
      const a = layer[t];
      if (!a) continue;
      o[t] = end;
      end = align4(end + a.byteLength);
    }
    return o;
  });
  const bytes = new Uint8Array(end);
  const dv = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), H.magic);
  dv.setUint16(H.version, FORMAT_VERSION, true);
  dv.setUint16(H.flags, 0, true);
  dv.setUint32(H.totalLen, end, true);
  dv.setUint16(H.nLayers, n, true);
  dv.setUint16(H.outputValue, n, true);
  model.input.shape.forEach((d, i) => dv.setUint16(H.inputShape + 2 * i, d, true));
  dv.setUint8(H.inputBits, model.input.bits);
  dv.setInt32(H.inputZeroPoint, model.input.zeroPoint, true);
  dv.setFloat32(H.inputScale, model.input.scale, true);
  dv.setUint32(H.layersOffset, HEADER_BYTES, true);
  dv.setUint32(H.dataOffset, dataOffset, true);
  model.layers.forEach((layer, i) => writeLayer(bytes, dv, HEADER_BYTES + i * LAYER_BYTES, layer, offsets[i]));
  dv.setUint32(H.crc, crc32(bytes.subarray(HEADER_BYTES)), true);
  return bytes;
}

function writeLayer(bytes: Uint8Array, dv: DataView, r: number, layer: BlobLayer, offsets: Record<string, number>): void {
  const u16s = (at: number, v: readonly number[]) => v.forEach((d, i) => dv.setUint16(r + at + 2 * i, d, true));
  dv.setUint8(r + L.op, layer.op);
  dv.setUint8(r + L.nInputs, layer.inputs.length);
  dv.setUint16(r + L.flags, layer.flags, true);
  bytes.set(nameBytes(layer.name), r + L.name);
  u16s(L.inputs, layer.inputs);
  u16s(L.outShape, layer.outShape);
  dv.setInt32(r + L.outZeroPoint, layer.outZeroPoint, true);
  dv.setFloat32(r + L.outScale, layer.outScale, true);
  u16s(L.kernel, layer.kernel);
  u16s(L.strides, layer.strides);
  u16s(L.dilations, layer.dilations);
  u16s(L.pads, layer.pads);
  dv.setInt32(r + L.param, layer.param, true);
  dv.setUint32(r + L.macs, layer.macs, true);
  for (const t of TENSORS) {
    const a = layer[t];
    if (!a) continue;
    const at = offsets[t];
    dv.setUint32(r + TENSOR_FIELD[t], at, true);
    // little-endian explicitly (the host's typed arrays are in host order)
    if (a instanceof Int32Array) a.forEach((v, i) => dv.setInt32(at + 4 * i, v, true));
    else bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
  }
}
