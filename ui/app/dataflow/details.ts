// What the pick panel says about one array (pure, Node-tested): its weight blocks and, given a per-layer
// Report, the error of each layer it holds (Report rows are keyed by the layer's origin).
import type { LayerReport, Report } from '../../../compiler/contracts/report.js';
import type { Schedule, WeightBlock } from '../../../compiler/lower/schedule.js';
import type { ArrayItem } from './layout.js';

export interface LayerError {
  readonly layer: string;
  readonly origin: string;
  readonly executor: string;
  readonly sqnrDb?: number;
  readonly relativeError?: number;
}

export interface ArrayDetails {
  readonly array: number;
  readonly tile: number;
  readonly utilisation: number;
  readonly blocks: readonly WeightBlock[];
  /** One per Report row of each layer on the array; empty without a Report. */
  readonly errors: readonly LayerError[];
}

export function arrayDetails(schedule: Schedule, item: ArrayItem, report?: Report): ArrayDetails {
  const blocks = item.blocks.map((i) => schedule.blocks[i]);
  const errors: LayerError[] = [];
  for (const layer of new Set(blocks.map((b) => b.layer))) {
    const origin = schedule.layers.find((l) => l.layer === layer)?.origin ?? layer;
    for (const row of report?.rows.filter((r: LayerReport) => r.layer === origin) ?? []) {
      errors.push({ layer, origin, executor: row.executor, sqnrDb: row.error?.sqnrDb, relativeError: row.error?.relativeError });
    }
  }
  return { array: item.array, tile: item.tile, utilisation: item.utilisation, blocks, errors };
}
