// The CIM simulator's arithmetic as an accelerator model for training (compiler/train/accelerator.ts):
// each crossbar-mapped conv/dense of the Schedule is recomputed in the forward pass by the simulator's
// own layer code (sim/crossbar.ts layerAccumulator: the fused bit-serial kernel, WebAssembly on both
// threads), on the fake-quantized values, so that QAT sees the accelerator:
//   input codes u = q − qmin unrolled per output position (sim/unroll.ts), split into DAC digits;
//   weight codes (from the current kernel, snapped per output channel as fakeQuantWeights does) split
//   into cell digits (sim/weight-digits.ts, the offset scheme's reference column subtracted);
//   per block of the Schedule, the column sums of every input cycle and digit, the layer's ADC per digit,
//   the shift-add, the zero-point correction, the accumulator rounded as the integer executor does (so
//   with the noise off the layer's accumulator is the exact mode's, bit for bit); then s_x·s_w·acc +
//   bias, which fake-quant snaps as usual.
// Gradient: straight-through, the ideal layer's (the forward value is the simulated one).
// Noise (CimNoise, each part switchable, seeded, resampled at every step): the simulator's analog cells
// (sim/analog.ts: stuck-at cells, programming noise, drift to timeS, optionally its IR drop), read noise
// on every column sum, the ADC's offset / gain error / INL.
// Not modelled: depthwise (block-diagonal) crossbar layers; replicas (duplicate blocks) are the same
// arithmetic in exact mode and are represented by replica 0.
import * as tf from '@tensorflow/tfjs';
import { type Node, OpKind } from '../compiler/ir/types.js';
import type { LayerMapping, Schedule, WeightBlock } from '../compiler/lower/schedule.js';
import { roundHalfAway } from '../compiler/passes/quantize/fixed-point.js';
import { activationRange, type ValueParams, weightMax } from '../compiler/passes/quantize/scheme.js';
import type { AcceleratorModel, LayerContext } from '../compiler/train/accelerator.js';
import { mixSeed } from '../compiler/util/rng.js';
import { analogDevices, scheduleInputActivity } from './analog.js';
import { layerAccumulator, type LayerJob } from './crossbar.js';
import { adcFromSpec, type PreparedAdc, prepareAdc } from './devices/adc.js';
import { idealAdc, idealLevels } from './simulate.js';
import type { AcceleratorSpec as HardwareSpec } from './spec/types.js';
import { unrollInputs } from './unroll.js';
import { weightDigits } from './weight-digits.js';

/** Which non-idealities the training forward samples (every step anew). All false = exact mode. */
export interface CimNoise {
  /** The simulator's analog cells: stuck-at, programming noise, drift to `timeS` (sim/analog.ts). */
  readonly cells: boolean;
  /** With `cells`: also the simulator's IR drop model (costly; off by default). */
  readonly irDrop: boolean;
  /** Read noise on every column sum (the spec's read-noise model). */
  readonly read: boolean;
  /** The ADC's offset, gain error and INL (else the ideal ADC: rounding and clipping only). */
  readonly adc: boolean;
  /** Seconds after programming (drift, PCM read noise). */
  readonly timeS: number;
}

export const EXACT_NOISE: CimNoise = { cells: false, irDrop: false, read: false, adc: false, timeS: 0 };
export const ANALOG_NOISE: CimNoise = { cells: true, irDrop: false, read: true, adc: true, timeS: 0 };

/** A crossbar layer as the Schedule maps it: its mapping (ADC settings, cycles) and replica-0 blocks. */
export interface CimLayerPlan {
  readonly mapping: LayerMapping;
  readonly blocks: readonly WeightBlock[];
}

/** The accelerator-model description the training hook takes (JSON: worker threads rebuild it). */
export interface CimAcceleratorSpec {
  readonly kind: 'cim';
  readonly spec: HardwareSpec;
  readonly layers: readonly CimLayerPlan[];
  readonly noise: CimNoise;
  readonly seed: number;
  /** Block id -> its measured input activity (gate drive's IR-drop mean field, as the simulator uses). */
  readonly inputActivity?: Readonly<Record<string, number>>;
}

/** The training model of a compiled Schedule (ADC ranges as calibrated for it). */
export function cimAccelerator(schedule: Schedule, noise: CimNoise, seed: number): CimAcceleratorSpec {
  const layers = schedule.layers
    .filter((l) => l.where === 'crossbar')
    .map((mapping) => ({ mapping, blocks: schedule.blocks.filter((b) => b.layer === mapping.layer && b.replica === 0) }));
  return { kind: 'cim', spec: schedule.spec, layers, noise, seed, inputActivity: Object.fromEntries(scheduleInputActivity(schedule)) };
}

export function checkCimAccelerator(a: CimAcceleratorSpec): void {
  if (!Number.isInteger(a.seed)) throw new Error(`cim accelerator seed ${a.seed}: expected an integer`);
  for (const k of ['cells', 'irDrop', 'read', 'adc'] as const) if (typeof a.noise?.[k] !== 'boolean') throw new Error(`cim accelerator noise.${k}: expected true or false`);
  if (!(a.noise.timeS >= 0)) throw new Error(`cim accelerator noise.timeS ${a.noise.timeS}: expected seconds >= 0`);
  for (const { mapping: m, blocks } of a.layers) {
    if (!m.adc) throw new Error(`cim accelerator layer '${m.layer}': no ADC setting (not a crossbar layer)`);
    if (blocks.some((b) => b.diagonal)) throw new Error(`cim accelerator layer '${m.layer}': depthwise (block-diagonal) crossbar layers are not modelled in training; map them to the digital unit (architecture.depthwise = 'digital')`);
    if (!blocks.length) throw new Error(`cim accelerator layer '${m.layer}': no blocks`);
  }
  if ((a.noise.read || a.noise.irDrop) && !a.noise.cells) throw new Error(`cim accelerator noise: ${a.noise.read ? 'read noise' : 'IR drop'} acts on the analog cells; it needs noise.cells`);
}

/** Crossbar spec with its wires ideal (analog.ts models IR drop when a wire resistance is > 0). */
function idealWires(spec: HardwareSpec): HardwareSpec {
  // every *ResistanceOhm field: the crossbar's wire resistance is being split into rows and columns
  const crossbar = Object.fromEntries(Object.entries(spec.crossbar).map(([k, v]) => [k, k.endsWith('ResistanceOhm') ? 0 : v])) as unknown as HardwareSpec['crossbar'];
  return { ...spec, crossbar };
}

/** Integer weight codes [K × N] of a kernel snapped per output channel (as fakeQuantWeights), and the scales. */
function kernelCodes(k: Float32Array, N: number, bits: number): { codes: Float64Array; scales: Float32Array } {
  const wmax = weightMax(bits);
  const scales = new Float32Array(N);
  for (let i = 0; i < k.length; i++) scales[i % N] = Math.max(scales[i % N], Math.abs(k[i]));
  for (let c = 0; c < N; c++) scales[c] = Math.max(scales[c] / wmax, 1e-30);
  const codes = new Float64Array(k.length);
  for (let i = 0; i < k.length; i++) codes[i] = Math.min(wmax, Math.max(-wmax, roundHalfAway(k[i] / scales[i % N])));
  return { codes, scales };
}

/** Largest number of column sums (vectors × cycles × digit columns) handled at once, as the simulator. */
const CHUNK = 1 << 22;

class CimLayer {
  readonly S: number;
  readonly N: number;
  /** The layer's ADC per digit: ideal (rounding, clipping) or with the spec's offset, gain error, INL. */
  readonly adc: PreparedAdc[];

  constructor(
    readonly a: CimAcceleratorSpec,
    readonly plan: CimLayerPlan,
  ) {
    const m = plan.mapping;
    this.S = a.spec.weights.cellsPerWeight;
    this.N = m.cols;
    this.adc = Array.from({ length: this.S }, (_, s) => prepareAdc(a.noise.adc ? adcFromSpec(a.spec.adc, m.adc!.fullScale[s], m.adc!.signed, m.adc!.center?.[s]) : idealAdc(m, s)));
  }

  /** The layer's output in the float accumulator domain, s_x·s_w·acc + bias, [batch, ...output]. */
  forward(node: Node, x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined, pin: ValueParams, ctx: LayerContext): tf.Tensor {
    const { a, plan, N } = this;
    const m = plan.mapping;
    if (pin.bits !== m.inputBits) throw new Error(`cim accelerator layer '${m.layer}': input has ${pin.bits}-bit codes, the schedule ${m.inputBits}-bit`);
    const wbits = node.quant?.weightBits ?? a.spec.weights.bits;
    if (wbits !== a.spec.weights.bits) throw new Error(`cim accelerator layer '${m.layer}': ${wbits}-bit weights, the spec stores ${a.spec.weights.bits}-bit`);
    const K = m.rows;
    if (kernel.size !== K * N) throw new Error(`cim accelerator layer '${m.layer}': kernel has ${kernel.size} weights, the schedule maps ${K}x${N}`);
    const { codes, scales } = kernelCodes(kernel.dataSync() as Float32Array, N, wbits);
    const digits = weightDigits(codes, a.spec);
    const seed = mixSeed(a.seed, ctx.seed);
    const devices = a.noise.cells ? analogDevices(a.noise.irDrop ? a.spec : idealWires(a.spec), { seed, timeS: a.noise.timeS, inputActivity: a.inputActivity && new Map(Object.entries(a.inputActivity)) }) : undefined;
    let stream = 0;
    const [qmin, qmax] = activationRange(pin.bits);
    // the simulator's own layer arithmetic (sim/crossbar.ts: the fused bit-serial kernel), one replica
    const job: LayerJob = {
      spec: a.spec,
      mapping: m,
      blocks: plan.blocks,
      codes,
      codes16: Int16Array.from(codes),
      significance: digits.significance,
      zeroPoint: pin.zeroPoint,
      qmin,
      cells: (b) => {
        if (!devices) return { levels: idealLevels(b, digits, N), gain: 1 };
        const c = devices.cells(m, b, digits);
        return a.noise.read ? c : { ...c, readVariance: undefined, uniformReadVariance: undefined };
      },
      adc: this.adc,
      normals: () => mixSeed(seed, 0x7ead, stream++),
      lossless: false,
    };
    const scale = tf.tensor1d(Float32Array.from(scales, (s) => s * pin.scale));
    // input codes (x is on its grid)
    const B = x.shape[0];
    const xs = x.shape.slice(1);
    const ys = node.op === OpKind.Dense ? [N] : convOutput(node, xs);
    const P = ys.length === 1 ? 1 : ys[0] * ys[1];
    const xv = x.dataSync();
    const q = new Int32Array(xv.length);
    for (let i = 0; i < q.length; i++) q[i] = Math.min(qmax, Math.max(qmin, roundHalfAway(xv[i] / pin.scale) + pin.zeroPoint));
    const imagesPerChunk = Math.max(1, Math.floor(CHUNK / (m.inputCycles * P * this.S * N)));
    const acc = new Float32Array(B * P * N);
    for (let b0 = 0; b0 < B; b0 += imagesPerChunk) {
      const b1 = Math.min(B, b0 + imagesPerChunk);
      const u = unrollInputs(node, q, b0, b1, xs, ys, qmin, pin.zeroPoint, 'i16');
      const r = layerAccumulator(job, u, (b1 - b0) * P, () => 0);
      // the integer executor's rounding of the accumulator (half away from zero)
      for (let i = 0; i < r.length; i++) acc[b0 * P * N + i] = roundHalfAway(r[i]);
    }
    const y = tf.mul(tf.tensor2d(acc, [B * P, N]), scale);
    return tf.reshape(bias ? tf.add(y, bias) : y, [B, ...ys]);
  }
}

/** [Ho, Wo, N] of a conv2d from its input [H, W, C]. */
function convOutput(node: Node, xs: readonly number[]): number[] {
  if (node.op !== OpKind.Conv2d) throw new Error(`cim accelerator layer '${node.id}': ${node.op} is not modelled (conv2d and dense are)`);
  const { kernel, strides, dilations, pads } = node.attrs;
  const out = (i: number) => Math.floor((xs[i] + pads[i] + pads[i + 2] - dilations[i] * (kernel[i] - 1) - 1) / strides[i]) + 1;
  return [out(0), out(1), node.attrs.filters];
}

/** The accelerator model: crossbar layers as simulated, straight-through gradients of the ideal layer. */
export function cimModel(a: CimAcceleratorSpec): AcceleratorModel {
  checkCimAccelerator(a);
  const layers = new Map(a.layers.map((l) => [l.mapping.layer, new CimLayer(a, l)]));
  return {
    spec: a,
    layer(node, inputs, weights, ideal, ctx) {
      const L = layers.get(node.id);
      if (!L) return undefined; // the digital unit
      if (!ctx.input) throw new Error(`cim accelerator layer '${node.id}': its input has no quantization parameters (the CIM model runs quantized graphs)`);
      if (node.op === OpKind.Conv2d && node.attrs.groups !== 1) throw new Error(`cim accelerator layer '${node.id}': grouped convs are not modelled`);
      const useBias = (node.attrs as { useBias: boolean }).useBias;
      const sim = () => L.forward(node, inputs[0], weights.kernel, useBias ? weights.bias : undefined, ctx.input!, ctx);
      if (!ctx.training) return sim();
      // straight-through: the value is the simulated layer, the gradient the ideal layer's
      const ste = tf.customGrad(() => ({ value: sim(), gradFunc: (dy: tf.Tensor) => dy }));
      return ste(ideal(inputs, weights));
    },
  };
}
