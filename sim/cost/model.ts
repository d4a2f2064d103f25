// The cost model: time, energy and area of a Schedule from its spec's per-component parameters
// (docs/cim.md#cost-model; the presets' values and sources in docs/accelerators.md).
//
// Per step:
//   mvm         time   = vectors · cycles · (arrayReadNs + columnsPerAdc · adcNsPerConversion)
//               energy = conversions·vectors·cycles·adcPj                      (adc)
//                      + activeRows·vectors·cycles·dacPj                       (dac: every row driven each cycle)
//                      + vectors·cycles·activity·ΣG·V²·arrayReadNs             (array: cell reads, V²·G·t)
//                      + (activeRows·inBytes + cols·4)·vectors·bufferPj         (buffers: inputs in, int32 partial sums out)
//                      + cols·4·vectors·interconnectPj                          (interconnect: partial sums to the accumulator)
//   accumulate  energy = adds·shiftAddPj + requantizations·4·digitalPj; time = requantizations·4 ops on the
//               digital unit (the shift-adds run beside the ADCs, pipelined, and add no time)
//   digital     time = ops / (opsPerCycle·clock); energy = ops·digitalPj + bytes·bufferPj
//   program     time = rowsWritten·rowWriteNs; energy = cells·cellWritePj (per inference only for reloads)
// A layer's time: the busiest array's mvm time (arrays run in parallel, blocks sharing an array in turn)
// plus its accumulate / digital time; layers run one after another (latency). With everything on chip,
// layers can also run as a pipeline whose interval is the slowest layer.
// Cell reads: ΣG is the block's cells' total conductance at their programmed levels (reference columns
// included, sim/cost/conductance.ts) and `activity` the mean input drive per row and cycle, measured
// on calibration inputs (sim/cost/activity.ts, else 0.5): a cycle draws activity·ΣG·V² on average.
import type { AccumulateStep, DigitalStep, MvmStep, ProgramStep, Schedule, Step } from '../../compiler/lower/schedule.js';
import type { AcceleratorSpec } from '../spec/types.js';
import { cycleNs, digitalNs } from './timing.js';

const PARTIAL_SUM_BYTES = 4;
const REQUANT_OPS = 4;

export type EnergyComponent = 'adc' | 'dac' | 'array' | 'shiftAdd' | 'buffer' | 'interconnect' | 'digital' | 'program';
export const ENERGY_COMPONENTS: readonly EnergyComponent[] = ['adc', 'dac', 'array', 'shiftAdd', 'buffer', 'interconnect', 'digital', 'program'];
export type EnergyBreakdown = Record<EnergyComponent, number>;

export interface StepCost {
  readonly step: string;
  readonly timeNs: number;
  /** Picojoules per component. */
  readonly energyPj: EnergyBreakdown;
}

export interface LayerCost {
  readonly layer: string;
  readonly origin: string;
  readonly macs: number;
  readonly timeNs: number;
  readonly energyPj: EnergyBreakdown;
}

export interface CostReport {
  readonly steps: readonly StepCost[];
  readonly layers: readonly LayerCost[];
  /** One inference, layers in sequence (reloads included). */
  readonly latencyNs: number;
  /** Pipeline interval (slowest layer) when every weight stays on chip, else the latency. */
  readonly intervalNs: number;
  readonly energyPj: EnergyBreakdown;
  readonly energyPerInferencePj: number;
  /** Programming once before inference (not per inference), when everything fits. */
  readonly setup: { readonly timeNs: number; readonly energyPj: number };
  readonly areaMm2: number;
  readonly macs: number;
  /** 2·MACs per second of latency, tera. */
  readonly tops: number;
  readonly topsPerW: number;
  readonly topsPerMm2: number;
}

const zero = (): EnergyBreakdown => ({ adc: 0, dac: 0, array: 0, shiftAdd: 0, buffer: 0, interconnect: 0, digital: 0, program: 0 });
const sumEnergy = (e: EnergyBreakdown) => ENERGY_COMPONENTS.reduce((a, k) => a + e[k], 0);
function addInto(a: EnergyBreakdown, b: EnergyBreakdown): void {
  for (const k of ENERGY_COMPONENTS) a[k] += b[k];
}

/** Energy of reading conductance G (µS) at full input for one cycle: V²·G·t (µS·V²·ns = fJ, /1000 for pJ). */
function cellReadPj(spec: AcceleratorSpec, gUs: number): number {
  return (spec.crossbar.readVoltageV ** 2 * gUs * spec.latency.arrayReadNs) / 1000;
}

export function mvmCost(spec: AcceleratorSpec, st: MvmStep, inputBits: number, cols: number): StepCost {
  const e = zero();
  const ops = st.vectors * st.inputCycles;
  e.adc = st.conversions * ops * spec.energy.adcPjPerConversion;
  e.dac = st.activeRows * ops * spec.energy.dacPjPerRowCycle;
  e.array = ops * st.inputActivity * cellReadPj(spec, st.cellConductanceUs);
  e.buffer = (st.activeRows * Math.ceil(inputBits / 8) + cols * PARTIAL_SUM_BYTES) * st.vectors * spec.energy.bufferPjPerByte;
  e.interconnect = cols * PARTIAL_SUM_BYTES * st.vectors * spec.energy.interconnectPjPerByte;
  return { step: st.id, timeNs: ops * cycleNs(spec, st.columnsPerAdc), energyPj: e };
}

export function accumulateCost(spec: AcceleratorSpec, st: AccumulateStep): StepCost {
  const e = zero();
  e.shiftAdd = st.adds * spec.energy.shiftAddPjPerOp;
  e.digital = st.requantizations * REQUANT_OPS * spec.energy.digitalPjPerOp;
  return { step: st.id, timeNs: digitalNs(spec, st.requantizations * REQUANT_OPS), energyPj: e };
}

export function digitalCost(spec: AcceleratorSpec, st: DigitalStep): StepCost {
  const e = zero();
  e.digital = st.ops * spec.energy.digitalPjPerOp;
  e.buffer = st.bytes * spec.energy.bufferPjPerByte;
  return { step: st.id, timeNs: digitalNs(spec, st.ops), energyPj: e };
}

export function programCost(spec: AcceleratorSpec, st: ProgramStep): StepCost {
  const e = zero();
  e.program = st.cells * spec.energy.cellWritePjPerCell;
  return { step: st.id, timeNs: st.rowsWritten * spec.latency.rowWriteNs, energyPj: e };
}

/** Chip area: arrays with their ADCs and shift-adders, buffers per tile, the digital unit. */
export function areaMm2(spec: AcceleratorSpec): number {
  const a = spec.area;
  const arrays = spec.architecture.tiles * spec.architecture.arraysPerTile;
  const um2 = arrays * (a.arrayUm2 + spec.adc.perArray * a.adcUm2 + a.shiftAddUm2PerArray) + spec.architecture.tiles * (spec.architecture.inputBufferKiB + spec.architecture.outputBufferKiB) * a.bufferUm2PerKiB + a.digitalUm2;
  return um2 / 1e6;
}

export function costOf(s: Schedule): CostReport {
  const spec = s.spec;
  const blocks = new Map(s.blocks.map((b) => [b.id, b]));
  const mappings = new Map(s.layers.map((l) => [l.layer, l]));
  const steps: StepCost[] = [];
  const byLayer = new Map<string, { mvm: Map<number, number>; other: number; energy: EnergyBreakdown }>();
  const entry = (layer: string) => {
    let e = byLayer.get(layer);
    if (!e) byLayer.set(layer, (e = { mvm: new Map(), other: 0, energy: zero() }));
    return e;
  };
  let reloadNs = 0;
  const reloadPj = zero();
  let setupNs = 0;
  let setupPj = 0;
  for (const st of s.steps as Step[]) {
    let c: StepCost;
    if (st.kind === 'program') {
      c = programCost(spec, st);
      if (st.perInference) {
        reloadNs += c.timeNs;
        addInto(reloadPj, c.energyPj);
      } else {
        setupNs += c.timeNs;
        setupPj += sumEnergy(c.energyPj);
      }
    } else if (st.kind === 'mvm') {
      const b = blocks.get(st.block)!;
      const l = mappings.get(st.layer)!;
      c = mvmCost(spec, st, l.inputBits, b.cols[1] - b.cols[0]);
      const e = entry(st.layer);
      e.mvm.set(b.array, (e.mvm.get(b.array) ?? 0) + c.timeNs);
      addInto(e.energy, c.energyPj);
    } else {
      c = st.kind === 'accumulate' ? accumulateCost(spec, st) : digitalCost(spec, st);
      const e = entry(st.layer);
      e.other += c.timeNs;
      addInto(e.energy, c.energyPj);
    }
    steps.push(c);
  }
  const layers: LayerCost[] = s.layers.map((l) => {
    const e = entry(l.layer);
    return { layer: l.layer, origin: l.origin, macs: l.macs, timeNs: Math.max(0, ...e.mvm.values()) + e.other, energyPj: e.energy };
  });
  const energy = zero();
  for (const l of layers) addInto(energy, l.energyPj);
  addInto(energy, reloadPj);
  const latencyNs = layers.reduce((a, l) => a + l.timeNs, 0) + reloadNs;
  const intervalNs = s.rounds === 1 ? Math.max(...layers.map((l) => l.timeNs)) : latencyNs;
  const macs = s.layers.reduce((a, l) => a + l.macs, 0);
  const energyPerInferencePj = sumEnergy(energy);
  const area = areaMm2(spec);
  const tops = (2 * macs) / (latencyNs * 1e-9) / 1e12;
  return {
    steps,
    layers,
    latencyNs,
    intervalNs,
    energyPj: energy,
    energyPerInferencePj,
    setup: { timeNs: setupNs, energyPj: setupPj },
    areaMm2: area,
    macs,
    tops,
    topsPerW: (2 * macs) / (energyPerInferencePj * 1e-12) / 1e12,
    topsPerMm2: tops / area,
  };
}
