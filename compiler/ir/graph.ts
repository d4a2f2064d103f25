// Shape inference, verification and per-node statistics over a Graph.
import { opDef } from './ops.js';
import { type Graph, IrError, type Node, type NodeOf, type OpKind, QAT_RANGE_WEIGHT, type Shape } from './types.js';

const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);
const fmt = (s: Shape): string => `[${s.join(', ')}]`;

/** Output shape of every value (graph inputs and nodes). Throws IrError on the first inconsistency. */
export function inferShapes(graph: Graph): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const input of graph.inputs) shapes.set(input.id, input.shape);
  for (const node of graph.nodes) {
    const ins = node.inputs.map((v) => {
      const s = shapes.get(v);
      if (!s) throw new IrError(`input '${v}' is not defined before this node`, node.id);
      return s;
    });
    const def = opDef(node.op) as unknown as { inferShape(n: Node, i: readonly Shape[]): Shape; arity: readonly [number, number] };
    if (ins.length < def.arity[0] || ins.length > def.arity[1]) {
      throw new IrError(`${node.op} takes ${def.arity[0]}..${def.arity[1]} inputs, got ${ins.length}`, node.id);
    }
    shapes.set(node.id, def.inferShape(node, ins));
  }
  return shapes;
}

function checkTopology(graph: Graph): void {
  const ids = new Set<string>();
  for (const input of graph.inputs) {
    if (ids.has(input.id)) throw new IrError(`duplicate value id '${input.id}'`);
    ids.add(input.id);
  }
  for (const node of graph.nodes) {
    if (ids.has(node.id)) throw new IrError(`duplicate value id '${node.id}'`, node.id);
    ids.add(node.id);
  }
  for (const node of graph.nodes) {
    for (const v of node.inputs) if (!ids.has(v)) throw new IrError(`dangling input '${v}': no graph input or node produces it`, node.id);
  }
  for (const out of graph.outputs) if (!ids.has(out)) throw new IrError(`dangling graph output '${out}'`);
  // Cycle detection over the whole node set, independent of list order.
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const state = new Map<string, 1 | 2>();
  const visit = (id: string, path: string[]): void => {
    const s = state.get(id);
    if (s === 2) return;
    if (s === 1) throw new IrError(`cycle: ${[...path.slice(path.indexOf(id)), id].join(' -> ')}`, id);
    const node = byId.get(id);
    if (!node) return; // graph input
    state.set(id, 1);
    for (const v of node.inputs) visit(v, [...path, id]);
    state.set(id, 2);
  };
  for (const node of graph.nodes) visit(node.id, []);
  const seen = new Set(graph.inputs.map((i) => i.id));
  for (const node of graph.nodes) {
    for (const v of node.inputs) if (!seen.has(v)) throw new IrError(`nodes are not in topological order: '${v}' is used before it is defined`, node.id);
    seen.add(node.id);
  }
}

function checkWeights(node: Node, inputs: readonly Shape[]): void {
  const def = opDef(node.op) as unknown as { weightShapes(n: Node, i: readonly Shape[]): Record<string, Shape> };
  const expected = def.weightShapes(node, inputs);
  for (const [name, shape] of Object.entries(expected)) {
    const w = node.weights[name];
    if (!w) throw new IrError(`missing weight '${name}' (expected ${fmt(shape)})`, node.id);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new IrError(`weight '${name}' has shape ${fmt(w.shape)}, attrs and input imply ${fmt(shape)}`, node.id);
    }
  }
  for (const [name, w] of Object.entries(node.weights)) {
    const qatRange = name === QAT_RANGE_WEIGHT && node.quant?.activationBits !== undefined && w.shape.length === 1 && w.shape[0] === 3;
    if (!(name in expected) && !qatRange) throw new IrError(`unexpected weight '${name}' for ${node.op}`, node.id);
    if (w.data.length !== size(w.shape)) {
      throw new IrError(`weight '${name}' holds ${w.data.length} elements, shape ${fmt(w.shape)} needs ${size(w.shape)}`, node.id);
    }
  }
}

/** Throws IrError naming the first problem: dangling values, cycles, order, shape mismatch, weight shapes. */
export function verify(graph: Graph): Map<string, Shape> {
  if (graph.outputs.length === 0) throw new IrError('graph has no outputs');
  checkTopology(graph);
  const shapes = inferShapes(graph);
  for (const node of graph.nodes) {
    checkWeights(
      node,
      node.inputs.map((v) => shapes.get(v)!),
    );
  }
  return shapes;
}

export interface NodeStats {
  readonly id: string;
  readonly op: OpKind;
  readonly origin: string;
  readonly inputShapes: readonly Shape[];
  readonly outputShape: Shape;
  /** Number of weight elements (BatchNorm counts gamma, beta, mean and variance, as Keras does). */
  readonly params: number;
  /** Multiply-accumulates per sample. */
  readonly macs: number;
  /** Bytes of this node's output activation per sample (float32 unless quantized). */
  readonly activationBytes: number;
}

export interface GraphStats {
  readonly nodes: readonly NodeStats[];
  readonly totalParams: number;
  readonly totalMacs: number;
  readonly totalActivationBytes: number;
  /** Largest sum of live activations along the node order, a lower bound on runtime memory per sample. */
  readonly peakActivationBytes: number;
}

export function graphStats(graph: Graph): GraphStats {
  const shapes = verify(graph);
  const nodes: NodeStats[] = graph.nodes.map((node) => {
    const inputShapes = node.inputs.map((v) => shapes.get(v)!);
    const outputShape = shapes.get(node.id)!;
    const def = opDef(node.op) as unknown as { macs(n: Node, i: readonly Shape[], o: Shape): number };
    const bytes = node.quant?.activationBits ? Math.ceil(node.quant.activationBits / 8) : 4;
    return {
      id: node.id,
      op: node.op,
      origin: node.origin,
      inputShapes,
      outputShape,
      params: Object.values(node.weights).reduce((a, w) => a + w.data.length, 0),
      macs: def.macs(node, inputShapes, outputShape),
      activationBytes: size(outputShape) * bytes,
    };
  });
  // Liveness: a value is live from its producer until its last consumer (graph outputs live to the end).
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((v) => lastUse.set(v, i)));
  for (const o of graph.outputs) lastUse.set(o, graph.nodes.length);
  const bytesOf = new Map<string, number>(graph.inputs.map((i) => [i.id, size(i.shape) * 4]));
  nodes.forEach((s) => bytesOf.set(s.id, s.activationBytes));
  let live = graph.inputs.reduce((a, i) => a + size(i.shape) * 4, 0);
  let peak = live;
  graph.nodes.forEach((n, i) => {
    live += bytesOf.get(n.id)!;
    peak = Math.max(peak, live);
    for (const [v, last] of lastUse) if (last === i) live -= bytesOf.get(v) ?? 0;
  });
  return {
    nodes,
    totalParams: nodes.reduce((a, s) => a + s.params, 0),
    totalMacs: nodes.reduce((a, s) => a + s.macs, 0),
    totalActivationBytes: nodes.reduce((a, s) => a + s.activationBytes, 0),
    peakActivationBytes: peak,
  };
}

export interface OriginStats {
  readonly params: number;
  readonly macs: number;
  /** Channels (last axis) of the origin's last node's output. */
  readonly channels: number;
}

/** Params and MACs summed per original layer (node origin), in graph order. */
export function statsByOrigin(graph: Graph): Map<string, OriginStats> {
  const m = new Map<string, OriginStats>();
  for (const s of graphStats(graph).nodes) {
    const e = m.get(s.origin) ?? { params: 0, macs: 0, channels: 0 };
    m.set(s.origin, { params: e.params + s.params, macs: e.macs + s.macs, channels: s.outputShape[s.outputShape.length - 1] });
  }
  return m;
}

/** Nodes that consume each value. */
export function consumers(graph: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of graph.nodes) for (const v of n.inputs) m.set(v, [...(m.get(v) ?? []), n]);
  return m;
}

export function nodeById(graph: Graph, id: string): Node {
  const n = graph.nodes.find((x) => x.id === id);
  if (!n) throw new IrError(`no node '${id}' in graph '${graph.name}'`);
  return n;
}

export type { NodeOf };
