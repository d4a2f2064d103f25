// The functional simulator: runs a quantized Graph as its Schedule says. Crossbar layers go through
// sim/crossbar.ts (digits, column sums, ADCs, shift-add); everything else, and the requantization of
// every layer, is the digital unit, which computes exactly what the integer-only reference executor
// computes (compiler/passes/quantize/int8-executor.ts, docs/int8-semantics.md).
//   exact:  ideal cells; the ADC only quantizes and clips (with an ADC that can do neither the result
//           equals the integer executor bit for bit);
//   analog: programmed, drifted, noisy cells and a non-ideal ADC (sim/analog.ts), all seeded.
import type { LayerMapping, Schedule, WeightBlock } from '../compiler/lower/schedule.js';
import { graphHash } from '../compiler/lower/lower.js';
import { verifySchedule } from '../compiler/lower/verify.js';
import { type Graph, IrError, type Node, type Shape } from '../compiler/ir/types.js';
import { type AccumulateHook, type Int8Result, integerLayers, type IntLayer, runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { activationRange, type ValueParams } from '../compiler/passes/quantize/scheme.js';
import { type BlockCells, columnSums, layerAccumulator, type LayerJob } from './crossbar.js';
import { type AdcTransfer, prepareAdc } from './devices/adc.js';
import { quantizeCodes, requantizeCodes } from './kernels/index.js';
import { unrollInputs } from './unroll.js';
import { weightDigits, type WeightDigits } from './weight-digits.js';

export type SimMode = 'exact' | 'analog';

/** How a layer's cells and ADC behave: the exact model below, or sim/analog.ts. */
export interface DeviceModel {
  cells(layer: LayerMapping, block: WeightBlock, digits: WeightDigits): BlockCells;
  /** The ADC transfer of a layer's digit-`slice` columns (full scale and signedness from the schedule). */
  adc(layer: LayerMapping, slice: number): AdcTransfer;
  /** The seed of a fresh read-noise stream (crossbar.ts LayerJob.normals). */
  normals?: () => number;
  /** True when the ADC of this layer neither clips nor rounds and the cells are ideal. */
  lossless(layer: LayerMapping): boolean;
}

/** Ideal levels of a block: plus − minus (or reference) digits, [rows × (slices·cols)] (diagonal: taps × ...). */
export function idealLevels(block: WeightBlock, digits: WeightDigits, N: number): Float32Array {
  const [k0, k1] = block.rows;
  const [n0, n1] = block.cols;
  const Nb = n1 - n0;
  const S = digits.slices;
  const out = new Float32Array((k1 - k0) * S * Nb);
  for (let k = k0; k < k1; k++) {
    for (let s = 0; s < S; s++) {
      const p = digits.plus[s];
      const m = digits.minus?.[s];
      const r = digits.reference[s];
      for (let n = n0; n < n1; n++) out[(k - k0) * S * Nb + s * Nb + n - n0] = p[k * N + n] - (m ? m[k * N + n] : r);
    }
  }
  return out;
}

/** The ideal ADC of a layer: rounds (half away from zero) to its step and clips at its full scale. */
export const idealAdc = (layer: LayerMapping, slice: number): AdcTransfer => ({ bits: layer.adc!.bits, signed: layer.adc!.signed, fullScale: layer.adc!.fullScale[slice], center: layer.adc!.center?.[slice] ?? 0 });

export const EXACT_DEVICES: DeviceModel = {
  cells: (layer, block, digits) => ({ levels: idealLevels(block, digits, layer.cols), gain: 1 }),
  adc: idealAdc,
  lossless: (layer) => layer.adc!.step.every((s, i) => s === 1 && layer.adc!.fullScale[i] >= layer.adc!.maxSum && !layer.adc!.center?.[i]),
};

export interface SimRunOptions {
  /** Values whose codes to return. */
  readonly keep?: ReadonlySet<string>;
  /** Sees every column sum of a layer before conversion (calibration). */
  readonly observe?: (layer: string, y: Float32Array, columnsPerDigit: number, digits: number) => void;
  /** Force the digit-by-digit path even where the ADC is lossless (tests). */
  readonly digits?: boolean;
}

/** Largest number of vectors handled at once: bounds the digit and column-sum buffers (~32 MB). */
const CHUNK_ELEMENTS = 1 << 22;

export class Simulator {
  private readonly mappings = new Map<string, LayerMapping>();
  private readonly blocks = new Map<string, WeightBlock[]>();
  private readonly digits = new Map<string, WeightDigits>();
  private readonly cells = new Map<string, BlockCells>();
  private readonly layers: Map<string, IntLayer>;
  private readonly codes16 = new Map<string, Int16Array>();
  private readonly sums = new Map<string, Float64Array>();

  constructor(
    readonly graph: Graph,
    readonly schedule: Schedule,
    readonly devices: DeviceModel = EXACT_DEVICES,
  ) {
    const hash = graphHash(graph);
    if (schedule.model.hash !== hash) throw new IrError(`the schedule was compiled for model '${schedule.model.name}' (${schedule.model.hash}), not for '${graph.name}' (${hash})`);
    verifySchedule(schedule, graph);
    for (const l of schedule.layers) if (l.where === 'crossbar') this.mappings.set(l.layer, l);
    for (const b of schedule.blocks) this.blocks.set(b.layer, [...(this.blocks.get(b.layer) ?? []), b]);
    this.layers = integerLayers(graph);
  }

  /** Runs a batch of real inputs (NHWC, batch-major) through the accelerator. */
  run(input: Float32Array, batch: number, opts: SimRunOptions = {}): Int8Result {
    const accumulate: AccumulateHook = (node, x, b, xs, ys, L, pin) => this.accumulate(node, x, b, xs, ys, L, pin, opts);
    return runInt8(this.graph, input, batch, { keep: opts.keep, accumulate, layers: this.layers, quantizeInput: quantizeCodes, requantize: requantizeCodes });
  }

  private layerDigits(node: Node, L: IntLayer): WeightDigits {
    let d = this.digits.get(node.id);
    if (!d) this.digits.set(node.id, (d = weightDigits(L.weights, this.schedule.spec)));
    return d;
  }

  private blockCells(m: LayerMapping, b: WeightBlock, d: WeightDigits): BlockCells {
    let c = this.cells.get(b.id);
    if (!c) this.cells.set(b.id, (c = this.devices.cells(m, b, d)));
    return c;
  }

  private accumulate(node: Node, x: Int32Array, batch: number, xs: Shape, ys: Shape, L: IntLayer, pin: ValueParams, opts: SimRunOptions): Float64Array | undefined {
    const m = this.mappings.get(node.id);
    if (!m) return undefined; // the digital unit: the executor's own integer arithmetic
    const digits = this.layerDigits(node, L);
    const observe = opts.observe;
    const job: LayerJob = {
      spec: this.schedule.spec,
      mapping: m,
      blocks: this.blocks.get(node.id) ?? [],
      codes: L.weights,
      codes16: this.codes16.get(node.id) ?? this.codes16.set(node.id, Int16Array.from(L.weights)).get(node.id)!,
      columnSums: this.sums.get(node.id) ?? this.sums.set(node.id, columnSums(L.weights, L.weights.length / m.cols, m.cols)).get(node.id)!,
      significance: digits.significance,
      zeroPoint: pin.zeroPoint,
      qmin: activationRange(pin.bits)[0],
      cells: (b) => this.blockCells(m, b, digits),
      adc: digits.significance.map((_, s) => prepareAdc(this.devices.adc(m, s))),
      normals: this.devices.normals,
      observe: observe && ((y, nb, s) => observe(node.id, y, nb, s)),
      lossless: !opts.digits && !observe && this.devices.lossless(m),
    };
    const outPerImage = ys.reduce((a, v) => a * v, 1);
    const K = m.rows * (this.blocks.get(node.id)?.some((b) => b.diagonal) ? m.cols : 1);
    const perVector = Math.max(K, job.lossless ? 0 : m.inputCycles * digits.slices * m.cols);
    const imagesPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / (m.vectors * perVector)));
    const [qmin] = activationRange(pin.bits);
    const chunk = (b0: number, b1: number) => layerAccumulator(job, unrollInputs(node, x, b0, b1, xs, ys, qmin, pin.zeroPoint, 'i16'), (b1 - b0) * m.vectors, (p) => p % m.vectors);
    if (imagesPerChunk >= batch) return chunk(0, batch);
    const acc = new Float64Array(batch * outPerImage);
    for (let b0 = 0; b0 < batch; b0 += imagesPerChunk) acc.set(chunk(b0, Math.min(batch, b0 + imagesPerChunk)), b0 * outPerImage);
    return acc;
  }
}
