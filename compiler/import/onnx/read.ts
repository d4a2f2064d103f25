// Reading ONNX protobuf with the generated onnx-proto code: decoding, tensors and attributes as
// plain JS values. No hand-written wire parsing.
import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';
import { ModelFormatError } from '../common.js';

const { onnx } = onnxProto;
export type ModelProto = O.ModelProto;
export type NodeProto = O.INodeProto;
export type TensorProto = O.ITensorProto;
export const DataType = onnx.TensorProto.DataType;

type IntLike = number | { toNumber(): number };
export const int = (v: IntLike | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelFormatError(`${file}: not a valid ONNX model (truncated or corrupt protobuf)`, { cause: e });
  }
  // A cut that happens to fall on a field boundary decodes "successfully": check what must be there.
  if (!model.graph || model.opsetImport.length === 0) {
    throw new ModelFormatError(`${file}: not a valid ONNX model (truncated or corrupt protobuf: no graph or opset)`);
  }
  return model;
}

/** A constant: floats as float32, integer types as plain numbers. */
export type Const = { readonly dims: readonly number[] } & ({ readonly kind: 'float'; readonly data: Float32Array } | { readonly kind: 'int'; readonly data: readonly number[] });

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function copyBytes(raw: Uint8Array): ArrayBuffer {
  // Copy: protobufjs hands out views into the file buffer at any alignment.
  const out = new ArrayBuffer(raw.byteLength);
  new Uint8Array(out).set(raw);
  return out;
}

/** Decodes a TensorProto (raw_data little-endian or the typed repeated fields). */
export function readTensor(t: TensorProto, file: string): Const {
  const dims = (t.dims ?? []).map(int);
  const n = dims.reduce((a, b) => a * b, 1);
  const name = t.name ?? '';
  const fail = (why: string) => new ModelFormatError(`${file}: tensor '${name}' ${why}`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData && t.externalData.length > 0)) {
    throw fail('uses external data, which Tandem does not read (save the model with all tensors inside the file)');
  }
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : undefined;
  const dv = raw ? new DataView(copyBytes(raw)) : undefined;
  const need = (bytesPer: number) => {
    if (raw && raw.byteLength !== n * bytesPer) throw fail(`holds ${raw.byteLength} bytes of raw_data, shape [${dims.join(', ')}] needs ${n * bytesPer}`);
  };
  let out: Const;
  switch (t.dataType) {
    case DataType.FLOAT: {
      need(4);
      // raw_data: reinterpret the copied bytes (bit-exact) on little-endian hosts, else read LE values.
      const data = !dv
        ? Float32Array.from(t.floatData ?? [])
        : LITTLE_ENDIAN
          ? new Float32Array(dv.buffer)
          : Float32Array.from({ length: n }, (_, i) => dv.getFloat32(i * 4, true));
      out = { kind: 'float', dims, data };
      break;
    }
    case DataType.DOUBLE: {
      need(8);
      const vals = dv ? Array.from({ length: n }, (_, i) => dv.getFloat64(i * 8, true)) : (t.doubleData ?? []);
      out = { kind: 'float', dims, data: Float32Array.from(vals) };
      break;
    }
    case DataType.INT64: {
      need(8);
      const vals = dv ? Array.from({ length: n }, (_, i) => Number(dv.getBigInt64(i * 8, true))) : (t.int64Data ?? []).map(int);
      out = { kind: 'int', dims, data: vals };
      break;
    }
    case DataType.INT32: {
      need(4);
      const vals = dv ? Array.from({ length: n }, (_, i) => dv.getInt32(i * 4, true)) : (t.int32Data ?? []);
      out = { kind: 'int', dims, data: vals };
      break;
    }
    default:
      throw fail(`has data type ${onnx.TensorProto.DataType[t.dataType ?? 0] ?? t.dataType}; Tandem reads FLOAT, DOUBLE, INT64 and INT32 constants`);
  }
  if (out.data.length !== n) throw fail(`holds ${out.data.length} values, shape [${dims.join(', ')}] needs ${n}`);
  return out;
}

/** Attribute values by name, decoded to numbers, number arrays, strings or tensors. */
export class Attrs {
  private readonly byName = new Map<string, O.IAttributeProto>();
  constructor(node: NodeProto) {
    for (const a of node.attribute ?? []) if (a.name) this.byName.set(a.name, a);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  int(name: string, dflt: number): number {
    const a = this.byName.get(name);
    return a ? int(a.i) : dflt;
  }
  float(name: string, dflt: number): number {
    const a = this.byName.get(name);
    return a ? (a.f ?? 0) : dflt;
  }
  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a ? (a.ints ?? []).map(int) : undefined;
  }
  floats(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a ? [...(a.floats ?? [])] : undefined;
  }
  string(name: string, dflt: string): string {
    const a = this.byName.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : dflt;
  }
  tensor(name: string): TensorProto | undefined {
    return this.byName.get(name)?.t ?? undefined;
  }
  names(): string[] {
    return [...this.byName.keys()];
  }
}
