// IR node -> Keras layer config(s) as tfjs serializes them (snake_case keys, channels_last).
import { samePads } from '../../ir/builder.js';
import { type Node, OpKind, type Pads, type Shape } from '../../ir/types.js';
import { ModelFormatError, type NodeHint } from '../../import/common.js';

export interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
  name: string;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

export interface WeightOut {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** Collects layers, weights and hints; hands out tfjs-valid unique layer names. */
export class KerasWriter {
  readonly layers: KerasLayer[] = [];
  readonly weights: WeightOut[] = [];
  readonly hints: Record<string, NodeHint> = {};
  /** IR value id -> the layer whose output carries it. */
  readonly layerOf = new Map<string, string>();
  private readonly taken = new Set<string>();

  constructor(readonly target: string) {}

  /** tfjs requires names matching ^[A-Za-z0-9][-A-Za-z0-9._/]*$; we also avoid '/' (weight paths). */
  name(base: string): string {
    let b = base.replace(/[^A-Za-z0-9._-]/g, '_');
    if (!/^[A-Za-z0-9]/.test(b)) b = `L${b}`;
    let n = b;
    for (let k = 2; this.taken.has(n); k++) n = `${b}_${k}`;
    this.taken.add(n);
    return n;
  }

  /** `inputs` are layer names. */
  layer(className: string, name: string, inputs: readonly string[], config: Record<string, unknown>): string {
    const inbound = inputs.map((v) => [v, 0, 0, {}] as [string, number, number, Record<string, never>]);
    this.layers.push({ class_name: className, config: { name, trainable: true, dtype: 'float32', ...config }, name, inbound_nodes: inputs.length ? [inbound] : [] });
    return name;
  }

  weight(layer: string, key: string, shape: readonly number[], data: Float32Array): void {
    this.weights.push({ name: `${layer}/${key}`, shape, data });
  }

  hint(layer: string, h: NodeHint): void {
    this.hints[layer] = { ...(this.hints[layer] ?? {}), ...h };
  }

  fail(n: Node, msg: string): ModelFormatError {
    return new ModelFormatError(`${this.target}: cannot export node '${n.id}' (${n.op}) to tfjs: ${msg}`);
  }
}

const isZero = (p: Pads) => p.every((v) => v === 0);
const eq = (a: Pads, b: Pads) => a.every((v, i) => v === b[i]);

/**
 * Keras padding for a window op: 'valid', 'same', or 'valid' after a ZeroPadding2D (marked so the
 * importer folds it back) when zero padding is exact for this op.
 */
function windowPadding(w: KerasWriter, n: Node, x: string, inShape: Shape, kernel: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number], pads: Pads, zeroOk: boolean): { input: string; padding: 'valid' | 'same' } {
  if (isZero(pads)) return { input: x, padding: 'valid' };
  if (eq(pads, samePads(inShape, kernel, strides, dilations))) return { input: x, padding: 'same' };
  if (!zeroOk) throw w.fail(n, `pads [${pads.join(', ')}] are neither 'valid' nor Keras 'same', and zero padding would change the result`);
  const padName = w.name(`${n.id}_pad`);
  w.layer('ZeroPadding2D', padName, [x], { padding: [[pads[0], pads[2]], [pads[1], pads[3]]], data_format: 'channels_last' });
  w.hint(padName, { foldPad: true });
  return { input: padName, padding: 'valid' };
}

/** Adds the layer(s) for one IR node; returns the name of the layer that produces the node's value. */
export function nodeToLayers(w: KerasWriter, n: Node, inShape: Shape): string {
  const name = w.name(n.id);
  const ins = n.inputs.map((v) => w.layerOf.get(v)!);
  const x = ins[0];
  const data = (k: string) => n.weights[k].data as Float32Array;
  const simple = (cls: string, config: Record<string, unknown> = {}) => w.layer(cls, name, ins, config);
  switch (n.op) {
    case OpKind.Conv2d:
    case OpKind.DepthwiseConv2d: {
      const a = n.attrs;
      if (a.strides.some((s) => s > 1) && a.dilations.some((d) => d > 1)) throw w.fail(n, `tfjs does not support strides > 1 together with dilation > 1`);
      const { input, padding } = windowPadding(w, n, x, inShape, a.kernel, a.strides, a.dilations, a.pads, true);
      const common = { kernel_size: [...a.kernel], strides: [...a.strides], padding, data_format: 'channels_last', dilation_rate: [...a.dilations], activation: 'linear', use_bias: a.useBias };
      if (n.op === OpKind.Conv2d) {
        w.layer('Conv2D', name, [input], { filters: n.attrs.filters, ...common });
        const groups = n.attrs.groups;
        const ks = n.weights.kernel.shape;
        // tfjs Conv2D has no groups: write the equivalent block-diagonal kernel and a hint to undo it.
        if (groups > 1) w.hint(name, { groups });
        w.weight(name, 'kernel', [ks[0], ks[1], inShape[2], ks[3]], groups > 1 ? blockDiagonal(data('kernel'), ks, groups) : data('kernel'));
      } else {
        w.layer('DepthwiseConv2D', name, [input], { depth_multiplier: n.attrs.depthMultiplier, ...common });
        w.weight(name, 'depthwise_kernel', n.weights.kernel.shape, data('kernel'));
      }
      if (a.useBias) w.weight(name, 'bias', n.weights.bias.shape, data('bias'));
      return name;
    }
    case OpKind.Dense:
      simple('Dense', { units: n.attrs.units, activation: 'linear', use_bias: n.attrs.useBias });
      w.weight(name, 'kernel', n.weights.kernel.shape, data('kernel'));
      if (n.attrs.useBias) w.weight(name, 'bias', n.weights.bias.shape, data('bias'));
      return name;
    case OpKind.BatchNorm:
      simple('BatchNormalization', { axis: -1, momentum: n.attrs.momentum, epsilon: n.attrs.epsilon, center: true, scale: true });
      for (const [k, key] of [
        ['gamma', 'gamma'],
        ['beta', 'beta'],
        ['mean', 'moving_mean'],
        ['variance', 'moving_variance'],
      ]) {
        w.weight(name, key, n.weights[k].shape, data(k));
      }
      return name;
    case OpKind.Relu:
      return simple('Activation', { activation: 'relu' });
    case OpKind.Relu6:
      return simple('ReLU', { max_value: 6 });
    case OpKind.LeakyRelu:
      return simple('LeakyReLU', { alpha: n.attrs.alpha });
    case OpKind.Sigmoid:
      return simple('Activation', { activation: 'sigmoid' });
    case OpKind.Add:
      return simple('Add');
    case OpKind.Concat:
      return simple('Concatenate', { axis: n.attrs.axis + 1 });
    case OpKind.MaxPool:
    case OpKind.AvgPool: {
      const a = n.attrs;
      const include = n.op === OpKind.AvgPool && n.attrs.countIncludePad;
      // Keras 'same' average pooling excludes padded cells; zero padding + 'valid' includes them.
      const same = eq(a.pads, samePads(inShape, a.kernel, a.strides)) && !isZero(a.pads);
      const { input, padding } = same && include ? explicitPad(w, n, x, a.pads) : windowPadding(w, n, x, inShape, a.kernel, a.strides, [1, 1], a.pads, include);
      w.layer(n.op === OpKind.MaxPool ? 'MaxPooling2D' : 'AveragePooling2D', name, [input], { pool_size: [...a.kernel], strides: [...a.strides], padding, data_format: 'channels_last' });
      if (include && isZero(a.pads)) w.hint(name, { countIncludePad: true });
      return name;
    }
    case OpKind.GlobalAvgPool:
      return simple('GlobalAveragePooling2D', { data_format: 'channels_last' });
    case OpKind.Flatten:
      return simple('Flatten', { data_format: 'channels_last' });
    case OpKind.Reshape:
      return simple('Reshape', { target_shape: [...n.attrs.shape] });
    case OpKind.Pad: {
      if (n.attrs.value !== 0) throw w.fail(n, `pads with value ${n.attrs.value}; Keras has only ZeroPadding2D`);
      const p = n.attrs.pads;
      return simple('ZeroPadding2D', { padding: [[p[0], p[2]], [p[1], p[3]]], data_format: 'channels_last' });
    }
    case OpKind.Softmax:
      return simple('Softmax', { axis: -1 });
    case OpKind.Dropout:
      return simple('Dropout', { rate: n.attrs.rate });
  }
}

function explicitPad(w: KerasWriter, n: Node, x: string, pads: Pads): { input: string; padding: 'valid' } {
  const padName = w.name(`${n.id}_pad`);
  w.layer('ZeroPadding2D', padName, [x], { padding: [[pads[0], pads[2]], [pads[1], pads[3]]], data_format: 'channels_last' });
  w.hint(padName, { foldPad: true });
  return { input: padName, padding: 'valid' };
}

/** Grouped kernel [kh, kw, cin/g, cout] -> equivalent dense kernel [kh, kw, cin, cout] (zeros off the diagonal blocks). */
function blockDiagonal(k: Float32Array, [kh, kw, ci, cout]: Shape, groups: number): Float32Array {
  const cin = ci * groups;
  const co = cout / groups;
  const out = new Float32Array(kh * kw * cin * cout);
  for (let s = 0; s < kh * kw; s++) {
    for (let i = 0; i < ci; i++) {
      for (let o = 0; o < cout; o++) {
        const g = Math.floor(o / co);
        out[(s * cin + g * ci + i) * cout + o] = k[(s * ci + i) * cout + o];
      }
    }
  }
  return out;
}
