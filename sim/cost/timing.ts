// Time of the analog steps, shared by the lowering (depthwise placement, duplication) and the cost model.
import type { AcceleratorSpec } from '../spec/types.js';

/**
 * One input cycle of one vector on one block: the rows are driven and the bitlines settle once, then
 * the ADCs convert the block's digit columns, each ADC serving `columnsPerAdc` of them in turn.
 */
export function cycleNs(spec: AcceleratorSpec, columnsPerAdc: number): number {
  return spec.latency.arrayReadNs + columnsPerAdc * spec.latency.adcNsPerConversion;
}

/** A block's MVMs for `vectors` vectors of `inputCycles` cycles each. */
export function mvmNs(spec: AcceleratorSpec, vectors: number, inputCycles: number, columnsPerAdc: number): number {
  return vectors * inputCycles * cycleNs(spec, columnsPerAdc);
}

/** `ops` integer operations on the digital unit. */
export function digitalNs(spec: AcceleratorSpec, ops: number): number {
  return (ops / spec.digital.opsPerCycle) * (1e3 / spec.digital.clockMhz);
}
