// The hook that puts an accelerator model into the engine's forward pass (training and inference):
// an AcceleratorModel recomputes each conv/dense the way the hardware would (analog partial sums,
// ADCs, noise), the rest of the graph runs as usual. Models are described by a JSON AcceleratorSpec so
// that worker threads can build them. Kinds:
//   cim:           the CIM simulator's arithmetic for a compiled Schedule (sim/qat-model.ts): DAC digits,
//                  cell digits, per-layer-per-digit ADCs, shift-add, optional analog noise;
//   row-group-adc: the simplest useful model (SEEDS §4): the reduction dimension split into crossbar row
//                  groups, each group's partial sum read by a k-bit ADC after additive Gaussian noise.
import * as tf from '@tensorflow/tfjs';
import { type Node, OpKind } from '../ir/types.js';
import type { ValueParams } from '../passes/quantize/scheme.js';
import { checkCimAccelerator, type CimAcceleratorSpec, cimModel } from '../../sim/qat-model.js';
import type { ForwardOptions } from './executor.js';

export interface RowGroupAdcSpec {
  readonly kind: 'row-group-adc';
  /** Crossbar rows per group (reduction elements kh·kw·cin summed in the analog domain). */
  readonly rows: number;
  /** ADC resolution, 2..16 bits, over [-fullScale, fullScale]. */
  readonly adcBits: number;
  /** Noise standard deviation as a fraction of the ADC full scale. */
  readonly noise: number;
  readonly seed: number;
}

export type AcceleratorSpec = RowGroupAdcSpec | CimAcceleratorSpec;

type Weights = Record<string, tf.Tensor>;
type Compute = (inputs: readonly tf.Tensor[], weights: Weights) => tf.Tensor;

/** What a layer call knows besides its tensors. */
export interface LayerContext {
  /** Differs per call and per training step (noise streams). */
  readonly seed: number;
  /** A gradient will be taken (training forward). */
  readonly training: boolean;
  /** The (scale, zero point, bits) of the node's first input in a quantized graph. */
  readonly input?: ValueParams;
}

export interface AcceleratorModel {
  readonly spec: AcceleratorSpec;
  /** The node's output as the accelerator computes it, or undefined where the node is not mapped. */
  layer(node: Node, inputs: readonly tf.Tensor[], weights: Weights, ideal: Compute, ctx: LayerContext): tf.Tensor | undefined;
}

export function checkAcceleratorSpec(s: AcceleratorSpec): void {
  if (s.kind === 'cim') return checkCimAccelerator(s);
  if (s.kind !== 'row-group-adc') throw new Error(`accelerator kind '${(s as { kind: string }).kind}' is unknown (known: cim, row-group-adc)`);
  if (!Number.isInteger(s.rows) || s.rows < 1) throw new Error(`accelerator rows ${s.rows}: expected an integer >= 1`);
  if (!Number.isInteger(s.adcBits) || s.adcBits < 2 || s.adcBits > 16) throw new Error(`accelerator ADC bits ${s.adcBits}: expected an integer in 2..16`);
  if (!(s.noise >= 0)) throw new Error(`accelerator noise ${s.noise}: expected >= 0`);
}

/**
 * ADC read-out of a partial sum with a straight-through gradient: full scale = the largest |partial sum|
 * in the batch (an auto-ranging ADC), noise N(0, (noise·fullScale)²) added before the k-bit rounding.
 */
function adc(ps: tf.Tensor, bits: number, noise: number, seed: number): tf.Tensor {
  const levels = 2 ** (bits - 1) - 1;
  const f = tf.customGrad((x) => {
    const t = x as tf.Tensor;
    const fs = tf.maximum(tf.max(tf.abs(t)), 1e-12);
    const noisy = noise > 0 ? tf.add(t, tf.mul(tf.randomNormal(t.shape, 0, 1, 'float32', seed), tf.mul(fs, noise))) : t;
    const step = tf.div(fs, levels);
    const value = tf.mul(tf.clipByValue(tf.round(tf.div(noisy, step)), -levels, levels), step);
    return { value, gradFunc: (dy: tf.Tensor) => dy };
  });
  return f(ps);
}

function rowGroupAdc(spec: RowGroupAdcSpec): AcceleratorModel {
  checkAcceleratorSpec(spec);
  return {
    spec,
    layer(node, inputs, weights, ideal, { seed }) {
      if (node.op !== OpKind.Conv2d && node.op !== OpKind.Dense) return undefined;
      if (node.op === OpKind.Conv2d && node.attrs.groups !== 1) return undefined;
      const x = inputs[0];
      const kernel = weights.kernel;
      const cin = kernel.shape[kernel.rank - 2];
      const taps = node.op === OpKind.Conv2d ? node.attrs.kernel[0] * node.attrs.kernel[1] : 1;
      const perGroup = Math.max(1, Math.floor(spec.rows / taps)); // input channels per row group
      const noBias = { ...weights, bias: tf.zeros([kernel.shape[kernel.rank - 1]]) };
      const parts: tf.Tensor[] = [];
      for (let c0 = 0, g = 0; c0 < cin; c0 += perGroup, g++) {
        const n = Math.min(perGroup, cin - c0);
        const xs = tf.slice(x, [...x.shape.slice(0, -1).map(() => 0), c0], [...x.shape.slice(0, -1).map(() => -1), n]);
        const ks = kernel.rank === 4 ? tf.slice(kernel, [0, 0, c0, 0], [-1, -1, n, -1]) : tf.slice(kernel, [c0, 0], [n, -1]);
        parts.push(adc(ideal([xs], { ...noBias, kernel: ks }), spec.adcBits, spec.noise, (spec.seed * 7919 + seed * 131 + g) >>> 0));
      }
      const sum = parts.length === 1 ? parts[0] : tf.addN(parts);
      return (node.attrs as { useBias: boolean }).useBias ? tf.add(sum, weights.bias) : sum;
    },
  };
}

export function acceleratorModel(spec: AcceleratorSpec): AcceleratorModel {
  return spec.kind === 'cim' ? cimModel(spec) : rowGroupAdc(spec);
}

/**
 * `opts` with the accelerator computing every mapped node (under any override `opts` already has);
 * `values`: the quantization parameters of every value (quantized graphs, as the forward pass uses them).
 */
export function withAccelerator(model: AcceleratorModel, opts: ForwardOptions, values?: ReadonlyMap<string, ValueParams>): ForwardOptions {
  let calls = 0;
  const outer = opts.override;
  const override: NonNullable<ForwardOptions['override']> = (node, inputs, w, dflt) => {
    const ctx: LayerContext = { seed: ((opts.seed ?? 0) * 1000003 + calls++) >>> 0, training: !!opts.training, input: values?.get(node.inputs[0]) };
    const accel = (ins: readonly tf.Tensor[] = inputs, ws: Weights = w) => model.layer(node, ins, ws, (i, wt) => dflt(i, wt), ctx) ?? dflt(ins, ws);
    return outer ? (outer(node, inputs, w, accel) ?? accel()) : accel();
  };
  return { ...opts, override };
}
