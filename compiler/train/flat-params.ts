// All float weights of a Graph laid out in one Float32Array, so workers can share parameters and
// gradients through a SharedArrayBuffer and the optimizer works on plain typed arrays.
import { type Graph, IrError, type Node, OpKind, QAT_RANGE_WEIGHT, type Shape, type Tensor } from '../ir/types.js';

export interface ParamSlot {
  readonly node: string;
  readonly name: string;
  readonly shape: Shape;
  readonly offset: number;
  readonly length: number;
  /** Updated by gradients (false for batchNorm running statistics, QAT ranges and frozen nodes). */
  readonly trainable: boolean;
  /** Weight decay applies (conv/dense kernels, not biases or BN). */
  readonly decay: boolean;
}

export interface ParamLayout {
  readonly slots: readonly ParamSlot[];
  readonly size: number;
}

const STATS = new Set(['mean', 'variance']);

/** `frozen` holds node ids or origins whose weights must not change. */
export function paramLayout(graph: Graph, frozen: ReadonlySet<string> = new Set()): ParamLayout {
  const slots: ParamSlot[] = [];
  let offset = 0;
  for (const n of graph.nodes) {
    const isFrozen = frozen.has(n.id) || frozen.has(n.origin);
    for (const name of Object.keys(n.weights).sort()) {
      const w = n.weights[name];
      if (w.dtype !== 'float32') throw new IrError(`weight '${name}' is ${w.dtype}; training needs float32`, n.id);
      const isStat = (n.op === OpKind.BatchNorm && STATS.has(name)) || name === QAT_RANGE_WEIGHT;
      slots.push({
        node: n.id,
        name,
        shape: w.shape,
        offset,
        length: w.data.length,
        trainable: !isFrozen && !isStat,
        decay: name === 'kernel' && (n.op === OpKind.Conv2d || n.op === OpKind.Dense || n.op === OpKind.DepthwiseConv2d),
      });
      offset += w.data.length;
    }
  }
  return { slots, size: offset };
}

export function packParams(graph: Graph, layout: ParamLayout, out: Float32Array = new Float32Array(layout.size)): Float32Array {
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  for (const s of layout.slots) out.set(byId.get(s.node)!.weights[s.name].data as Float32Array, s.offset);
  return out;
}

/** A new Graph whose weights are copied from `flat` (the Graph stays immutable). */
export function unpackParams(graph: Graph, layout: ParamLayout, flat: Float32Array): Graph {
  const bySlot = new Map<string, ParamSlot>(layout.slots.map((s) => [`${s.node}\u0000${s.name}`, s]));
  const nodes = graph.nodes.map((n) => {
    const names = Object.keys(n.weights);
    if (names.length === 0) return n;
    const weights: Record<string, Tensor> = {};
    for (const name of names) {
      const s = bySlot.get(`${n.id}\u0000${name}`)!;
      weights[name] = { dtype: 'float32', shape: s.shape, data: flat.slice(s.offset, s.offset + s.length) };
    }
    return { ...n, weights } as Node;
  });
  return { ...graph, nodes };
}
