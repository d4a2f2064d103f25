// A quantized Graph as the blob's layers (docs/blob-format.md): value indices, [h, w, c] shapes,
// attributes and integer tensors, with every check that makes a graph unfit for format version 1
// (float nodes, bits other than 8, ops without a code, too many layers) raised as an error naming the
// node. The integer tensors come from the executor's own integerLayers, so blob and executor agree.
import { inferShapes } from '../../compiler/ir/graph.js';
import { opDef } from '../../compiler/ir/ops.js';
import { type Graph, IrError, type Node, OpKind, type Shape } from '../../compiler/ir/types.js';
import { clamp, quantizeMultiplier, roundHalfAway } from '../../compiler/passes/quantize/fixed-point.js';
import { integerLayers } from '../../compiler/passes/quantize/int8-executor.js';
import { activationRange, OWN_PARAMS, valueParams, WEIGHTED } from '../../compiler/passes/quantize/scheme.js';
import { FLAG_COUNT_INCLUDE_PAD, FORMAT_MAX_LAYERS, MAX_INPUTS, OP_CODES, RUNTIME_MAX_LAYERS } from './format.js';

export type Hwc = readonly [number, number, number];

export interface BlobLayer {
  readonly op: number;
  readonly name: string;
  readonly flags: number;
  readonly inputs: readonly number[];
  readonly outShape: Hwc;
  readonly outZeroPoint: number;
  readonly outScale: number;
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
  readonly param: number;
  readonly macs: number;
  readonly weights?: Int8Array;
  readonly bias?: Int32Array;
  readonly m0?: Int32Array;
  readonly shift?: Int8Array;
}

export interface BlobModel {
  readonly input: { readonly shape: Hwc; readonly zeroPoint: number; readonly scale: number; readonly bits: number };
  readonly layers: readonly BlobLayer[];
}

export interface BlobOptions {
  /** Most layers the target runtime takes (default tandem_rt.h's TRT_MAX_LAYERS, 128). */
  readonly maxLayers?: number;
}

/** The runtime accumulates Σ (q_x − z_x)·q_w in int32: |q_x − z_x| ≤ 255, |q_w| ≤ 127. */
const MAX_TERMS = Math.floor((2 ** 31 - 1) / (255 * 127));
const U16 = 65535;

function hwc(s: Shape, id: string): Hwc {
  if (s.length > 3) throw new IrError(`value shape [${s.join(', ')}] has rank ${s.length}: the blob holds rank 1..3 ([h, w, c])`, id);
  const r: Hwc = s.length === 3 ? [s[0], s[1], s[2]] : s.length === 2 ? [1, s[0], s[1]] : [1, 1, s[0] ?? 1];
  if (r.some((d) => d > U16)) throw new IrError(`value shape [${s.join(', ')}] has a dimension above 65535 (u16 in the blob)`, id);
  return r;
}

/** The unsupported-for-version-1 checks that need only the node itself. */
function checkNode(n: Node): number {
  const op = OP_CODES.get(n.op);
  if (op === undefined) throw new IrError(`${n.op} has no op code in the blob format (docs/blob-format.md): expected one of ${[...OP_CODES.keys()].join(', ')}`, n.id);
  if (OWN_PARAMS.has(n.op)) {
    const q = n.quant;
    if (!q || q.outputScale === undefined || q.outputZeroPoint === undefined || q.activationBits === undefined) throw new IrError('float node (no output scale / zero point): the blob holds int8-quantized graphs only, run tandem quantize first', n.id);
    if (q.activationBits !== 8) throw new IrError(`${q.activationBits}-bit activations: blob format version 1 expects activationBits 8`, n.id);
    if (WEIGHTED.has(n.op) && q.weightBits !== 8) throw new IrError(`${q.weightBits ?? 'no'}-bit weights: blob format version 1 expects weightBits 8`, n.id);
  }
  if (n.inputs.length > MAX_INPUTS) throw new IrError(`${n.inputs.length} inputs: a blob layer takes at most ${MAX_INPUTS}`, n.id);
  if (n.op === OpKind.Conv2d && n.attrs.groups !== 1) throw new IrError(`conv2d with groups ${n.attrs.groups}: the blob has conv2d with groups 1 and depthwiseConv2d only`, n.id);
  return op;
}

export function blobModel(graph: Graph, opts: BlobOptions = {}): BlobModel {
  const maxLayers = Math.min(opts.maxLayers ?? RUNTIME_MAX_LAYERS, FORMAT_MAX_LAYERS);
  if (graph.inputs.length !== 1) throw new IrError(`graph '${graph.name}' has ${graph.inputs.length} inputs: the blob expects exactly 1`);
  if (graph.nodes.length === 0) throw new IrError(`graph '${graph.name}' has no nodes`);
  if (graph.nodes.length > maxLayers) throw new IrError(`layer ${maxLayers + 1} of ${graph.nodes.length}: too many layers, the runtime takes at most ${maxLayers} (TRT_MAX_LAYERS)`, graph.nodes[maxLayers].id);
  const codes = graph.nodes.map(checkNode);
  const input = graph.inputs[0];
  if (!input.quant) throw new IrError(`graph input '${input.id}' is float (no quantization parameters): the blob holds int8-quantized graphs only, run tandem quantize first`);
  if (input.quant.bits !== 8) throw new IrError(`graph input '${input.id}' has ${input.quant.bits}-bit codes: blob format version 1 expects 8`);
  const last = graph.nodes[graph.nodes.length - 1];
  if (graph.outputs.length !== 1 || graph.outputs[0] !== last.id) throw new IrError(`graph outputs [${graph.outputs.join(', ')}]: the blob expects one output, the last node '${last.id}'`);
  const params = valueParams(graph);
  const shapes = inferShapes(graph);
  const ints = integerLayers(graph, params);
  const index = new Map<string, number>([[input.id, 0]]);
  graph.nodes.forEach((n, i) => index.set(n.id, i + 1));
  const layers = graph.nodes.map((n, i): BlobLayer => {
    if (n.op === OpKind.Softmax && n !== last) throw new IrError('softmax before the last node: the blob runs a final softmax only (as a no-op on the logit codes)', n.id);
    const xs = shapes.get(n.inputs[0])!;
    const ys = shapes.get(n.id)!;
    const pin = params.get(n.inputs[0])!;
    const pout = n.op === OpKind.Softmax ? pin : params.get(n.id)!;
    const base = {
      op: codes[i],
      name: n.id,
      flags: 0,
      inputs: n.inputs.map((v) => index.get(v)!),
      outShape: hwc(ys, n.id),
      outZeroPoint: pout.zeroPoint,
      outScale: pout.scale,
      kernel: [0, 0] as const,
      strides: [0, 0] as const,
      dilations: [0, 0] as const,
      pads: [0, 0, 0, 0] as const,
      param: 0,
      macs: (opDef(n.op) as unknown as { macs(n: Node, i: readonly Shape[], o: Shape): number }).macs(
        n,
        n.inputs.map((v) => shapes.get(v)!),
        ys,
      ),
    };
    const code = (value: number) => clamp(roundHalfAway(value / pin.scale) + pin.zeroPoint, ...activationRange(pin.bits));
    const tensors = (terms: number) => {
      if (terms > MAX_TERMS) throw new IrError(`${terms} terms per accumulator: the runtime's int32 accumulator holds at most ${MAX_TERMS}`, n.id);
      const L = ints.get(n.id)!;
      return {
        weights: Int8Array.from(L.weights),
        bias: Int32Array.from(L.bias),
        m0: Int32Array.from(L.multipliers, (m) => m.m0),
        shift: Int8Array.from(L.multipliers, (m) => m.shift),
      };
    };
    const u16 = (what: string, v: readonly number[]) => {
      if (v.some((d) => d < 0 || d > U16)) throw new IrError(`${what} [${v.join(', ')}] outside 0..65535 (u16 in the blob)`, n.id);
      return v;
    };
    switch (n.op) {
      case OpKind.Conv2d:
      case OpKind.DepthwiseConv2d: {
        const a = n.attrs;
        const depthwise = n.op === OpKind.DepthwiseConv2d;
        u16('kernel/strides/dilations/pads', [...a.kernel, ...a.strides, ...a.dilations, ...a.pads]);
        return {
          ...base,
          kernel: a.kernel,
          strides: a.strides,
          dilations: a.dilations,
          pads: a.pads,
          param: n.op === OpKind.DepthwiseConv2d ? n.attrs.depthMultiplier : 0,
          ...tensors(a.kernel[0] * a.kernel[1] * (depthwise ? 1 : xs[xs.length - 1])),
        };
      }
      case OpKind.Dense:
        return { ...base, ...tensors(xs.reduce((p, d) => p * d, 1)) };
      case OpKind.Relu6:
        return { ...base, param: code(6) };
      case OpKind.Pad:
        u16('pads', n.attrs.pads);
        return { ...base, pads: n.attrs.pads, param: code(n.attrs.value) };
      case OpKind.MaxPool:
      case OpKind.AvgPool: {
        const a = n.attrs;
        u16('kernel/strides/pads', [...a.kernel, ...a.strides, ...a.pads]);
        const flags = n.op === OpKind.AvgPool && n.attrs.countIncludePad ? FLAG_COUNT_INCLUDE_PAD : 0;
        return { ...base, flags, kernel: a.kernel, strides: a.strides, pads: a.pads };
      }
      case OpKind.Add:
      case OpKind.Concat: {
        if (n.op === OpKind.Concat && n.attrs.axis !== ys.length - 1) throw new IrError(`concat on axis ${n.attrs.axis}: the blob (like the integer executor) concatenates on the channel axis only`, n.id);
        // M_i = s_i / s_y: the same multiplier as the executor's rescaler
        const ms = n.inputs.map((v) => quantizeMultiplier(params.get(v)!.scale / pout.scale));
        return { ...base, m0: Int32Array.from(ms, (m) => m.m0), shift: Int8Array.from(ms, (m) => m.shift) };
      }
      default:
        return base;
    }
  });
  return { input: { shape: hwc(input.shape, input.id), zeroPoint: input.quant.zeroPoint, scale: input.quant.scale, bits: input.quant.bits }, layers };
}
