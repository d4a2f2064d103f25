// QAT activation ranges as training state. Each value with its own (scale, zero point) carries a
// non-trainable weight `actRange` = [lo, hi, symmetric?1:0] during quantization-aware training; the trainer
// moves [lo, hi] as an exponential moving average of each training batch's min/max (like batchNorm's
// running statistics; TensorFlow's QAT does the same), observed where calibration observes it (after a
// fused relu). The forward pass derives (scale, zero point) from the current ranges. Before training the
// ranges are the calibrated ones; afterwards they become the nodes' (scale, zero point) again.
import { type Graph, type Node, OpKind, QAT_RANGE_WEIGHT } from '../../ir/types.js';
import { activationRange, OWN_PARAMS, paramsFromRange } from './scheme.js';

/** EMA momentum of the ranges: new = m·old + (1 - m)·batch. */
export const RANGE_MOMENTUM = 0.99;

/** The relu / relu6 fused into `node` (its only consumer, not a graph output), if any. */
export function fusedActivation(graph: Graph, node: Node): Node | undefined {
  const users = graph.nodes.filter((n) => n.inputs.includes(node.id));
  if (graph.outputs.includes(node.id) || users.length !== 1) return undefined;
  return users[0].op === OpKind.Relu || users[0].op === OpKind.Relu6 ? users[0] : undefined;
}

/** A batch's [min, max] of `node`'s output as calibration would observe it (after a fused activation). */
export function observedRange(fused: OpKind | undefined, lo: number, hi: number): [number, number] {
  if (fused === OpKind.Relu) return [Math.max(lo, 0), Math.max(hi, 0)];
  if (fused === OpKind.Relu6) return [Math.min(Math.max(lo, 0), 6), Math.min(Math.max(hi, 0), 6)];
  return [lo, hi];
}

/** `q` (quantized) with an `actRange` weight on every node that has its own (scale, zero point). */
export function withRangeState(q: Graph, scheme: 'symmetric' | 'asymmetric'): Graph {
  return {
    ...q,
    nodes: q.nodes.map((n): Node => {
      const p = n.quant;
      if (!OWN_PARAMS.has(n.op) || p?.outputScale === undefined || p.outputZeroPoint === undefined || p.activationBits === undefined) return n;
      // the representable range: paramsFromRange gives back (scale, zero point)
      const [qmin, qmax] = activationRange(p.activationBits);
      const range = Float32Array.of(p.outputScale * (qmin - p.outputZeroPoint), p.outputScale * (qmax - p.outputZeroPoint), scheme === 'symmetric' ? 1 : 0);
      return { ...n, weights: { ...n.weights, [QAT_RANGE_WEIGHT]: { dtype: 'float32', shape: [3], data: range } } } as Node;
    }),
  };
}

/**
 * `graph` with the (scale, zero point) of every node that has a range taken from it (`rangeOf`, e.g. the
 * current training tensors); `drop` also removes the `actRange` weights (the end of QAT).
 */
export function applyRanges(graph: Graph, rangeOf: (n: Node) => ArrayLike<number> | undefined, drop = false): Graph {
  return {
    ...graph,
    nodes: graph.nodes.map((n): Node => {
      const r = n.weights[QAT_RANGE_WEIGHT] ? rangeOf(n) : undefined;
      if (!r || !n.quant?.activationBits) return n;
      const p = paramsFromRange(r[0], r[1], n.quant.activationBits, r[2] ? 'symmetric' : 'asymmetric');
      const weights = { ...n.weights };
      if (drop) delete weights[QAT_RANGE_WEIGHT];
      return { ...n, weights, quant: { ...n.quant, outputScale: p.scale, outputZeroPoint: p.zeroPoint } } as Node;
    }),
  };
}

/** After QAT: ranges -> (scale, zero point), `actRange` weights removed. */
export const fromRangeState = (g: Graph): Graph => applyRanges(g, (n) => n.weights[QAT_RANGE_WEIGHT].data, true);
