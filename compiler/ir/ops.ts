// One table of op definitions: arity, weights, shape inference and MAC count per op.
// Everything that needs to know "what an op is" (verifier, stats, printer, importers) reads it here.
import { type AttrsByOp, type ConvAttrs, IrError, type NodeOf, OpKind, type Pads, type Pair, type Shape } from './types.js';

export interface OpDef<K extends OpKind> {
  readonly kind: K;
  /** Inclusive bounds on the number of inputs. */
  readonly arity: readonly [number, number];
  /** Expected weight shapes given the input shapes; optional weights appear only when attrs ask for them. */
  weightShapes(node: NodeOf<K>, inputs: readonly Shape[]): Record<string, Shape>;
  /** Output shape, or throws IrError naming the node. */
  inferShape(node: NodeOf<K>, inputs: readonly Shape[]): Shape;
  /** Multiply-accumulates per sample. */
  macs(node: NodeOf<K>, inputs: readonly Shape[], output: Shape): number;
}

const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);

export function convOutSize(inSize: number, k: number, stride: number, dilation: number, padBegin: number, padEnd: number): number {
  return Math.floor((inSize + padBegin + padEnd - dilation * (k - 1) - 1) / stride) + 1;
}

function spatialOut(id: string, input: Shape, kernel: Pair, strides: Pair, dilations: Pair, pads: Pads): [number, number] {
  if (input.length !== 3) throw new IrError(`expects an HWC input, got shape [${input.join(', ')}]`, id);
  const ho = convOutSize(input[0], kernel[0], strides[0], dilations[0], pads[0], pads[2]);
  const wo = convOutSize(input[1], kernel[1], strides[1], dilations[1], pads[1], pads[3]);
  if (ho <= 0 || wo <= 0) throw new IrError(`window larger than padded input [${input.join(', ')}]`, id);
  return [ho, wo];
}

function checkConvAttrs(id: string, a: ConvAttrs): void {
  const ok = (p: readonly number[], min: number) => p.every((v) => Number.isInteger(v) && v >= min);
  if (!ok(a.kernel, 1) || !ok(a.strides, 1) || !ok(a.dilations, 1) || !ok(a.pads, 0)) {
    throw new IrError('kernel/strides/dilations must be positive integers and pads non-negative integers', id);
  }
}

const elementwise = <K extends OpKind>(kind: K): OpDef<K> => ({
  kind,
  arity: [1, 1],
  weightShapes: () => ({}),
  inferShape: (_n, [x]) => x,
  macs: () => 0,
});

function channels(id: string, s: Shape): number {
  if (s.length === 0) throw new IrError('expects at least one dimension', id);
  return s[s.length - 1];
}

export const OPS: { readonly [K in OpKind]: OpDef<K> } = {
  [OpKind.Conv2d]: {
    kind: OpKind.Conv2d,
    arity: [1, 1],
    weightShapes(n, [x]) {
      const cin = channels(n.id, x);
      const w: Record<string, Shape> = { kernel: [n.attrs.kernel[0], n.attrs.kernel[1], cin / n.attrs.groups, n.attrs.filters] };
      if (n.attrs.useBias) w.bias = [n.attrs.filters];
      return w;
    },
    inferShape(n, [x]) {
      checkConvAttrs(n.id, n.attrs);
      const cin = channels(n.id, x);
      const g = n.attrs.groups;
      if (!Number.isInteger(g) || g < 1 || cin % g !== 0 || n.attrs.filters % g !== 0) {
        throw new IrError(`groups=${g} must divide input channels (${cin}) and filters (${n.attrs.filters})`, n.id);
      }
      const [ho, wo] = spatialOut(n.id, x, n.attrs.kernel, n.attrs.strides, n.attrs.dilations, n.attrs.pads);
      return [ho, wo, n.attrs.filters];
    },
    macs: (n, [x], y) => size(y) * n.attrs.kernel[0] * n.attrs.kernel[1] * (channels(n.id, x) / n.attrs.groups),
  },
  [OpKind.DepthwiseConv2d]: {
    kind: OpKind.DepthwiseConv2d,
    arity: [1, 1],
    weightShapes(n, [x]) {
      const cin = channels(n.id, x);
      const w: Record<string, Shape> = { kernel: [n.attrs.kernel[0], n.attrs.kernel[1], cin, n.attrs.depthMultiplier] };
      if (n.attrs.useBias) w.bias = [cin * n.attrs.depthMultiplier];
      return w;
    },
    inferShape(n, [x]) {
      checkConvAttrs(n.id, n.attrs);
      const [ho, wo] = spatialOut(n.id, x, n.attrs.kernel, n.attrs.strides, n.attrs.dilations, n.attrs.pads);
      return [ho, wo, channels(n.id, x) * n.attrs.depthMultiplier];
    },
    macs: (n, _x, y) => size(y) * n.attrs.kernel[0] * n.attrs.kernel[1],
  },
  [OpKind.Dense]: {
    kind: OpKind.Dense,
    arity: [1, 1],
    weightShapes(n, [x]) {
      const w: Record<string, Shape> = { kernel: [channels(n.id, x), n.attrs.units] };
      if (n.attrs.useBias) w.bias = [n.attrs.units];
      return w;
    },
    inferShape(n, [x]) {
      if (x.length !== 1) throw new IrError(`dense expects a flat input, got [${x.join(', ')}] (insert a flatten)`, n.id);
      return [n.attrs.units];
    },
    macs: (n, [x]) => x[0] * n.attrs.units,
  },
  [OpKind.BatchNorm]: {
    kind: OpKind.BatchNorm,
    arity: [1, 1],
    weightShapes(n, [x]) {
      const c = [channels(n.id, x)];
      return { gamma: c, beta: c, mean: c, variance: c, ...(n.attrs.mask === 'variational' ? { logAlpha: c } : {}) };
    },
    inferShape: (_n, [x]) => x,
    macs: () => 0,
  },
  [OpKind.Relu]: elementwise(OpKind.Relu),
  [OpKind.Relu6]: elementwise(OpKind.Relu6),
  [OpKind.LeakyRelu]: elementwise(OpKind.LeakyRelu),
  [OpKind.Sigmoid]: elementwise(OpKind.Sigmoid),
  [OpKind.Dropout]: elementwise(OpKind.Dropout),
  [OpKind.Add]: {
    kind: OpKind.Add,
    arity: [2, Infinity],
    weightShapes: () => ({}),
    inferShape(n, xs) {
      const s = xs[0];
      for (const other of xs) {
        if (other.length !== s.length || other.some((d, i) => d !== s[i])) {
          throw new IrError(`add inputs differ in shape: ${xs.map((x) => `[${x.join(', ')}]`).join(' vs ')}`, n.id);
        }
      }
      return s;
    },
    macs: () => 0,
  },
  [OpKind.Concat]: {
    kind: OpKind.Concat,
    arity: [1, Infinity],
    weightShapes: () => ({}),
    inferShape(n, xs) {
      const ax = n.attrs.axis;
      const s = xs[0];
      if (!Number.isInteger(ax) || ax < 0 || ax >= s.length) throw new IrError(`concat axis ${ax} out of range for rank ${s.length}`, n.id);
      let total = 0;
      for (const x of xs) {
        if (x.length !== s.length || x.some((d, i) => i !== ax && d !== s[i])) {
          throw new IrError(`concat inputs differ off axis ${ax}: ${xs.map((v) => `[${v.join(', ')}]`).join(' vs ')}`, n.id);
        }
        total += x[ax];
      }
      return s.map((d, i) => (i === ax ? total : d));
    },
    macs: () => 0,
  },
  [OpKind.MaxPool]: {
    kind: OpKind.MaxPool,
    arity: [1, 1],
    weightShapes: () => ({}),
    inferShape(n, [x]) {
      const [ho, wo] = spatialOut(n.id, x, n.attrs.kernel, n.attrs.strides, [1, 1], n.attrs.pads);
      return [ho, wo, x[2]];
    },
    macs: () => 0,
  },
  [OpKind.AvgPool]: {
    kind: OpKind.AvgPool,
    arity: [1, 1],
    weightShapes: () => ({}),
    inferShape(n, [x]) {
      const [ho, wo] = spatialOut(n.id, x, n.attrs.kernel, n.attrs.strides, [1, 1], n.attrs.pads);
      return [ho, wo, x[2]];
    },
    macs: () => 0,
  },
  [OpKind.GlobalAvgPool]: {
    kind: OpKind.GlobalAvgPool,
    arity: [1, 1],
    weightShapes: () => ({}),
    inferShape(n, [x]) {
      if (x.length !== 3) throw new IrError(`globalAvgPool expects HWC, got [${x.join(', ')}]`, n.id);
      return [x[2]];
    },
    macs: () => 0,
  },
  [OpKind.Flatten]: {
    kind: OpKind.Flatten,
    arity: [1, 1],
    weightShapes: () => ({}),
    inferShape: (_n, [x]) => [size(x)],
    macs: () => 0,
  },
  [OpKind.Reshape]: {
    kind: OpKind.Reshape,
    arity: [1, 1],
    weightShapes: () => ({}),
    inferShape(n, [x]) {
      const t = n.attrs.shape;
      if (t.some((d) => !Number.isInteger(d) || d < 1) || size(t) !== size(x)) {
        throw new IrError(`cannot reshape [${x.join(', ')}] to [${t.join(', ')}]`, n.id);
      }
      return t;
    },
    macs: () => 0,
  },
  [OpKind.Pad]: {
    kind: OpKind.Pad,
    arity: [1, 1],
    weightShapes: () => ({}),
    inferShape(n, [x]) {
      if (x.length !== 3) throw new IrError(`pad expects HWC, got [${x.join(', ')}]`, n.id);
      const p = n.attrs.pads;
      return [x[0] + p[0] + p[2], x[1] + p[1] + p[3], x[2]];
    },
    macs: () => 0,
  },
  [OpKind.Softmax]: {
    kind: OpKind.Softmax,
    arity: [1, 1],
    weightShapes: () => ({}),
    inferShape(n, [x]) {
      if (n.attrs.axis !== x.length - 1) throw new IrError(`softmax supports only the last axis (${x.length - 1}), got ${n.attrs.axis}`, n.id);
      return x;
    },
    macs: () => 0,
  },
};

export function opDef<K extends OpKind>(kind: K): OpDef<K> {
  const d = OPS[kind];
  if (!d) throw new IrError(`unknown op kind '${String(kind)}'`);
  return d;
}

/** Type guard helpers for attrs, so callers can write `isOp(node, OpKind.Conv2d)`. */
export function isOp<K extends OpKind>(node: { op: OpKind }, kind: K): node is NodeOf<K> {
  return node.op === kind;
}

export type { AttrsByOp };
