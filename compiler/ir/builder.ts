// Building graphs by hand (reference models, tests, importers): ids, origins, shapes and seeded
// initial weights are handled here so callers only state the architecture.
import { Rng } from '../util/rng.js';
import { inferShapes, verify } from './graph.js';
import {
  type AttrsByOp,
  type DType,
  type Graph,
  type GraphInput,
  IrError,
  type Node,
  OpKind,
  type Pads,
  type Pair,
  type Shape,
  type Tensor,
} from './types.js';

/** TensorFlow 'same' padding: output = ceil(in / stride); the extra pixel goes at the end. */
export function samePads(input: Shape, kernel: Pair, strides: Pair, dilations: Pair = [1, 1]): Pads {
  const one = (n: number, k: number, s: number, d: number): [number, number] => {
    const total = Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [t, b] = one(input[0], kernel[0], strides[0], dilations[0]);
  const [l, r] = one(input[1], kernel[1], strides[1], dilations[1]);
  return [t, l, b, r];
}

type Padding = 'same' | 'valid' | Pads;
const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

export interface NodeOptions {
  id?: string;
  origin?: string;
}
export interface ConvOptions extends NodeOptions {
  kernel: number | Pair;
  strides?: number | Pair;
  dilations?: number | Pair;
  padding?: Padding;
  useBias?: boolean;
  /** Start from a zero kernel (e.g. the last layer of a residual branch, so it starts as the identity). */
  zeroInit?: boolean;
}

export class GraphBuilder {
  private readonly inputs: GraphInput[] = [];
  private readonly nodes: Node[] = [];
  private readonly counters = new Map<string, number>();
  private shapes = new Map<string, Shape>();
  private readonly rng: Rng;

  constructor(
    readonly name: string,
    readonly seed = 0,
  ) {
    this.rng = new Rng(seed);
  }

  input(id: string, shape: Shape, dtype: DType = 'float32'): string {
    this.inputs.push({ id, shape, dtype });
    this.shapes.set(id, shape);
    return id;
  }

  shape(value: string): Shape {
    const s = this.shapes.get(value);
    if (!s) throw new IrError(`builder: unknown value '${value}'`);
    return s;
  }

  private freshId(op: string): string {
    const n = (this.counters.get(op) ?? 0) + 1;
    this.counters.set(op, n);
    const id = `${op}${n}`;
    return this.shapes.has(id) ? this.freshId(op) : id;
  }

  /** Adds any node with explicit attrs and weights; returns its value id. */
  add<K extends OpKind>(op: K, inputs: readonly string[], attrs: AttrsByOp[K], weights: Record<string, Tensor> = {}, opts: NodeOptions = {}): string {
    const id = opts.id ?? this.freshId(op);
    if (this.shapes.has(id)) throw new IrError(`builder: duplicate id '${id}'`);
    const node = { id, op, origin: opts.origin ?? id, inputs: [...inputs], attrs, weights } as unknown as Node;
    this.nodes.push(node);
    // Infer incrementally so errors point at the node just added.
    this.shapes = inferShapes({ name: this.name, inputs: this.inputs, nodes: this.nodes, outputs: [id] });
    return id;
  }

  /** He-normal (fan-in) initialisation, suited to ReLU networks. */
  private heNormal(shape: Shape, fanIn: number): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < n; i++) data[i] = this.rng.normal() * std;
    return { dtype: 'float32', shape, data };
  }

  private static filled(shape: Shape, v: number): Tensor {
    return { dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) };
  }

  private convGeometry(x: string, o: ConvOptions) {
    const kernel = pair(o.kernel);
    const strides = pair(o.strides ?? 1);
    const dilations = pair(o.dilations ?? 1);
    const p = o.padding ?? 'valid';
    const pads: Pads = p === 'same' ? samePads(this.shape(x), kernel, strides, dilations) : p === 'valid' ? [0, 0, 0, 0] : p;
    return { kernel, strides, dilations, pads, useBias: o.useBias ?? true };
  }

  conv2d(x: string, o: ConvOptions & { filters: number; groups?: number }): string {
    const g = this.convGeometry(x, o);
    const groups = o.groups ?? 1;
    const cin = this.shape(x)[2];
    const kshape = [g.kernel[0], g.kernel[1], cin / groups, o.filters];
    const kernel = o.zeroInit ? GraphBuilder.filled(kshape, 0) : this.heNormal(kshape, g.kernel[0] * g.kernel[1] * (cin / groups));
    const weights: Record<string, Tensor> = { kernel };
    if (g.useBias) weights.bias = GraphBuilder.filled([o.filters], 0);
    return this.add(OpKind.Conv2d, [x], { ...g, filters: o.filters, groups }, weights, o);
  }

  depthwiseConv2d(x: string, o: ConvOptions & { depthMultiplier?: number }): string {
    const g = this.convGeometry(x, o);
    const m = o.depthMultiplier ?? 1;
    const cin = this.shape(x)[2];
    const weights: Record<string, Tensor> = { kernel: this.heNormal([g.kernel[0], g.kernel[1], cin, m], g.kernel[0] * g.kernel[1]) };
    if (g.useBias) weights.bias = GraphBuilder.filled([cin * m], 0);
    return this.add(OpKind.DepthwiseConv2d, [x], { ...g, depthMultiplier: m }, weights, o);
  }

  dense(x: string, units: number, o: NodeOptions & { useBias?: boolean } = {}): string {
    const fanIn = this.shape(x)[0];
    const useBias = o.useBias ?? true;
    const weights: Record<string, Tensor> = { kernel: this.heNormal([fanIn, units], fanIn) };
    if (useBias) weights.bias = GraphBuilder.filled([units], 0);
    return this.add(OpKind.Dense, [x], { units, useBias }, weights, o);
  }

  batchNorm(x: string, o: NodeOptions & { epsilon?: number; momentum?: number } = {}): string {
    const c = [this.shape(x).at(-1)!];
    const weights = {
      gamma: GraphBuilder.filled(c, 1),
      beta: GraphBuilder.filled(c, 0),
      mean: GraphBuilder.filled(c, 0),
      variance: GraphBuilder.filled(c, 1),
    };
    // momentum 0.9 (PyTorch's 0.1) so running statistics settle within short fine-tuning runs.
    return this.add(OpKind.BatchNorm, [x], { epsilon: o.epsilon ?? 1e-3, momentum: o.momentum ?? 0.9 }, weights, o);
  }

  relu(x: string, o: NodeOptions = {}): string {
    return this.add(OpKind.Relu, [x], {}, {}, o);
  }
  relu6(x: string, o: NodeOptions = {}): string {
    return this.add(OpKind.Relu6, [x], {}, {}, o);
  }
  leakyRelu(x: string, alpha = 0.2, o: NodeOptions = {}): string {
    return this.add(OpKind.LeakyRelu, [x], { alpha }, {}, o);
  }
  sigmoid(x: string, o: NodeOptions = {}): string {
    return this.add(OpKind.Sigmoid, [x], {}, {}, o);
  }
  addValues(xs: readonly string[], o: NodeOptions = {}): string {
    return this.add(OpKind.Add, xs, {}, {}, o);
  }
  concat(xs: readonly string[], axis: number, o: NodeOptions = {}): string {
    return this.add(OpKind.Concat, xs, { axis }, {}, o);
  }
  maxPool(x: string, size: number | Pair, o: NodeOptions & { strides?: number | Pair; padding?: Padding } = {}): string {
    const kernel = pair(size);
    const strides = pair(o.strides ?? size);
    const p = o.padding ?? 'valid';
    const pads: Pads = p === 'same' ? samePads(this.shape(x), kernel, strides) : p === 'valid' ? [0, 0, 0, 0] : p;
    return this.add(OpKind.MaxPool, [x], { kernel, strides, pads }, {}, o);
  }
  avgPool(x: string, size: number | Pair, o: NodeOptions & { strides?: number | Pair; padding?: Padding; countIncludePad?: boolean } = {}): string {
    const kernel = pair(size);
    const strides = pair(o.strides ?? size);
    const p = o.padding ?? 'valid';
    const pads: Pads = p === 'same' ? samePads(this.shape(x), kernel, strides) : p === 'valid' ? [0, 0, 0, 0] : p;
    return this.add(OpKind.AvgPool, [x], { kernel, strides, pads, countIncludePad: o.countIncludePad ?? false }, {}, o);
  }
  globalAvgPool(x: string, o: NodeOptions = {}): string {
    return this.add(OpKind.GlobalAvgPool, [x], {}, {}, o);
  }
  flatten(x: string, o: NodeOptions = {}): string {
    return this.add(OpKind.Flatten, [x], {}, {}, o);
  }
  reshape(x: string, shape: Shape, o: NodeOptions = {}): string {
    return this.add(OpKind.Reshape, [x], { shape }, {}, o);
  }
  pad(x: string, pads: Pads, value = 0, o: NodeOptions = {}): string {
    return this.add(OpKind.Pad, [x], { pads, value }, {}, o);
  }
  softmax(x: string, o: NodeOptions = {}): string {
    return this.add(OpKind.Softmax, [x], { axis: this.shape(x).length - 1 }, {}, o);
  }
  dropout(x: string, rate: number, o: NodeOptions = {}): string {
    return this.add(OpKind.Dropout, [x], { rate }, {}, o);
  }

  build(outputs: readonly string[], meta?: Record<string, unknown>): Graph {
    const g: Graph = { name: this.name, inputs: [...this.inputs], nodes: [...this.nodes], outputs: [...outputs], ...(meta ? { meta } : {}) };
    verify(g);
    return g;
  }
}
