// A synthetic Schedule of any size for the dataflow view's benchmark and layout tests: the rram-128 spec
// with just enough tiles, a chain of conv layers (each followed by a relu on the digital unit) sharing the
// arrays unevenly, one block per array (row split) with random sizes, the steps lower.ts would emit.
import { OpKind } from '../compiler/ir/types.js';
import type { LayerMapping, Schedule, Step, WeightBlock } from '../compiler/lower/schedule.js';
import { Rng } from '../compiler/util/rng.js';
import { PRESETS } from '../sim/spec/presets.js';
import { columnsPerWeight } from '../sim/spec/types.js';

export function syntheticSchedule(arrays: number, seed: number): Schedule {
  if (!Number.isInteger(arrays) || arrays < 1) throw new Error(`arrays must be a positive integer, got ${arrays}`);
  const rng = new Rng(seed);
  const base = PRESETS['rram-128'];
  const perTile = base.architecture.arraysPerTile;
  const spec = { ...base, architecture: { ...base.architecture, tiles: Math.ceil(arrays / perTile) } };
  const { rows: xRows, cols: xCols } = spec.crossbar;
  const cpw = columnsPerWeight(spec);

  // Array counts per layer: one each, the rest spread by random weights.
  const nLayers = Math.max(1, Math.min(arrays, Math.round(Math.sqrt(arrays) / 3)));
  const weights = Array.from({ length: nLayers }, () => 0.2 + rng.next());
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => 1 + Math.floor(((arrays - nLayers) * w) / total));
  for (let i = 0; counts.reduce((a, b) => a + b, 0) < arrays; i++) counts[i % nLayers]++;

  const layers: LayerMapping[] = [];
  const blocks: WeightBlock[] = [];
  const steps: Step[] = [];
  let array = 0;
  let prev: string | undefined;
  counts.forEach((m, li) => {
    const layer = `conv${li + 1}`;
    const blockRows = 16 + rng.int(xRows - 15);
    const outCols = 1 + rng.int(Math.floor(xCols / cpw));
    layers.push({
      layer,
      origin: layer,
      op: OpKind.Conv2d,
      where: 'crossbar',
      rows: m * blockRows,
      cols: outCols,
      vectors: 64,
      macs: 64 * m * blockRows * outCols,
      inputBits: 8,
      inputCycles: 8,
      replicas: 1,
      arrays: m,
    });
    const mvms: string[] = [];
    for (let j = 0; j < m; j++) {
      const id = `${layer}/r${j * blockRows}c0`;
      blocks.push({ id, layer, replica: 0, rows: [j * blockRows, (j + 1) * blockRows], cols: [0, outCols], diagonal: false, array: array++, rowOffset: 0, colOffset: 0, physicalRows: blockRows, physicalCols: outCols * cpw, round: 0 });
      mvms.push(`${id}:mvm`);
    }
    mvms.forEach((id, j) => {
      const b = blocks[blocks.length - m + j];
      steps.push({ id, kind: 'mvm', deps: prev ? ['program0', prev] : ['program0'], layer, block: b.id, vectors: 64, inputCycles: 8, conversions: outCols * spec.weights.cellsPerWeight, adcs: spec.adc.perArray, columnsPerAdc: Math.ceil((outCols * spec.weights.cellsPerWeight) / spec.adc.perArray), activeRows: blockRows, cellConductanceUs: 1000 * blockRows, inputActivity: 0.25 });
    });
    steps.push({ id: `${layer}:accumulate`, kind: 'accumulate', deps: mvms, layer, adds: 64 * m * outCols, requantizations: 64 * outCols });
    const relu = `relu${li + 1}`;
    layers.push({ layer: relu, origin: relu, op: OpKind.Relu, where: 'digital', rows: 0, cols: 0, vectors: 0, macs: 0, inputBits: 8, inputCycles: 0, replicas: 0, arrays: 0 });
    steps.push({ id: `${relu}:digital`, kind: 'digital', deps: [`${layer}:accumulate`], layer: relu, op: OpKind.Relu, ops: 64 * outCols, bytes: 128 * outCols });
    prev = `${relu}:digital`;
  });
  const program: Step = {
    id: 'program0',
    kind: 'program',
    deps: [],
    round: 0,
    perInference: false,
    blocks: blocks.map((b) => b.id),
    cells: blocks.reduce((a, b) => a + b.physicalRows * b.physicalCols, 0),
    rowsWritten: Math.max(...blocks.map((b) => b.physicalRows)),
  };
  return {
    version: 1,
    model: { name: `synthetic-${arrays}`, hash: seed.toString(16).padStart(16, '0') },
    spec,
    rounds: 1,
    arraysAvailable: spec.architecture.tiles * perTile,
    arraysUsed: arrays,
    layers,
    blocks,
    steps: [program, ...steps],
    notes: [`synthetic: ${arrays} arrays, seed ${seed}`],
  };
}
