// Lowering: quantized Graph + AcceleratorSpec -> Schedule (schedule.ts). A pure function; the only
// data it needs besides the two is the calibrated ADC full scale per layer when the spec asks for it
// (sim/calibrate.ts measures it) and, for the cost model, the measured input activity per layer
// (sim/cost/activity.ts; a default otherwise).
import { createHash } from 'node:crypto';
import { DEFAULT_INPUT_ACTIVITY } from '../../sim/cost/activity.js';
import { blockConductanceUs } from '../../sim/cost/conductance.js';
import { digitalNs, mvmNs } from '../../sim/cost/timing.js';
import { type AcceleratorSpec, columnsPerWeight, signedSums, weightColumns } from '../../sim/spec/types.js';
import { graphStats } from '../ir/graph.js';
import { serializeGraph } from '../ir/serialize.js';
import { type Graph, IrError, type Node, OpKind, type Shape } from '../ir/types.js';
import { integerLayers } from '../passes/quantize/int8-executor.js';
import { valueParams } from '../passes/quantize/scheme.js';
import { weightDigits } from '../../sim/weight-digits.js';
import type { AccumulateStep, AdcSetting, DigitalStep, LayerMapping, MvmStep, ProgramStep, Schedule, Step, WeightBlock } from './schedule.js';

export interface LowerOptions {
  /** ADC full scale per crossbar layer (node id) and weight digit, in unit levels, for adc.range 'calibrated'. */
  readonly calibratedFullScale?: ReadonlyMap<string, readonly number[]>;
  /** adc.center 'calibrated': per crossbar layer (node id), the calibrated midpoint of each digit's range. */
  readonly calibratedCenter?: ReadonlyMap<string, readonly number[]>;
  /** Mean input drive per row and cycle per crossbar layer (sim/cost/activity.ts); default 0.5. */
  readonly inputActivity?: ReadonlyMap<string, number>;
}

const size = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** sha256 of the serialized graph (structure, quantization and weights), 16 hex digits. */
export function graphHash(graph: Graph): string {
  return createHash('sha256').update(serializeGraph(graph).json).digest('hex').slice(0, 16);
}

/** [start, end) of `parts` near-equal parts of n. */
function split(n: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, i) => [Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)]);
}

interface Placement {
  readonly where: 'crossbar' | 'digital';
  readonly reason?: string;
  readonly rows: number;
  readonly cols: number;
  readonly diagonal: boolean;
  /** Taps per column for diagonal blocks. */
  readonly taps: number;
}

/** Where a node runs and, for crossbars, its logical matrix. */
function place(node: Node, spec: AcceleratorSpec, xs: Shape, ys: Shape, macs: number): Placement {
  const digital = (reason?: string): Placement => ({ where: 'digital', reason, rows: 0, cols: 0, diagonal: false, taps: 0 });
  if (node.op === OpKind.Dense) return { where: 'crossbar', rows: size(xs), cols: node.attrs.units, diagonal: false, taps: 0 };
  if (node.op === OpKind.Conv2d) {
    if (node.attrs.groups !== 1) return digital(`grouped conv (groups ${node.attrs.groups}) runs on the digital unit`);
    const [kh, kw] = node.attrs.kernel;
    return { where: 'crossbar', rows: kh * kw * xs[2], cols: ys[2], diagonal: false, taps: 0 };
  }
  if (node.op === OpKind.DepthwiseConv2d) {
    if (node.attrs.depthMultiplier !== 1) return digital(`depthwise multiplier ${node.attrs.depthMultiplier}: block-diagonal mapping needs multiplier 1`);
    const taps = node.attrs.kernel[0] * node.attrs.kernel[1];
    const xbar: Placement = { where: 'crossbar', reason: 'depthwise, block-diagonal on crossbars', rows: taps, cols: ys[2], diagonal: true, taps };
    const mode = spec.architecture.depthwise;
    if (mode === 'digital') return digital('depthwise on the digital unit (spec)');
    if (taps > spec.crossbar.rows) return digital(`depthwise with ${taps} taps does not fit ${spec.crossbar.rows} rows`);
    if (mode === 'crossbar') return xbar;
    // auto: the faster of the two for one inference (one array per channel group, groups in parallel)
    const perArray = Math.min(Math.floor(spec.crossbar.rows / taps), Math.floor(weightColumns(spec) / columnsPerWeight(spec)));
    const conversions = perArray * spec.weights.cellsPerWeight;
    const xbarNs = mvmNs(spec, ys[0] * ys[1], inputCycles(spec, 8), Math.ceil(conversions / Math.min(spec.adc.perArray, conversions)));
    const dNs = digitalNs(spec, macs);
    return dNs <= xbarNs ? digital(`depthwise on the digital unit (auto: ${fmtNs(dNs)} vs ${fmtNs(xbarNs)} on crossbars)`) : { ...xbar, reason: `depthwise block-diagonal on crossbars (auto: ${fmtNs(xbarNs)} vs ${fmtNs(dNs)} digital)` };
  }
  return digital();
}

const fmtNs = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
const inputCycles = (spec: AcceleratorSpec, bits: number) => Math.ceil(bits / spec.input.dacBits);

/** The ADC setting of a layer whose largest block has `rows` active rows per column. */
export function adcSetting(spec: AcceleratorSpec, layer: string, rows: number, inputBits: number, calibrated?: readonly number[], center?: readonly number[]): AdcSetting {
  const signed = signedSums(spec);
  const maxSum = rows * (2 ** spec.crossbar.cellBits - 1) * (2 ** Math.min(spec.input.dacBits, inputBits) - 1);
  const maxCode = signed ? 2 ** (spec.adc.bits - 1) - 1 : 2 ** spec.adc.bits - 1;
  if (maxCode < 1) throw new IrError(`a ${spec.adc.bits}-bit ${signed ? 'signed' : 'unsigned'} ADC has no non-zero code`, layer);
  const digits = spec.weights.cellsPerWeight;
  let fullScale: number[];
  if (spec.adc.range === 'max') fullScale = new Array<number>(digits).fill(maxSum);
  else if (spec.adc.range === 'fixed') fullScale = new Array<number>(digits).fill(spec.adc.fixedFullScaleFraction! * maxSum);
  else {
    if (calibrated?.length !== digits) throw new IrError(`adc.range 'calibrated' needs the layer's calibrated full scale per digit (run calibration first)`, layer);
    fullScale = calibrated.map((c) => Math.min(Math.max(c, 1), maxSum));
  }
  const step = fullScale.map((f) => Math.max(1, f / maxCode));
  const setting = { bits: spec.adc.bits, signed, fullScale: step.map((s) => s * maxCode), step, maxSum };
  if (spec.adc.center !== 'calibrated') return setting;
  if (center?.length !== digits || center.some((c) => !Number.isFinite(c) || Math.abs(c) > maxSum)) throw new IrError(`adc.center 'calibrated' needs the layer's calibrated centre per digit, within ±${maxSum} (run calibration first)`, layer);
  // on the step grid, so that a column sum of 0 (common: sparse input bits) converts to exactly 0
  return { ...setting, center: center.map((c, i) => Math.round(c / step[i]) * step[i] + 0) };
}

/** Vectors replica i of r serves out of v. */
export const replicaShare = (v: number, r: number, i: number) => Math.floor(((i + 1) * v) / r) - Math.floor((i * v) / r);

export function lower(graph: Graph, spec: AcceleratorSpec, opts: LowerOptions = {}): Schedule {
  const stats = graphStats(graph);
  const shapes = new Map<string, Shape>(graph.inputs.map((i) => [i.id, i.shape]));
  for (const s of stats.nodes) shapes.set(s.id, s.outputShape);
  const params = valueParams(graph);
  const intLayers = integerLayers(graph, params);
  const notes: string[] = [];
  const R = spec.crossbar.rows;
  const cpw = columnsPerWeight(spec);
  const weightsPerArray = Math.floor(weightColumns(spec) / cpw);

  // 1. where each node runs; crossbar blocks of replica 0
  interface Draft {
    readonly node: Node;
    readonly p: Placement;
    readonly vectors: number;
    readonly macs: number;
    readonly inputBits: number;
    readonly tiles: { rows: [number, number]; cols: [number, number]; physicalRows: number; physicalCols: number }[];
    replicas: number;
  }
  const drafts: Draft[] = stats.nodes.map((s, i) => {
    const node = graph.nodes[i];
    const p = place(node, spec, s.inputShapes[0], s.outputShape, s.macs);
    const inputBits = params.get(node.inputs[0])?.bits ?? 8;
    const d: Draft = { node, p, vectors: 0, macs: s.macs, inputBits, tiles: [], replicas: 0 };
    if (p.where === 'digital') return d;
    const wb = node.quant?.weightBits;
    if (wb === undefined || wb > spec.weights.bits) throw new IrError(`weights are ${wb ?? 'float'}-bit but the accelerator stores ${spec.weights.bits}-bit weights (weights.bits)`, node.id);
    // fewer bits (mixed precision): the codes fit the wider cells as they are; the slices stay those of the spec
    if (wb < spec.weights.bits) notes.push(`${node.id}: ${wb}-bit weights stored as ${spec.weights.bits}-bit`);
    const vectors = node.op === OpKind.Dense ? 1 : s.outputShape[0] * s.outputShape[1];
    const tiles: Draft['tiles'] = [];
    if (p.diagonal) {
      const perArray = Math.min(Math.floor(R / p.taps), weightsPerArray);
      for (const cols of split(p.cols, Math.ceil(p.cols / perArray))) tiles.push({ rows: [0, p.taps], cols, physicalRows: (cols[1] - cols[0]) * p.taps, physicalCols: (cols[1] - cols[0]) * cpw });
    } else {
      for (const rows of split(p.rows, Math.ceil(p.rows / R))) {
        for (const cols of split(p.cols, Math.ceil(p.cols / weightsPerArray))) tiles.push({ rows, cols, physicalRows: rows[1] - rows[0], physicalCols: (cols[1] - cols[0]) * cpw });
      }
    }
    return { ...d, vectors, tiles, replicas: 1 };
  });

  // 2. rounds: one if everything fits, else fill the arrays in layer order and reprogram between rounds
  const available = spec.architecture.tiles * spec.architecture.arraysPerTile;
  const needed = drafts.reduce((a, d) => a + d.tiles.length, 0);
  const rounds = Math.max(1, Math.ceil(needed / available));
  if (rounds > 1) notes.push(`the model needs ${needed} arrays, the accelerator has ${available}: ${rounds} programming rounds, arrays reprogrammed every inference`);

  // 3. duplication for pipeline balance: give the slowest layer another copy while arrays are spare
  const layerNs = (d: Draft) => {
    const cpa = d.tiles.map((t) => adcShare(spec, t.physicalCols / cpw));
    return Math.max(...cpa.map((c) => mvmNs(spec, Math.ceil(d.vectors / d.replicas), inputCycles(spec, d.inputBits), c.columnsPerAdc)));
  };
  if (rounds === 1 && spec.architecture.duplicate) {
    let spare = available - needed;
    while (true) {
      const cands = drafts.filter((d) => d.tiles.length > 0 && d.tiles.length <= spare && d.replicas < d.vectors);
      if (!cands.length) break;
      const slow = cands.reduce((a, b) => (layerNs(b) > layerNs(a) ? b : a));
      const slowest = drafts.filter((d) => d.tiles.length).reduce((a, b) => (layerNs(b) > layerNs(a) ? b : a));
      if (layerNs(slow) < layerNs(slowest)) break; // the bottleneck cannot be duplicated: more copies elsewhere do not help
      slow.replicas++;
      spare -= slow.tiles.length;
    }
    const dup = drafts.filter((d) => d.replicas > 1);
    if (dup.length) notes.push(`duplicated for pipeline balance: ${dup.map((d) => `${d.node.id} ×${d.replicas}`).join(', ')}`);
  }

  // 4. blocks on arrays, steps in order
  const blocks: WeightBlock[] = [];
  const steps: Step[] = [];
  const layers: LayerMapping[] = [];
  const producer = new Map<string, string>(); // value -> step id that writes it
  let array = 0;
  let round = 0;
  let programIndex = 0;
  let roundBlocks: WeightBlock[] = [];
  let roundMvms: string[] = [];
  const program = (deps: string[]) => {
    const id = `program${programIndex++}`;
    steps.push({ id, kind: 'program', deps, round, perInference: rounds > 1, blocks: [], cells: 0, rowsWritten: 0 } satisfies ProgramStep);
    return id;
  };
  let programId = program([]);
  const closeRound = () => {
    const at = steps.findIndex((s) => s.id === programId);
    const cells = roundBlocks.reduce((a, b) => a + b.physicalRows * b.physicalCols, 0);
    const rowsWritten = Math.max(0, ...[...groupBy(roundBlocks, (b) => b.array).values()].map((bs) => bs.reduce((a, b) => a + b.physicalRows, 0)));
    steps[at] = { ...(steps[at] as ProgramStep), blocks: roundBlocks.map((b) => b.id), cells, rowsWritten };
  };
  for (const d of drafts) {
    const node = d.node;
    const deps = node.inputs.map((v) => producer.get(v)).filter((x): x is string => !!x);
    if (d.p.where === 'digital') {
      const s = stats.nodes.find((x) => x.id === node.id)!;
      const ops = digitalOps(node, s.inputShapes, s.outputShape, s.macs);
      const id = `${node.id}:digital`;
      steps.push({ id, kind: 'digital', deps, layer: node.id, op: node.op, ops, bytes: s.inputShapes.reduce((a, x) => a + size(x), 0) + size(s.outputShape) } satisfies DigitalStep);
      producer.set(node.id, id);
      layers.push({ layer: node.id, origin: node.origin, op: node.op, where: 'digital', reason: d.p.reason, rows: 0, cols: 0, vectors: 0, macs: d.macs, inputBits: 0, inputCycles: 0, replicas: 0, arrays: 0 });
      continue;
    }
    const cycles = inputCycles(spec, d.inputBits);
    const maxRows = d.p.diagonal ? d.p.taps : Math.max(...d.tiles.map((t) => t.rows[1] - t.rows[0]));
    const adc = adcSetting(spec, node.id, maxRows, d.inputBits, opts.calibratedFullScale?.get(node.id), opts.calibratedCenter?.get(node.id));
    const digits = weightDigits(intLayers.get(node.id)!.weights, spec);
    const inputActivity = opts.inputActivity?.get(node.id) ?? DEFAULT_INPUT_ACTIVITY;
    const mvms: string[] = [];
    for (let r = 0; r < d.replicas; r++) {
      for (const t of d.tiles) {
        if (array === available) {
          closeRound();
          round++;
          array = 0;
          roundBlocks = [];
          programId = program([...roundMvms]);
          roundMvms = [];
        }
        const id = `${node.id}/r${t.rows[0]}c${t.cols[0]}${r ? `#${r}` : ''}`;
        const b: WeightBlock = { id, layer: node.id, replica: r, rows: t.rows, cols: t.cols, diagonal: d.p.diagonal, array: array++, rowOffset: 0, colOffset: 0, physicalRows: t.physicalRows, physicalCols: t.physicalCols, round };
        blocks.push(b);
        roundBlocks.push(b);
        const conversions = (t.cols[1] - t.cols[0]) * spec.weights.cellsPerWeight;
        const share = adcShare(spec, t.cols[1] - t.cols[0]);
        const mid = `${id}:mvm`;
        steps.push({ id: mid, kind: 'mvm', deps: [programId, ...deps], layer: node.id, block: id, vectors: replicaShare(d.vectors, d.replicas, r), inputCycles: cycles, conversions, adcs: share.adcs, columnsPerAdc: share.columnsPerAdc, activeRows: t.physicalRows, cellConductanceUs: blockConductanceUs(spec, b, digits, d.p.cols), inputActivity } satisfies MvmStep);
        mvms.push(mid);
        roundMvms.push(mid);
      }
    }
    const rowBlocks = d.p.diagonal ? 1 : new Set(d.tiles.map((t) => t.rows[0])).size;
    const outputs = d.vectors * d.p.cols;
    // per output: shift-adds of every (row block, digit, cycle) conversion, the corrections, the bias
    const adds = outputs * (rowBlocks * spec.weights.cellsPerWeight * cycles + 2);
    const aid = `${node.id}:accumulate`;
    steps.push({ id: aid, kind: 'accumulate', deps: mvms, layer: node.id, adds, requantizations: outputs } satisfies AccumulateStep);
    producer.set(node.id, aid);
    layers.push({ layer: node.id, origin: node.origin, op: node.op, where: 'crossbar', reason: d.p.reason, rows: d.p.rows, cols: d.p.cols, vectors: d.vectors, macs: d.macs, inputBits: d.inputBits, inputCycles: cycles, adc, replicas: d.replicas, arrays: d.tiles.length * d.replicas });
  }
  closeRound();
  return {
    version: 1,
    model: { name: graph.name, hash: graphHash(graph) },
    spec,
    rounds,
    arraysAvailable: available,
    arraysUsed: rounds > 1 ? available : Math.max(array, 0),
    layers,
    blocks,
    steps,
    notes,
  };
}

/** ADCs a block with `weights` weight columns uses, and the conversions each does in turn per cycle. */
export function adcShare(spec: AcceleratorSpec, weights: number): { adcs: number; columnsPerAdc: number } {
  const conversions = weights * spec.weights.cellsPerWeight;
  const adcs = Math.min(spec.adc.perArray, conversions);
  return { adcs, columnsPerAdc: Math.ceil(conversions / adcs) };
}

/** Integer operations of a node on the digital unit, per inference. */
function digitalOps(node: Node, xs: readonly Shape[], ys: Shape, macs: number): number {
  switch (node.op) {
    case OpKind.Conv2d:
    case OpKind.DepthwiseConv2d:
    case OpKind.Dense:
      return 2 * macs + size(ys); // multiply-adds and a requantization per output
    case OpKind.MaxPool:
    case OpKind.AvgPool:
      return size(ys) * node.attrs.kernel[0] * node.attrs.kernel[1];
    case OpKind.GlobalAvgPool:
      return size(xs[0]) + size(ys);
    case OpKind.Add:
    case OpKind.Concat:
      return size(ys) * (node.inputs.length + 1);
    case OpKind.Flatten:
    case OpKind.Reshape:
    case OpKind.Dropout:
      return 0;
    default:
      return size(ys);
  }
}

function groupBy<T, K>(xs: readonly T[], key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}
