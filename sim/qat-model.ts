// The CIM simulator's arithmetic as an accelerator model for training (compiler/train/accelerator.ts):
// each crossbar-mapped conv/dense of the Schedule is recomputed in the forward pass the way
// sim/crossbar.ts computes it, on the fake-quantized values, so that QAT sees the accelerator:
//   input codes u = q − qmin unrolled per output position (sim/unroll.ts), split into DAC digits;
//   weight codes (from the current kernel, snapped per output channel) split into cell digits
//   (sim/weight-digits.ts, the offset scheme's reference column subtracted);
//   for every row block of the Schedule, all input cycles × all digits' column sums Y in one GEMM
//   (cycles stacked along the vectors, digits along the columns);
//   the layer's ADC per digit (sim/devices/adc.ts), the shift-add Σ_t 2^(t·dacBits)·Σ_s significance_s·
//   ADC(Y), the rounding of the accumulator and the zero-point correction as sim/crossbar.ts and the
//   integer executor do; then back to the float accumulator domain s_x·s_w·acc + bias, which fake-quant
//   snaps as usual.
// Gradient: straight-through, the ideal conv's (the forward value is the simulated one).
// Noise (CimNoise, each part switchable, seeded, resampled at every step): the simulator's analog cells
// (sim/analog.ts: stuck-at cells, programming noise, drift to timeS, optionally its IR drop), read noise
// on every column sum, the ADC's offset / gain error / INL. With everything off the model is the
// simulator's exact mode; its ADC is then a table of the simulator's own transfer on every integer
// column sum, so the conversion is the same bit for bit (ties included).
// Not modelled: depthwise (block-diagonal) crossbar layers; replicas (duplicate blocks) are the same
// arithmetic in exact mode and are represented by replica 0.
import * as tf from '@tensorflow/tfjs';
import { type Node, OpKind } from '../compiler/ir/types.js';
import type { LayerMapping, Schedule, WeightBlock } from '../compiler/lower/schedule.js';
import { roundHalfAway } from '../compiler/passes/quantize/fixed-point.js';
import { activationRange, type ValueParams, weightMax } from '../compiler/passes/quantize/scheme.js';
import type { AcceleratorModel, LayerContext } from '../compiler/train/accelerator.js';
import { mixSeed } from '../compiler/util/rng.js';
import { analogDevices } from './analog.js';
import type { BlockCells } from './crossbar.js';
import { adcFromSpec, convertInPlace, prepareAdc, type PreparedAdc } from './devices/adc.js';
import { idealAdc, idealLevels } from './simulate.js';
import type { AcceleratorSpec as HardwareSpec } from './spec/types.js';
import { unrollInputs } from './unroll.js';
import { weightDigits, type WeightDigits } from './weight-digits.js';

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
}

/** The training model of a compiled Schedule (ADC ranges as calibrated for it). */
export function cimAccelerator(schedule: Schedule, noise: CimNoise, seed: number): CimAcceleratorSpec {
  const layers = schedule.layers
    .filter((l) => l.where === 'crossbar')
    .map((mapping) => ({ mapping, blocks: schedule.blocks.filter((b) => b.layer === mapping.layer && b.replica === 0) }));
  return { kind: 'cim', spec: schedule.spec, layers, noise, seed };
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
}

/** round half away from zero, elementwise (exact where the fraction is not within float error of 1/2). */
const roundAway = (t: tf.Tensor) => tf.mul(tf.sign(t), tf.floor(tf.add(tf.abs(t), 0.5)));

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

/** One row range of a layer over all its columns: levels [Kb × (S·N)] and what the column sums see. */
interface RowGroup {
  readonly k0: number;
  readonly k1: number;
  readonly levels: Float32Array;
  /** Read-noise variance per cell (level²), or the common one (then per-vector std from Σ digit²). */
  readonly variance?: Float32Array;
  readonly uniformVariance?: number;
  /** Digital gain per column (global drift compensation), or undefined for 1 everywhere. */
  readonly gain?: Float32Array;
}

/** The blocks of each row range, their cells joined over the column blocks into one [Kb × S·N] matrix. */
function rowGroups(plan: CimLayerPlan, digits: WeightDigits, cellsOf: (b: WeightBlock) => BlockCells): RowGroup[] {
  const N = plan.mapping.cols;
  const S = digits.slices;
  const byRows = new Map<string, WeightBlock[]>();
  for (const b of plan.blocks) byRows.set(b.rows.join(':'), [...(byRows.get(b.rows.join(':')) ?? []), b]);
  return [...byRows.values()].map((blocks) => {
    const [k0, k1] = blocks[0].rows;
    const Kb = k1 - k0;
    const levels = new Float32Array(Kb * S * N);
    let variance: Float32Array | undefined;
    let uniform: number | undefined;
    let gain: Float32Array | undefined;
    for (const b of blocks) {
      const c = cellsOf(b);
      const [n0, n1] = b.cols;
      const Nb = n1 - n0;
      if (c.readVariance && c.uniformReadVariance === undefined) variance ??= new Float32Array(Kb * S * N);
      uniform = c.uniformReadVariance;
      if (c.gain !== 1) gain ??= new Float32Array(S * N).fill(1);
      for (let k = 0; k < Kb; k++) {
        for (let s = 0; s < S; s++) {
          const src = (k * S + s) * Nb;
          const dst = (k * S + s) * N + n0;
          levels.set(c.levels.subarray(src, src + Nb), dst);
          if (variance && c.readVariance) variance.set(c.readVariance.subarray(src, src + Nb), dst);
        }
      }
      if (c.gain !== 1) for (let s = 0; s < S; s++) gain!.fill(c.gain, s * N + n0, s * N + n1);
    }
    return { k0, k1, levels, variance, uniformVariance: variance ? undefined : uniform, gain };
  });
}

/** Largest number of column sums (cycles × vectors × digit columns) handled at once (~16 MB). */
const CHUNK = 1 << 22;

class CimLayer {
  readonly T: number;
  readonly S: number;
  readonly N: number;
  readonly adc: PreparedAdc[];
  /** Noise-free conversion: the ADC's code of every integer column sum −maxSum..maxSum, per digit. */
  private table?: tf.Tensor1D;

  constructor(
    readonly a: CimAcceleratorSpec,
    readonly plan: CimLayerPlan,
  ) {
    const m = plan.mapping;
    this.T = m.inputCycles;
    this.S = a.spec.weights.cellsPerWeight;
    this.N = m.cols;
    this.adc = Array.from({ length: this.S }, (_, s) => prepareAdc(a.noise.adc ? adcFromSpec(a.spec.adc, m.adc!.fullScale[s], m.adc!.signed) : idealAdc(m, s)));
  }

  private adcTable(): tf.Tensor1D {
    if (this.table) return this.table;
    const m = this.plan.mapping;
    const M = m.adc!.maxSum;
    const t = new Float32Array(this.S * (2 * M + 1));
    for (let s = 0; s < this.S; s++) {
      const part = t.subarray(s * (2 * M + 1), (s + 1) * (2 * M + 1));
      for (let i = 0; i < part.length; i++) part[i] = i - M;
      convertInPlace(part, this.a.noise.adc ? adcFromSpec(this.a.spec.adc, m.adc!.fullScale[s], m.adc!.signed) : idealAdc(m, s), 'code');
    }
    return (this.table = tf.keep(tf.tensor1d(t)));
  }

  /** The layer's output in the float accumulator domain, s_x·s_w·acc + bias, [batch, ...output]. */
  forward(node: Node, x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined, pin: ValueParams, ctx: LayerContext): tf.Tensor {
    const { a, plan, T, S, N } = this;
    const m = plan.mapping;
    if (pin.bits !== m.inputBits) throw new Error(`cim accelerator layer '${m.layer}': input has ${pin.bits}-bit codes, the schedule ${m.inputBits}-bit`);
    const wbits = node.quant?.weightBits ?? a.spec.weights.bits;
    if (wbits !== a.spec.weights.bits) throw new Error(`cim accelerator layer '${m.layer}': ${wbits}-bit weights, the spec stores ${a.spec.weights.bits}-bit`);
    const K = m.rows;
    if (kernel.size !== K * N) throw new Error(`cim accelerator layer '${m.layer}': kernel has ${kernel.size} weights, the schedule maps ${K}x${N}`);
    const { codes, scales } = kernelCodes(kernel.dataSync() as Float32Array, N, wbits);
    const digits = weightDigits(codes, a.spec);
    const seed = mixSeed(a.seed, ctx.seed);
    const devices = a.noise.cells ? analogDevices(a.noise.irDrop ? a.spec : idealWires(a.spec), { seed, timeS: a.noise.timeS }) : undefined;
    const groups = rowGroups(plan, digits, (b) => {
      if (!devices) return { levels: idealLevels({ ...b }, digits, N), gain: 1 };
      const c = devices.cells(m, b, digits);
      return a.noise.read ? c : { ...c, readVariance: undefined, uniformReadVariance: undefined };
    });
    const integerSums = !a.noise.cells && !a.noise.read;
    // zero-point correction (qmin − z_x)·Σ_k q_w[k, n] and the per-channel real scale s_x·s_w[n]
    const [qmin, qmax] = activationRange(pin.bits);
    const corr = new Float32Array(N);
    for (let i = 0; i < codes.length; i++) corr[i % N] += (qmin - pin.zeroPoint) * codes[i];
    const scale = Float32Array.from(scales, (s) => s * pin.scale);
    // input codes (x is on its grid) and their shapes
    const B = x.shape[0];
    const xs = x.shape.slice(1);
    const ys = node.op === OpKind.Dense ? [N] : convOutput(node, xs);
    const P = ys.length === 1 ? 1 : ys[0] * ys[1];
    const xv = x.dataSync();
    const q = new Int32Array(xv.length);
    for (let i = 0; i < q.length; i++) q[i] = Math.min(qmax, Math.max(qmin, roundHalfAway(xv[i] / pin.scale) + pin.zeroPoint));
    const perImage = T * P * S * N;
    const imagesPerChunk = Math.max(1, Math.floor(CHUNK / perImage));
    const outs: tf.Tensor[] = [];
    for (let b0 = 0, chunk = 0; b0 < B; b0 += imagesPerChunk, chunk++) {
      const b1 = Math.min(B, b0 + imagesPerChunk);
      const u = unrollInputs(node, q, b0, b1, xs, ys, qmin, pin.zeroPoint);
      const rows = (b1 - b0) * P;
      outs.push(
        tf.tidy(() => {
          let sums: tf.Tensor | undefined; // Σ_t 2^(t·dac)·code, per vector and digit column [rows, S·N]
          groups.forEach((g, gi) => {
            const { d, std } = this.inputDigits(u, rows, K, g);
            let y = tf.matMul(tf.tensor2d(d, [T * rows, g.k1 - g.k0]), tf.tensor2d(g.levels, [g.k1 - g.k0, S * N]));
            if (std || g.variance) {
              const sd = std ? tf.tensor2d(std, [T * rows, 1]) : tf.sqrt(tf.matMul(tf.tensor2d(squared(d), [T * rows, g.k1 - g.k0]), tf.tensor2d(g.variance!, [g.k1 - g.k0, S * N])));
              y = tf.add(y, tf.mul(sd, tf.randomNormal(y.shape, 0, 1, 'float32', mixSeed(seed, chunk, gi, 0x7ead))));
            }
            let c = integerSums ? this.convertExact(y) : this.convert(y);
            if (g.gain) c = tf.mul(c, tf.tensor1d(g.gain));
            const shifted = tf.reshape(tf.matMul(tf.tensor2d(Array.from({ length: T }, (_, t) => 2 ** (t * a.spec.input.dacBits)), [1, T]), tf.reshape(c, [T, rows * S * N])), [rows, S * N]);
            sums = sums ? tf.add(sums, shifted) : shifted;
          });
          const weights = tf.tensor3d(
            this.adc.map((p, s) => p.step * digits.significance[s]),
            [1, S, 1],
          );
          const acc = tf.add(roundAway(tf.sum(tf.mul(tf.reshape(sums!, [rows, S, N]), weights), 1)), tf.tensor1d(corr));
          const y = tf.mul(acc, tf.tensor1d(scale));
          return bias ? tf.add(y, bias) : y;
        }),
      );
    }
    const all = outs.length === 1 ? outs[0] : tf.concat(outs, 0);
    if (outs.length > 1) tf.dispose(outs);
    return tf.reshape(all, [B, ...ys]);
  }

  /**
   * DAC digits of the group's rows of u, all cycles stacked: [(t·rows + p), k]; with uniform read
   * noise also the column sums' std per vector and cycle, sqrt(variance·Σ_k digit²).
   */
  private inputDigits(u: Float32Array, rows: number, K: number, g: RowGroup): { d: Float32Array; std?: Float32Array } {
    const Kb = g.k1 - g.k0;
    const dac = this.a.spec.input.dacBits;
    const mask = 2 ** dac - 1;
    const d = new Float32Array(this.T * rows * Kb);
    for (let p = 0; p < rows; p++) {
      for (let k = 0; k < Kb; k++) {
        const v = u[p * K + g.k0 + k];
        for (let t = 0; t < this.T; t++) d[(t * rows + p) * Kb + k] = (v >> (t * dac)) & mask;
      }
    }
    if (g.uniformVariance === undefined) return { d };
    const std = new Float32Array(this.T * rows);
    for (let r = 0; r < std.length; r++) {
      let s2 = 0;
      for (let k = 0; k < Kb; k++) s2 += d[r * Kb + k] * d[r * Kb + k];
      std[r] = Math.sqrt(s2 * g.uniformVariance);
    }
    return { d, std };
  }

  /** Integer column sums [rows, S·N] -> ADC codes, by the table of the simulator's own transfer. */
  private convertExact(y: tf.Tensor): tf.Tensor {
    const M = this.plan.mapping.adc!.maxSum;
    const offset = new Int32Array(this.S * this.N);
    for (let s = 0; s < this.S; s++) offset.fill(M + s * (2 * M + 1), s * this.N, (s + 1) * this.N);
    return tf.gather(this.adcTable(), tf.add(tf.cast(y, 'int32'), tf.tensor1d(offset, 'int32')));
  }

  /** Real-valued (noisy) column sums -> ADC codes: sim/devices/adc.ts's transfer in tensor ops. */
  private convert(y: tf.Tensor): tf.Tensor {
    const per = (f: (p: PreparedAdc) => number) => tf.tensor1d(Float32Array.from({ length: this.S * this.N }, (_, i) => f(this.adc[Math.floor(i / this.N)])));
    const p0 = this.adc[0];
    let a = tf.add(tf.mul(y, per((p) => p.gain)), per((p) => p.offset));
    if (this.adc.some((p) => p.inlPeak !== 0)) {
      const w = tf.sub(tf.mul(tf.clipByValue(tf.mul(tf.sub(y, per((p) => p.lo)), per((p) => p.invSpan)), 0, 1), 2), 1);
      a = tf.add(a, tf.mul(per((p) => p.inlPeak), tf.sub(1, tf.square(w))));
    }
    return tf.clipByValue(roundAway(tf.div(a, per((p) => p.step))), p0.minCode, p0.maxCode);
  }
}

/** d² of DAC digits (multi-bit DACs; 1-bit digits are their own squares). */
const squared = (d: Float32Array) => d.map((v) => v * v);

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
