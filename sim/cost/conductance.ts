// Σ G of a block's physical cells at their programmed levels: what a row driven at full input draws
// in total across the block (the cost model's array read energy, sim/cost/model.ts).
import type { WeightBlock } from '../../compiler/lower/schedule.js';
import type { AcceleratorSpec } from '../spec/types.js';
import type { WeightDigits } from '../weight-digits.js';

/**
 * µS. Every physical cell sits at Gmin + level·ΔG: the weights' digits (both cells of a differential
 * pair), the unused cells of a block-diagonal (depthwise) block at level 0, and for the offset scheme
 * one reference cell per digit on every row at that digit of the offset. `N` is the layer's columns.
 */
export function blockConductanceUs(spec: AcceleratorSpec, block: WeightBlock, digits: WeightDigits, N: number): number {
  const x = spec.crossbar;
  const dG = (x.gMaxUs - x.gMinUs) / (2 ** x.cellBits - 1);
  let levels = 0;
  for (let k = block.rows[0]; k < block.rows[1]; k++) {
    for (let n = block.cols[0]; n < block.cols[1]; n++) {
      for (let s = 0; s < digits.slices; s++) levels += digits.plus[s][k * N + n] + (digits.minus ? digits.minus[s][k * N + n] : 0);
    }
  }
  const reference = spec.weights.signed === 'offset' ? digits.reference.reduce((a, r) => a + x.gMinUs + dG * r, 0) : 0;
  return block.physicalRows * (block.physicalCols * x.gMinUs + reference) + dG * levels;
}
