// The IR executed with tfjs ops: the single forward definition used for inference and training.
import * as tf from '@tensorflow/tfjs';
import { inferShapes } from '../ir/graph.js';
import { samePads } from '../ir/builder.js';
import { type ConvAttrs, type Graph, IrError, type Node, OpKind, type Pads, type Pair, type Shape } from '../ir/types.js';
import { concatFloat32 } from '../util/arrays.js';
import { initBackend } from './backend.js';

/** Weight tensors per node id, per weight name. */
export type Params = Map<string, Record<string, tf.Tensor>>;

export interface ForwardOptions {
  /** Training mode: batch statistics in batchNorm, active dropout. */
  readonly training?: boolean;
  /** Seed for dropout masks (vary it per step). */
  readonly seed?: number;
  /** Called in training mode with each batchNorm's batch mean and (biased) variance. */
  readonly onBatchStats?: (nodeId: string, mean: Float32Array, variance: Float32Array) => void;
  /** Called in QAT with each range-tracking value's batch [min, max] (passes/quantize/qat-ranges.ts). */
  readonly onActivationRange?: (nodeId: string, lo: number, hi: number) => void;
  /**
   * Hook to replace or wrap a node's computation (e.g. fake-quantization, an accelerator model).
   * `dflt` computes the node as usual, optionally on other inputs or weights. Return undefined to use
   * the default.
   */
  readonly override?: (
    node: Node,
    inputs: readonly tf.Tensor[],
    params: Record<string, tf.Tensor>,
    dflt: (inputs?: readonly tf.Tensor[], params?: Record<string, tf.Tensor>) => tf.Tensor,
  ) => tf.Tensor | undefined;
  /** Values to return instead of the graph outputs (e.g. the logits before a final softmax). */
  readonly outputs?: readonly string[];
}

export function paramsFromGraph(graph: Graph): Params {
  const p: Params = new Map();
  for (const n of graph.nodes) {
    const rec: Record<string, tf.Tensor> = {};
    for (const [name, w] of Object.entries(n.weights)) {
      if (w.dtype !== 'float32') throw new IrError(`weight '${name}' is ${w.dtype}; the float engine needs float32`, n.id);
      rec[name] = tf.tensor(w.data, [...w.shape], 'float32');
    }
    p.set(n.id, rec);
  }
  return p;
}

export function disposeParams(p: Params): void {
  for (const rec of p.values()) for (const t of Object.values(rec)) t.dispose();
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
const explicit = (p: Pads): Pad4 => [
  [0, 0],
  [p[0], p[2]],
  [p[1], p[3]],
  [0, 0],
];
const zero = (p: Pads) => p.every((v) => v === 0);
const eq = (a: Pads, b: Pads) => a.every((v, i) => v === b[i]);

/** tfjs padding argument for a window op: the string forms where they are exact, else explicit. */
function tfPad(input: Shape, kernel: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number], pads: Pads): 'valid' | 'same' | Pad4 {
  if (zero(pads)) return 'valid';
  if (eq(pads, samePads(input, kernel, strides, dilations))) return 'same';
  return explicit(pads);
}

/** Zero-inserts a [kh, kw, a, b] kernel to its dilated extent ((k - 1) * d + 1). */
function dilateKernel(k: tf.Tensor4D, [dh, dw]: Pair): tf.Tensor4D {
  const [kh, kw, a, b] = k.shape;
  let t: tf.Tensor = k;
  if (dh > 1) {
    t = tf.pad(tf.reshape(t, [kh, 1, kw * a * b]), [[0, 0], [0, dh - 1], [0, 0]]);
    t = tf.slice(tf.reshape(t, [kh * dh, kw, a, b]), [0, 0, 0, 0], [(kh - 1) * dh + 1, kw, a, b]);
  }
  const h = t.shape[0];
  if (dw > 1) {
    t = tf.pad(tf.reshape(t, [h, kw, 1, a * b]), [[0, 0], [0, 0], [0, dw - 1], [0, 0]]);
    t = tf.slice(tf.reshape(t, [h, kw * dw, a, b]), [0, 0, 0, 0], [h, (kw - 1) * dw + 1, a, b]);
  }
  return t as tf.Tensor4D;
}

/**
 * The kernel and dilation a conv runs with. tfjs's conv gradients refuse dilation > 1 and its convs
 * refuse stride and dilation both > 1, so there the kernel is dilated explicitly (same result).
 */
function convKernel(k: tf.Tensor4D, a: ConvAttrs, training: boolean): { k: tf.Tensor4D; kernel: Pair; dilations: Pair } {
  const dilated = a.dilations[0] > 1 || a.dilations[1] > 1;
  if (!dilated || !(training || a.strides[0] > 1 || a.strides[1] > 1)) return { k, kernel: a.kernel, dilations: a.dilations };
  const kd = dilateKernel(k, a.dilations);
  return { k: kd, kernel: [kd.shape[0], kd.shape[1]], dilations: [1, 1] };
}

function conv2d(node: Extract<Node, { op: OpKind.Conv2d }>, x: tf.Tensor4D, w: Record<string, tf.Tensor>, inShape: Shape, training: boolean): tf.Tensor {
  const a = node.attrs;
  const { k, kernel, dilations } = convKernel(w.kernel as tf.Tensor4D, a, training);
  const pad = tfPad(inShape, kernel, a.strides, dilations, a.pads);
  const strides = [...a.strides] as [number, number];
  const dil = [...dilations] as [number, number];
  const bias = a.useBias ? (w.bias as tf.Tensor1D) : undefined;
  if (a.groups === 1) return tf.fused.conv2d({ x, filter: k, strides, pad, dilations: dil, bias });
  // Grouped conv: one conv per group, then concat along channels.
  const cin = inShape[2] / a.groups;
  const cout = a.filters / a.groups;
  const outs: tf.Tensor4D[] = [];
  for (let g = 0; g < a.groups; g++) {
    const xs = tf.slice(x, [0, 0, 0, g * cin], [-1, -1, -1, cin]);
    const ks = tf.slice(k, [0, 0, 0, g * cout], [-1, -1, -1, cout]);
    outs.push(tf.conv2d(xs, ks, strides, pad, 'NHWC', dil));
  }
  const y = tf.concat(outs, 3);
  return bias ? tf.add(y, bias) : y;
}

function avgPool(node: Extract<Node, { op: OpKind.AvgPool }>, x: tf.Tensor4D, inShape: Shape): tf.Tensor {
  const a = node.attrs;
  const k = [...a.kernel] as [number, number];
  const s = [...a.strides] as [number, number];
  if (zero(a.pads)) return tf.avgPool(x, k, s, 'valid');
  if (!a.countIncludePad && eq(a.pads, samePads(inShape, a.kernel, a.strides))) return tf.avgPool(x, k, s, 'same');
  const padded = tf.pad(x, explicit(a.pads));
  if (a.countIncludePad) return tf.avgPool(padded, k, s, 'valid');
  // Exclude padded cells from the divisor: divide by the pooled mask of real cells.
  const mask = tf.pad(tf.ones([1, inShape[0], inShape[1], 1]), explicit(a.pads));
  return tf.div(tf.avgPool(padded, k, s, 'valid'), tf.avgPool(mask as tf.Tensor4D, k, s, 'valid'));
}

function batchNorm(node: Extract<Node, { op: OpKind.BatchNorm }>, x: tf.Tensor, w: Record<string, tf.Tensor>, opts: ForwardOptions, seed: number): tf.Tensor {
  const eps = node.attrs.epsilon;
  if (!opts.training) return tf.batchNorm(x, w.mean, w.variance, w.beta, w.gamma, eps);
  const y = trainingBatchNorm(node, x, w, opts);
  if (node.attrs.mask !== 'variational') return y;
  // variational channel mask: multiplicative N(1, alpha) noise per sample and channel
  const shape = x.shape.map((d, i) => (i === 0 || i === x.rank - 1 ? d : 1));
  const eps01 = tf.randomNormal(shape, 0, 1, 'float32', seed);
  return tf.mul(y, tf.add(1, tf.mul(tf.exp(tf.mul(w.logAlpha, 0.5)), eps01)));
}

function trainingBatchNorm(node: Extract<Node, { op: OpKind.BatchNorm }>, x: tf.Tensor, w: Record<string, tf.Tensor>, opts: ForwardOptions): tf.Tensor {
  const eps = node.attrs.epsilon;
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  opts.onBatchStats?.(node.id, mean.dataSync() as Float32Array, variance.dataSync() as Float32Array);
  // x * scale + shift with per-channel vectors: tfjs's batchNorm gradient tiles its [C] operands to
  // the full activation shape, which dominated the training step on wasm.
  const scale = tf.mul(w.gamma, tf.rsqrt(tf.add(variance, eps)));
  const shift = tf.sub(w.beta, tf.mul(mean, scale));
  return tf.add(tf.mul(x, scale), shift);
}

/** Runs the graph on a batch; returns the graph outputs (batch-major). Call inside tf.tidy or dispose. */
export function forward(graph: Graph, params: Params, inputs: readonly tf.Tensor[], opts: ForwardOptions = {}): tf.Tensor[] {
  const shapes = inferShapes(graph);
  const values = new Map<string, tf.Tensor>();
  graph.inputs.forEach((inp, i) => values.set(inp.id, inputs[i]));
  let dropoutSeed = opts.seed ?? 0;
  // Inference frees as it goes (each node's intermediates, and every value after its last use), so memory
  // follows the live activations rather than everything the network ever computed. Training keeps all:
  // the gradient needs them.
  const wanted = opts.outputs ?? graph.outputs;
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((v) => lastUse.set(v, i)));
  const owned = (v: string) => !graph.inputs.some((i) => i.id === v) && !wanted.includes(v);
  graph.nodes.forEach((node, i) => {
    const xs = node.inputs.map((v) => values.get(v)!);
    const w = params.get(node.id) ?? {};
    const dflt = (ins: readonly tf.Tensor[] = xs, ws: Record<string, tf.Tensor> = w) => apply(node, [...ins], ws, shapes.get(node.inputs[0])!, opts, dropoutSeed++);
    const compute = () => opts.override?.(node, xs, w, dflt) ?? dflt();
    values.set(node.id, opts.training ? compute() : tf.tidy(compute));
    if (opts.training) return;
    for (const v of new Set(node.inputs)) {
      if (lastUse.get(v) !== i || !owned(v)) continue;
      const t = values.get(v)!;
      values.delete(v);
      // an op may hand its input through unchanged (dropout at inference): the same tensor lives on
      if (![...values.values()].includes(t)) t.dispose();
    }
  });
  return wanted.map((o) => {
    const v = values.get(o);
    if (!v) throw new IrError(`no value '${o}' in graph '${graph.name}'`);
    return v;
  });
}

function apply(node: Node, xs: tf.Tensor[], w: Record<string, tf.Tensor>, inShape: Shape, opts: ForwardOptions, seed: number): tf.Tensor {
  const x = xs[0];
  const batch = x.shape[0];
  switch (node.op) {
    case OpKind.Conv2d:
      return conv2d(node, x as tf.Tensor4D, w, inShape, !!opts.training);
    case OpKind.DepthwiseConv2d: {
      const a = node.attrs;
      const { k, kernel, dilations } = convKernel(w.kernel as tf.Tensor4D, a, !!opts.training);
      const pad = tfPad(inShape, kernel, a.strides, dilations, a.pads);
      // tfjs depthwise takes no explicit padding: pad first, then run 'valid'.
      const xin = typeof pad === 'string' ? x : tf.pad(x, pad);
      return tf.fused.depthwiseConv2d({
        x: xin as tf.Tensor4D,
        filter: k,
        strides: [...a.strides] as [number, number],
        pad: typeof pad === 'string' ? pad : 'valid',
        dilations: [...dilations] as [number, number],
        bias: a.useBias ? w.bias : undefined,
      });
    }
    case OpKind.Dense:
      return tf.fused.matMul({ a: x as tf.Tensor2D, b: w.kernel as tf.Tensor2D, bias: node.attrs.useBias ? w.bias : undefined });
    case OpKind.BatchNorm:
      return batchNorm(node, x, w, opts, seed);
    case OpKind.Relu:
      return tf.relu(x);
    case OpKind.Relu6:
      return tf.relu6(x);
    case OpKind.LeakyRelu:
      return tf.leakyRelu(x, node.attrs.alpha);
    case OpKind.Sigmoid:
      return tf.sigmoid(x);
    case OpKind.Add:
      return xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs);
    case OpKind.Concat:
      return tf.concat(xs, node.attrs.axis + 1);
    case OpKind.MaxPool: {
      const a = node.attrs;
      const k = [...a.kernel] as [number, number];
      const s = [...a.strides] as [number, number];
      if (zero(a.pads)) return tf.maxPool(x as tf.Tensor4D, k, s, 'valid');
      if (eq(a.pads, samePads(inShape, a.kernel, a.strides))) return tf.maxPool(x as tf.Tensor4D, k, s, 'same');
      return tf.maxPool(tf.pad(x, explicit(a.pads), -Infinity) as tf.Tensor4D, k, s, 'valid');
    }
    case OpKind.AvgPool:
      return avgPool(node, x as tf.Tensor4D, inShape);
    case OpKind.GlobalAvgPool:
      return tf.mean(x, [1, 2]);
    case OpKind.Flatten:
      return tf.reshape(x, [batch, -1]);
    case OpKind.Reshape:
      return tf.reshape(x, [batch, ...node.attrs.shape]);
    case OpKind.Pad:
      return tf.pad(x, explicit(node.attrs.pads), node.attrs.value);
    case OpKind.Softmax:
      return tf.softmax(x);
    case OpKind.Dropout:
      return opts.training && node.attrs.rate > 0 ? tf.dropout(x, node.attrs.rate, undefined, seed) : x;
  }
}

/**
 * Inference on a batch: input is batch-major NHWC for the (single) graph input.
 * Returns one Float32Array per graph output. Runs in chunks so memory stays bounded.
 */
export async function runGraph(graph: Graph, input: Float32Array, batch: number, opts: { chunk?: number } = {}): Promise<Float32Array[]> {
  await initBackend();
  if (graph.inputs.length !== 1) throw new IrError(`runGraph supports one graph input, '${graph.name}' has ${graph.inputs.length}`);
  const inShape = graph.inputs[0].shape;
  const per = inShape.reduce((a, b) => a * b, 1);
  if (input.length !== per * batch) throw new IrError(`input holds ${input.length} values, expected ${batch} × [${inShape.join(', ')}] = ${per * batch}`);
  const params = paramsFromGraph(graph);
  try {
    const chunk = opts.chunk ?? 256;
    const parts: Float32Array[][] = graph.outputs.map(() => []);
    for (let b0 = 0; b0 < batch; b0 += chunk) {
      const n = Math.min(chunk, batch - b0);
      const outs = tf.tidy(() => {
        const x = tf.tensor(input.subarray(b0 * per, (b0 + n) * per), [n, ...inShape]);
        return forward(graph, params, [x]);
      });
      for (let i = 0; i < outs.length; i++) parts[i].push((await outs[i].data()) as Float32Array);
      // Two outputs may be the same tensor (e.g. a dropout passes its input through).
      for (const t of new Set(outs)) t.dispose();
    }
    return parts.map(concatFloat32);
  } finally {
    disposeParams(params);
  }
}
