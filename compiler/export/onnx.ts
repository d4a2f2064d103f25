// Graph IR -> ONNX (opset 13, NCHW). Each IR node becomes the ONNX node of the same name whose
// output tensor carries the IR value id; layout changes (flatten/reshape of NHWC activations) get
// explicit Transposes or, for a flatten that only feeds dense layers, a row permutation of the dense
// weight (the inverse of what the importer does). Facts ONNX cannot hold (origins, quantization,
// conv vs depthwise when ambiguous) go to the 'tandem' metadata entry, so a round trip is exact.
import { consumers, verify } from '../ir/graph.js';
import { type Graph, type Node, OpKind, type Shape } from '../ir/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { HINTS_KEY, isPlainId, ModelFormatError, type NodeHint, quantToJson, type TandemHints } from '../import/common.js';
import { hwcRowsToChw, hwioToOihw, irDepthwiseToOnnx } from '../import/onnx/layout.js';
import { type AttrValue, encodeModel, OnnxGraphWriter, valueInfo } from './onnx/builder.js';

export const ONNX_EXPORT_OPSET = 13;

/** ONNX per-sample dims of an IR value: HWC activations become CHW. */
const onnxDims = (s: Shape): number[] => (s.length === 3 ? [s[2], s[0], s[1]] : [...s]);

function hintFor(n: Node): NodeHint | undefined {
  const h: NodeHint = {};
  if (!isPlainId(n.id)) h.id = n.id;
  if (n.origin !== n.id) h.origin = n.origin;
  if (n.op === OpKind.Conv2d || n.op === OpKind.DepthwiseConv2d) h.op = n.op;
  if (n.quant) h.quant = quantToJson(n.quant);
  return Object.keys(h).length > 0 ? h : undefined;
}

/** Builds the ONNX model bytes; `target` names the destination in errors. */
export function exportOnnxBytes(graph: Graph, target = `${graph.name}.onnx`): Uint8Array {
  const shapes = verify(graph);
  const users = consumers(graph);
  const outputs = new Set(graph.outputs);
  const w = new OnnxGraphWriter([...graph.inputs.map((i) => i.id), ...graph.nodes.map((n) => n.id)]);
  /** Flatten outputs that stay in ONNX (c, h, w) order; their dense consumers permute rows. */
  const flatChw = new Map<string, readonly [number, number, number]>();
  const fail = (n: Node, msg: string) => new ModelFormatError(`${target}: cannot export node '${n.id}' (${n.op}) to ONNX: ${msg}`);
  const hints: Record<string, NodeHint> = {};
  for (const i of graph.inputs) {
    if (i.dtype !== 'float32') throw new ModelFormatError(`${target}: graph input '${i.id}' is ${i.dtype}; ONNX export supports float32 inputs`);
    if (!isPlainId(i.id)) hints[i.id] = { id: i.id };
  }

  for (const n of graph.nodes) {
    const h = hintFor(n);
    if (h) hints[n.id] = h;
    const x = n.inputs[0];
    const inShape = shapes.get(x)!;
    const weight = (name: string, dims: readonly number[], data: Float32Array) => w.floats(`${n.id}::${name}`, dims, data);
    const wdata = (name: string) => n.weights[name].data as Float32Array;
    const simple = (opType: string, attrs: Record<string, AttrValue> = {}, extra: string[] = []) => w.node(opType, n.id, [...n.inputs, ...extra], n.id, attrs);
    for (const [name, t] of Object.entries(n.weights)) if (t.dtype !== 'float32') throw fail(n, `weight '${name}' is ${t.dtype}; ONNX export writes float32 weights`);
    switch (n.op) {
      case OpKind.Conv2d:
      case OpKind.DepthwiseConv2d: {
        const a = n.attrs;
        const [kh, kw] = a.kernel;
        let wName: string;
        let group: number;
        if (n.op === OpKind.Conv2d) {
          const ks = n.weights.kernel.shape;
          wName = weight('kernel', [ks[3], ks[2], kh, kw], hwioToOihw(wdata('kernel'), ks));
          group = n.attrs.groups;
        } else {
          const c = inShape[2];
          const m = n.attrs.depthMultiplier;
          wName = weight('kernel', [c * m, 1, kh, kw], irDepthwiseToOnnx(wdata('kernel'), kh, kw, c, m));
          group = c;
        }
        const ins = [x, wName, ...(a.useBias ? [weight('bias', n.weights.bias.shape, wdata('bias'))] : [])];
        w.node('Conv', n.id, ins, n.id, { kernel_shape: { ints: a.kernel }, strides: { ints: a.strides }, dilations: { ints: a.dilations }, pads: { ints: a.pads }, group: { i: group } });
        break;
      }
      case OpKind.Dense: {
        const hwc = flatChw.get(x);
        const units = n.attrs.units;
        const k = wdata('kernel');
        const kernel = hwc ? hwcRowsToChw(k, hwc, units) : k;
        const ins = [x, weight('kernel', n.weights.kernel.shape, kernel), ...(n.attrs.useBias ? [weight('bias', [units], wdata('bias'))] : [])];
        w.node('Gemm', n.id, ins, n.id, { transB: { i: 0 } });
        break;
      }
      case OpKind.BatchNorm: {
        if (inShape.length === 2) throw fail(n, `normalizes the last axis of a rank-2 value, which ONNX BatchNormalization (channel axis 1) cannot express`);
        const ws = ['gamma', 'beta', 'mean', 'variance'].map((k) => weight(k, n.weights[k].shape, wdata(k)));
        simple('BatchNormalization', { epsilon: { f: n.attrs.epsilon }, momentum: { f: n.attrs.momentum } }, ws);
        break;
      }
      case OpKind.Relu:
        simple('Relu');
        break;
      case OpKind.Relu6:
        simple('Clip', {}, [weight('min', [], Float32Array.of(0)), weight('max', [], Float32Array.of(6))]);
        break;
      case OpKind.LeakyRelu:
        simple('LeakyRelu', { alpha: { f: n.attrs.alpha } });
        break;
      case OpKind.Sigmoid:
        simple('Sigmoid');
        break;
      case OpKind.Add:
        simple(n.inputs.length === 2 ? 'Add' : 'Sum');
        break;
      case OpKind.Concat: {
        const ax = n.attrs.axis;
        simple('Concat', { axis: { i: inShape.length === 3 ? [2, 3, 1][ax] : ax + 1 } });
        break;
      }
      case OpKind.MaxPool:
      case OpKind.AvgPool: {
        const a = n.attrs;
        const attrs: Record<string, AttrValue> = { kernel_shape: { ints: a.kernel }, strides: { ints: a.strides }, pads: { ints: a.pads } };
        if (n.op === OpKind.AvgPool) attrs.count_include_pad = { i: n.attrs.countIncludePad ? 1 : 0 };
        simple(n.op === OpKind.MaxPool ? 'MaxPool' : 'AveragePool', attrs);
        break;
      }
      case OpKind.GlobalAvgPool: {
        // GlobalAveragePool keeps [N, C, 1, 1]; the IR value is [C], so flatten right after.
        const pooled = w.fresh(`${n.id}::pooled`);
        w.node('GlobalAveragePool', n.id, [x], pooled);
        w.node('Flatten', w.fresh(`${n.id}::flatten`), [pooled], n.id, { axis: { i: 1 } });
        break;
      }
      case OpKind.Flatten: {
        const onlyDense = (users.get(n.id) ?? []).every((u) => u.op === OpKind.Dense) && !outputs.has(n.id);
        if (inShape.length === 3 && onlyDense) {
          flatChw.set(n.id, [inShape[0], inShape[1], inShape[2]]);
          simple('Flatten', { axis: { i: 1 } });
        } else {
          const src = inShape.length === 3 ? toNhwc(w, n.id, x) : x;
          w.node('Flatten', n.id, [src], n.id, { axis: { i: 1 } });
        }
        break;
      }
      case OpKind.Reshape: {
        const src = inShape.length === 3 ? toNhwc(w, n.id, x) : x;
        const target = n.attrs.shape;
        const shapeName = w.int64s(`${n.id}::shape`, [0, ...target]);
        if (target.length === 3) {
          const mid = w.fresh(`${n.id}::nhwc_out`);
          w.node('Reshape', n.id, [src, shapeName], mid);
          w.node('Transpose', w.fresh(`${n.id}::to_nchw`), [mid], n.id, { perm: { ints: [0, 3, 1, 2] } });
        } else {
          w.node('Reshape', n.id, [src, shapeName], n.id);
        }
        break;
      }
      case OpKind.Pad: {
        const [t, l, b, r] = n.attrs.pads;
        simple('Pad', { mode: { s: 'constant' } }, [w.int64s(`${n.id}::pads`, [0, 0, t, l, 0, 0, b, r]), weight('value', [], Float32Array.of(n.attrs.value))]);
        break;
      }
      case OpKind.Softmax:
        simple('Softmax', { axis: { i: inShape.length === 3 ? 1 : -1 } });
        break;
      case OpKind.Dropout:
        simple('Dropout', {}, [weight('ratio', [], Float32Array.of(n.attrs.rate))]);
        break;
    }
  }

  const info = (id: string) => valueInfo(id, ['batch', ...onnxDims(shapes.get(id)!)]);
  const doc: TandemHints = { version: 1, nodes: hints, ...(graph.meta ? { meta: { ...graph.meta } } : {}) };
  return encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: ONNX_EXPORT_OPSET }],
    producerName: 'tandem',
    producerVersion: '0.1.0',
    graph: {
      name: graph.name,
      node: w.nodes,
      initializer: w.initializers,
      input: graph.inputs.map((i) => info(i.id)),
      output: graph.outputs.map(info),
    },
    metadataProps: [{ key: HINTS_KEY, value: JSON.stringify(doc) }],
  });
}

/** NCHW -> NHWC so a reshape/flatten sees the IR's element order. */
function toNhwc(w: OnnxGraphWriter, id: string, x: string): string {
  const out = w.fresh(`${id}::nhwc`);
  w.node('Transpose', w.fresh(`${id}::to_nhwc`), [x], out, { perm: { ints: [0, 2, 3, 1] } });
  return out;
}

/** Writes `outPath` atomically: on any error nothing is written. */
export async function exportOnnx(graph: Graph, outPath: string): Promise<void> {
  const bytes = exportOnnxBytes(graph, outPath);
  await writeFileAtomic(outPath, bytes);
}
