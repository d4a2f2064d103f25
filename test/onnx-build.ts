// Hand-building ONNX models with onnx-proto (independently of Tandem's exporter), and running
// models in onnxruntime-node, for onnx.test.ts.
import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { Rng } from '../compiler/util/rng.js';

const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;
const DT = onnx.TensorProto.DataType;

export type Attr = number | number[] | string | { f: number };

function attr(name: string, v: Attr): O.IAttributeProto {
  if (typeof v === 'number') return { name, type: AT.INT, i: v };
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  return { name, type: AT.FLOAT, f: v.f };
}

export function node(opType: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): O.INodeProto {
  return { opType, name, input: inputs, output: outputs, attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) };
}

/** A float initializer, stored as float_data or as little-endian raw_data. */
export function floats(name: string, dims: number[], data: Float32Array, storage: 'raw' | 'float_data'): O.ITensorProto {
  if (storage === 'float_data') return { name, dims, dataType: DT.FLOAT, floatData: [...data] };
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return { name, dims, dataType: DT.FLOAT, rawData: raw };
}

/** An int64 initializer (dims default to [data.length]; pass [] for a scalar). */
export function int64s(name: string, data: number[], storage: 'raw' | 'int64_data' = 'int64_data', dims = [data.length]): O.ITensorProto {
  if (storage === 'int64_data') return { name, dims, dataType: DT.INT64, int64Data: data };
  const raw = new Uint8Array(data.length * 8);
  const dv = new DataView(raw.buffer);
  data.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: DT.INT64, rawData: raw };
}

export function scalarConst(name: string, output: string, value: number): O.INodeProto {
  return { opType: 'Constant', name, input: [], output: [output], attribute: [{ name: 'value', type: AT.TENSOR, t: { dims: [], dataType: DT.FLOAT, floatData: [value] } }] };
}

function info(name: string, dims: (number | string)[]): O.IValueInfoProto {
  return { name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } };
}

export interface ModelSpec {
  opset: number;
  nodes: O.INodeProto[];
  initializers: O.ITensorProto[];
  inputs: [string, (number | string)[]][];
  outputs: [string, (number | string)[]][];
}

const IR_FOR_OPSET = (opset: number) => (opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 15 ? 8 : opset >= 13 ? 7 : 6);

export function model(spec: ModelSpec): Uint8Array {
  const m = onnx.ModelProto.create({
    irVersion: IR_FOR_OPSET(spec.opset),
    opsetImport: [{ domain: '', version: spec.opset }],
    producerName: 'tandem-test',
    graph: {
      name: 'handmade',
      node: spec.nodes,
      initializer: spec.initializers,
      input: spec.inputs.map(([n, d]) => info(n, d)),
      output: spec.outputs.map(([n, d]) => info(n, d)),
    },
  });
  return onnx.ModelProto.encode(m).finish();
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** Runs `bytes` in onnxruntime. Graph optimizations are off by default: onnxruntime's PadFusion folds a
 *  zero Pad into a following MaxPool (microsoft/onnxruntime#18136), which changes results for negative inputs. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>, optimize = false): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes, optimize ? {} : { graphOptimizationLevel: 'disabled' });
  const input = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]));
  const out = await s.run(input);
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}
