// One converter per supported Keras layer class. Each returns the IR value id of the layer's output.
import { samePads } from '../../ir/builder.js';
import { OpKind, type Pads, type Pair, type Tensor } from '../../ir/types.js';
import { f32 } from '../common.js';
import { type Json, type LayerSpec, num, pairOf, type TfjsCtx } from './context.js';

type Converter = (c: TfjsCtx, l: LayerSpec) => void;

const ACTIVATIONS: Record<string, OpKind.Relu | OpKind.Relu6 | OpKind.Sigmoid | OpKind.Softmax | undefined> = {
  linear: undefined,
  relu: OpKind.Relu,
  relu6: OpKind.Relu6,
  sigmoid: OpKind.Sigmoid,
  softmax: OpKind.Softmax,
};

function checkChannelsLast(c: TfjsCtx, l: LayerSpec): void {
  const f = l.config.data_format;
  if (f !== undefined && f !== null && f !== 'channels_last') throw c.error(l, `uses data_format '${String(f)}'; Tandem reads channels_last models only`);
}

/** Appends the layer's fused activation as its own node (origin = the layer). */
function activation(c: TfjsCtx, l: LayerSpec, x: string, act: unknown): string {
  const name = act === undefined || act === null ? 'linear' : act;
  if (typeof name !== 'string' || !(name in ACTIVATIONS)) {
    throw c.error(l, `uses activation '${typeof name === 'string' ? name : JSON.stringify(name)}'; Tandem supports ${Object.keys(ACTIVATIONS).join(', ')}`);
  }
  const op = ACTIVATIONS[name];
  if (!op) return x;
  if (op === OpKind.Softmax) return c.add(l, op, [x], { axis: c.shape(x).length - 1 }, {}, `/${name}`);
  return c.add(l, op, [x], {}, {}, `/${name}`);
}

/** Keras padding string -> explicit pads, merged with the pads of a folded ZeroPadding2D. */
function padsFor(c: TfjsCtx, l: LayerSpec, x: string, kernel: Pair, strides: Pair, dilations: Pair, folded?: Pads): Pads {
  const p = l.config.padding ?? 'valid';
  if (folded) return folded;
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') return samePads(c.shape(x), kernel, strides, dilations);
  throw c.error(l, `uses padding '${String(p)}'; Tandem supports 'valid' and 'same'`);
}

function convGeometry(c: TfjsCtx, l: LayerSpec) {
  checkChannelsLast(c, l);
  const cfg = l.config;
  const kernel = pairOf(cfg.kernel_size, 1);
  const strides = pairOf(cfg.strides, 1);
  const dilations = pairOf(cfg.dilation_rate, 1);
  const { x, folded } = c.windowInput(l, 0, String(cfg.padding ?? 'valid'));
  const pads = padsFor(c, l, x, kernel, strides, dilations, folded);
  const useBias = cfg.use_bias !== false;
  return { x, geo: { kernel, strides, dilations, pads, useBias } };
}

/** Un-does the exporter's block-diagonal expansion of a grouped conv (kernel [kh, kw, cin, cout]). */
function ungroup(c: TfjsCtx, l: LayerSpec, full: Tensor, groups: number): Tensor {
  const [kh, kw, cin, cout] = full.shape;
  const ci = cin / groups;
  const co = cout / groups;
  const src = full.data as Float32Array;
  const out = new Float32Array(kh * kw * ci * cout);
  for (let s = 0; s < kh * kw; s++) {
    for (let i = 0; i < cin; i++) {
      for (let o = 0; o < cout; o++) {
        const v = src[(s * cin + i) * cout + o];
        const g = Math.floor(o / co);
        if (Math.floor(i / ci) === g) out[(s * ci + (i % ci)) * cout + o] = v;
        else if (v !== 0) throw c.error(l, `is marked as a ${groups}-group conv but its kernel is not block-diagonal`);
      }
    }
  }
  return f32([kh, kw, ci, cout], out);
}

const conv2d: Converter = (c, l) => {
  const { x, geo } = convGeometry(c, l);
  const cfg = l.config;
  const filters = num(cfg.filters, 0);
  const cin = c.shape(x).at(-1)!;
  const kerasGroups = num(cfg.groups, 1);
  const hintGroups = c.hint(l).groups ?? 1;
  let kernel = c.weight(l, 'kernel', 0, [geo.kernel[0], geo.kernel[1], cin / kerasGroups, filters]);
  if (hintGroups > 1) kernel = ungroup(c, l, kernel, hintGroups);
  const groups = kerasGroups * hintGroups;
  const weights: Record<string, Tensor> = { kernel };
  if (geo.useBias) weights.bias = c.weight(l, 'bias', 1, [filters]);
  const y = c.add(l, OpKind.Conv2d, [x], { ...geo, filters, groups }, weights);
  c.setOutput(l, activation(c, l, y, cfg.activation));
};

const depthwiseConv2d: Converter = (c, l) => {
  const { x, geo } = convGeometry(c, l);
  const cin = c.shape(x).at(-1)!;
  const mult = num(l.config.depth_multiplier, 1);
  const weights: Record<string, Tensor> = { kernel: c.weight(l, 'depthwise_kernel', 0, [geo.kernel[0], geo.kernel[1], cin, mult]) };
  if (geo.useBias) weights.bias = c.weight(l, 'bias', 1, [cin * mult]);
  const y = c.add(l, OpKind.DepthwiseConv2d, [x], { ...geo, depthMultiplier: mult }, weights);
  c.setOutput(l, activation(c, l, y, l.config.activation));
};

/** SeparableConv2D = depthwise (no bias) then a 1x1 conv (with the bias); both keep the layer as origin. */
const separableConv2d: Converter = (c, l) => {
  const { x, geo } = convGeometry(c, l);
  const cin = c.shape(x).at(-1)!;
  const mult = num(l.config.depth_multiplier, 1);
  const filters = num(l.config.filters, 0);
  const dwKernel = c.weight(l, 'depthwise_kernel', 0, [geo.kernel[0], geo.kernel[1], cin, mult]);
  const dw = c.add(l, OpKind.DepthwiseConv2d, [x], { ...geo, useBias: false, depthMultiplier: mult }, { kernel: dwKernel }, '/depthwise');
  const pw: Record<string, Tensor> = { kernel: c.weight(l, 'pointwise_kernel', 1, [1, 1, cin * mult, filters]) };
  if (geo.useBias) pw.bias = c.weight(l, 'bias', 2, [filters]);
  const one: Pair = [1, 1];
  const y = c.add(l, OpKind.Conv2d, [dw], { kernel: one, strides: one, dilations: one, pads: [0, 0, 0, 0], useBias: geo.useBias, filters, groups: 1 }, pw, '/pointwise');
  c.setOutput(l, activation(c, l, y, l.config.activation));
};

const dense: Converter = (c, l) => {
  const x = c.input(l, 0);
  const s = c.shape(x);
  if (s.length !== 1) throw c.error(l, `is applied to a rank-${s.length} input [${s.join(', ')}]; Tandem's dense needs a flat input (add a Flatten)`);
  const units = num(l.config.units, 0);
  const useBias = l.config.use_bias !== false;
  const weights: Record<string, Tensor> = { kernel: c.weight(l, 'kernel', 0, [s[0], units]) };
  if (useBias) weights.bias = c.weight(l, 'bias', 1, [units]);
  const y = c.add(l, OpKind.Dense, [x], { units, useBias }, weights);
  c.setOutput(l, activation(c, l, y, l.config.activation));
};

const batchNormalization: Converter = (c, l) => {
  const x = c.input(l, 0);
  const rank = c.shape(x).length;
  const ax = Array.isArray(l.config.axis) && l.config.axis.length === 1 ? l.config.axis[0] : (l.config.axis ?? -1);
  if (ax !== -1 && ax !== rank) throw c.error(l, `normalizes axis ${JSON.stringify(l.config.axis)}; Tandem's batchNorm uses the last (channel) axis`);
  const ch = c.shape(x).at(-1)!;
  const center = l.config.center !== false;
  const scale = l.config.scale !== false;
  let k = 0;
  const gamma = scale ? c.weight(l, 'gamma', k++, [ch]) : f32([ch], new Float32Array(ch).fill(1));
  const beta = center ? c.weight(l, 'beta', k++, [ch]) : f32([ch], new Float32Array(ch));
  const mean = c.weight(l, 'moving_mean', k++, [ch]);
  const variance = c.weight(l, 'moving_variance', k++, [ch]);
  const attrs = { epsilon: num(l.config.epsilon, 1e-3), momentum: num(l.config.momentum, 0.99) };
  c.setOutput(l, c.add(l, OpKind.BatchNorm, [x], attrs, { gamma, beta, mean, variance }));
};

const activationLayer: Converter = (c, l) => {
  const x = c.input(l, 0);
  const name = l.config.activation;
  if (typeof name === 'string' && ACTIVATIONS[name]) {
    const op = ACTIVATIONS[name]!;
    c.setOutput(l, c.add(l, op, [x], op === OpKind.Softmax ? { axis: c.shape(x).length - 1 } : {}));
  } else if (name === 'linear') {
    c.setOutput(l, x);
  } else {
    activation(c, l, x, name); // throws the unsupported-activation error
  }
};

const relu: Converter = (c, l) => {
  const x = c.input(l, 0);
  const max = l.config.max_value ?? null;
  const slope = num(l.config.negative_slope, 0);
  if (num(l.config.threshold, 0) !== 0) throw c.error(l, `has threshold ${String(l.config.threshold)}; Tandem supports threshold 0 only`);
  if (slope !== 0 && max === null) return c.setOutput(l, c.add(l, OpKind.LeakyRelu, [x], { alpha: slope }));
  if (slope === 0 && max === null) return c.setOutput(l, c.add(l, OpKind.Relu, [x], {}));
  if (slope === 0 && max === 6) return c.setOutput(l, c.add(l, OpKind.Relu6, [x], {}));
  throw c.error(l, `has max_value ${String(max)} and negative_slope ${slope}; Tandem supports ReLU, ReLU(max_value=6) and leaky ReLU`);
};

const leakyRelu: Converter = (c, l) => {
  const x = c.input(l, 0);
  const alpha = num(l.config.alpha, num(l.config.negative_slope, 0.3));
  c.setOutput(l, c.add(l, OpKind.LeakyRelu, [x], { alpha }));
};

const add: Converter = (c, l) => {
  c.setOutput(l, c.add(l, OpKind.Add, l.inputs.map((_, i) => c.input(l, i)), {}));
};

const concatenate: Converter = (c, l) => {
  const xs = l.inputs.map((_, i) => c.input(l, i));
  const rank = c.shape(xs[0]).length;
  const ax = num(l.config.axis, -1);
  const irAxis = ax < 0 ? rank + ax : ax - 1;
  if (irAxis < 0 || irAxis >= rank) throw c.error(l, `concatenates along axis ${ax}; Tandem concatenates per sample (not along the batch)`);
  c.setOutput(l, c.add(l, OpKind.Concat, xs, { axis: irAxis }));
};

function pool(kind: 'max' | 'avg'): Converter {
  return (c, l) => {
    checkChannelsLast(c, l);
    const kernel = pairOf(l.config.pool_size, 2);
    const strides = l.config.strides === null || l.config.strides === undefined ? kernel : pairOf(l.config.strides, 1);
    const { x, folded } = c.windowInput(l, 0, String(l.config.padding ?? 'valid'));
    if (folded && kind === 'max') throw c.error(l, `follows a ZeroPadding2D marked for folding; max pooling cannot absorb zero padding`);
    const pads = padsFor(c, l, x, kernel, strides, [1, 1], folded);
    if (kind === 'max') return c.setOutput(l, c.add(l, OpKind.MaxPool, [x], { kernel, strides, pads }));
    // Zero padding in front of a 'valid' average pool counts the zeros: countIncludePad.
    const countIncludePad = c.hint(l).countIncludePad ?? !!folded;
    c.setOutput(l, c.add(l, OpKind.AvgPool, [x], { kernel, strides, pads, countIncludePad }));
  };
}

const globalAveragePooling2d: Converter = (c, l) => {
  checkChannelsLast(c, l);
  if (l.config.keepdims === true) throw c.error(l, `has keepdims=true; Tandem's globalAvgPool returns [C]`);
  c.setOutput(l, c.add(l, OpKind.GlobalAvgPool, [c.input(l, 0)], {}));
};

const flatten: Converter = (c, l) => {
  checkChannelsLast(c, l);
  c.setOutput(l, c.add(l, OpKind.Flatten, [c.input(l, 0)], {}));
};

const reshape: Converter = (c, l) => {
  const x = c.input(l, 0);
  const t = l.config.target_shape;
  if (!Array.isArray(t)) throw c.error(l, `has no target_shape`);
  const total = c.shape(x).reduce((a, b) => a * b, 1);
  const known = (t as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const shape = (t as number[]).map((d) => (d === -1 ? total / known : d));
  c.setOutput(l, c.add(l, OpKind.Reshape, [x], { shape }));
};

function zeroPads(c: TfjsCtx, l: LayerSpec): Pads {
  const p = l.config.padding ?? 1;
  if (typeof p === 'number') return [p, p, p, p];
  if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number')) return [p[0], p[1], p[0], p[1]];
  if (Array.isArray(p) && p.length === 2 && p.every((v) => Array.isArray(v) && v.length === 2)) {
    const [[t, b], [le, r]] = p as number[][];
    return [t, le, b, r];
  }
  throw c.error(l, `has padding ${JSON.stringify(p)} that Tandem cannot read`);
}

const zeroPadding2d: Converter = (c, l) => {
  checkChannelsLast(c, l);
  const pads = zeroPads(c, l);
  const x = c.input(l, 0);
  if (c.hint(l).foldPad) return c.setOutput(l, { input: x, pads });
  c.setOutput(l, c.add(l, OpKind.Pad, [x], { pads, value: 0 }));
};

const softmax: Converter = (c, l) => {
  const x = c.input(l, 0);
  const rank = c.shape(x).length;
  const ax = Array.isArray(l.config.axis) ? l.config.axis : [l.config.axis ?? -1];
  if (ax.length !== 1 || (ax[0] !== -1 && ax[0] !== rank)) throw c.error(l, `normalizes axis ${JSON.stringify(l.config.axis)}; Tandem's softmax uses the last axis`);
  c.setOutput(l, c.add(l, OpKind.Softmax, [x], { axis: rank - 1 }));
};

const dropout: Converter = (c, l) => {
  c.setOutput(l, c.add(l, OpKind.Dropout, [c.input(l, 0)], { rate: num(l.config.rate, 0) }));
};

export const LAYERS: Readonly<Record<string, Converter>> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  Dense: dense,
  BatchNormalization: batchNormalization,
  Activation: activationLayer,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  Add: add,
  Concatenate: concatenate,
  MaxPooling2D: pool('max'),
  AveragePooling2D: pool('avg'),
  GlobalAveragePooling2D: globalAveragePooling2d,
  Flatten: flatten,
  Reshape: reshape,
  ZeroPadding2D: zeroPadding2d,
  Softmax: softmax,
  Dropout: dropout,
};

/** Keras class-name aliases (e.g. from older Keras or the functional API helpers). */
export const LAYER_ALIASES: Readonly<Record<string, string>> = {
  MaxPool2D: 'MaxPooling2D',
  AvgPool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  Convolution2D: 'Conv2D',
  SeparableConvolution2D: 'SeparableConv2D',
};

export type { Json };
