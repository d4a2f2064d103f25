// Accumulates ONNX nodes and initializers with unique names, as onnx-proto message objects.
import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';

const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type AttrValue = { i: number } | { ints: readonly number[] } | { f: number } | { s: string };

function attribute(name: string, v: AttrValue): O.IAttributeProto {
  if ('i' in v) return { name, type: AT.INT, i: v.i };
  if ('ints' in v) return { name, type: AT.INTS, ints: [...v.ints] };
  if ('f' in v) return { name, type: AT.FLOAT, f: v.f };
  return { name, type: AT.STRING, s: new TextEncoder().encode(v.s) };
}

/** Little-endian bytes of a float32 array (the ONNX raw_data encoding), bit-exact. */
function floatBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const dv = new DataView(new ArrayBuffer(data.byteLength));
  data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return new Uint8Array(dv.buffer);
}

function int64Bytes(data: readonly number[]): Uint8Array {
  const dv = new DataView(new ArrayBuffer(data.length * 8));
  data.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return new Uint8Array(dv.buffer);
}

export class OnnxGraphWriter {
  readonly nodes: O.INodeProto[] = [];
  readonly initializers: O.ITensorProto[] = [];
  private readonly taken = new Set<string>();

  /** `reserved`: names that belong to IR values and must not be reused for helpers. */
  constructor(reserved: Iterable<string>) {
    for (const r of reserved) this.taken.add(r);
  }

  /** A fresh helper name based on `base` (tensor or node). */
  fresh(base: string): string {
    let name = base;
    for (let k = 2; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  floats(base: string, dims: readonly number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: floatBytes(data) });
    return name;
  }

  int64s(base: string, data: readonly number[]): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [data.length], dataType: onnx.TensorProto.DataType.INT64, rawData: int64Bytes(data) });
    return name;
  }

  node(opType: string, name: string, inputs: readonly string[], output: string, attrs: Record<string, AttrValue> = {}): void {
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({ opType, name, input: [...inputs], output: [output], attribute: attribute_ });
  }
}

export function valueInfo(name: string, dims: readonly (number | 'batch')[]): O.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (d === 'batch' ? { dimParam: 'batch' } : { dimValue: d })) } } },
  };
}

export function encodeModel(m: O.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
}
