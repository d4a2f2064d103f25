// The compiled model blob's constants (docs/blob-format.md, version 1): header and layer-record
// layout, op codes. Shared by the writer and the reader; the C runtime (firmware/runtime/tandem_rt.c)
// mirrors them.
import { OpKind } from '../../compiler/ir/types.js';

export const MAGIC = 'TNDM';
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 48;
export const LAYER_BYTES = 104;
export const NAME_BYTES = 32;
export const MAX_INPUTS = 4;
/** The layer table's u16 count; a runtime may take fewer (TRT_MAX_LAYERS). */
export const FORMAT_MAX_LAYERS = 65535;
/** tandem_rt.h's TRT_MAX_LAYERS: the default limit of writeBlob. */
export const RUNTIME_MAX_LAYERS = 128;

/** Byte offsets inside the header. */
export const H = {
  magic: 0,
  version: 4,
  flags: 6,
  totalLen: 8,
  crc: 12,
  nLayers: 16,
  outputValue: 18,
  inputShape: 20,
  inputBits: 26,
  inputZeroPoint: 28,
  inputScale: 32,
  layersOffset: 36,
  dataOffset: 40,
} as const;

/** Byte offsets inside a layer record. */
export const L = {
  op: 0,
  nInputs: 1,
  flags: 2,
  name: 4,
  inputs: 36,
  outShape: 44,
  outZeroPoint: 52,
  outScale: 56,
  kernel: 60,
  strides: 64,
  dilations: 68,
  pads: 72,
  param: 80,
  macs: 84,
  weightsOff: 88,
  biasOff: 92,
  m0Off: 96,
  shiftOff: 100,
} as const;

/** Layer flag bit 0: avgPool counts padded positions. */
export const FLAG_COUNT_INCLUDE_PAD = 1;

export const OP_CODES: ReadonlyMap<OpKind, number> = new Map([
  [OpKind.Conv2d, 1],
  [OpKind.DepthwiseConv2d, 2],
  [OpKind.Dense, 3],
  [OpKind.Relu, 4],
  [OpKind.Relu6, 5],
  [OpKind.MaxPool, 6],
  [OpKind.AvgPool, 7],
  [OpKind.GlobalAvgPool, 8],
  [OpKind.Add, 9],
  [OpKind.Concat, 10],
  [OpKind.Flatten, 11],
  [OpKind.Reshape, 12],
  [OpKind.Dropout, 13],
  [OpKind.Pad, 14],
  [OpKind.Softmax, 15],
]);

export const OP_NAMES: ReadonlyMap<number, OpKind> = new Map([...OP_CODES].map(([k, v]) => [v, k]));

/** Rounds up to a multiple of 4 (tensor alignment). */
export const align4 = (n: number): number => (n + 3) & ~3;
