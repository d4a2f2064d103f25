// Dropout for retraining a pruned network (Han et al. 2015, "Learning both weights and connections",
// §3.2): pruning has already taken capacity away, so the retraining dropout should be smaller,
// D_r = D_o · sqrt(C_r / C_o), where C is the number of connections of the layer the dropout feeds
// (dropout acts on neurons; connections grow with the product of two neuron counts).
import { OpKind, type Graph, type Node } from '../../ir/types.js';
import { consumers } from '../../ir/graph.js';

export interface DropoutChange {
  readonly node: string;
  /** The conv / dense layer whose input the dropout masks. */
  readonly feeds: string;
  readonly from: number;
  readonly to: number;
}

// ops that carry a dropout's masked units on to the layer that uses them, unchanged in number
const PASS = new Set<OpKind>([OpKind.Relu, OpKind.Relu6, OpKind.LeakyRelu, OpKind.Flatten, OpKind.Dropout]);

/** The single layer with a kernel that consumes `id` through pass-through ops, if there is exactly one. */
function fedLayer(byValue: Map<string, Node[]>, id: string): Node | undefined {
  const next = byValue.get(id) ?? [];
  if (next.length !== 1) return undefined;
  const n = next[0];
  if (n.weights.kernel) return n;
  return PASS.has(n.op) ? fedLayer(byValue, n.id) : undefined;
}

const connections = (n: Node): number => n.weights.kernel?.data.length ?? 0;

/**
 * `pruned` with every dropout rate scaled by sqrt(connections after / before) of the layer it feeds,
 * `before` being the same layer (same node id) in `original`. Dropouts whose layer is unchanged or not
 * found keep their rate.
 */
export function scaleDropout(original: Graph, pruned: Graph): { graph: Graph; changes: DropoutChange[] } {
  const before = new Map(original.nodes.map((n) => [n.id, n] as const));
  const byValue = consumers(pruned);
  const changes: DropoutChange[] = [];
  const nodes = pruned.nodes.map((n): Node => {
    if (n.op !== OpKind.Dropout) return n;
    const layer = fedLayer(byValue, n.id);
    const old = layer && before.get(layer.id);
    if (!layer || !old || connections(old) === 0) return n;
    const ratio = connections(layer) / connections(old);
    if (ratio >= 1) return n;
    const to = n.attrs.rate * Math.sqrt(ratio);
    changes.push({ node: n.id, feeds: layer.id, from: n.attrs.rate, to });
    return { ...n, attrs: { ...n.attrs, rate: to } };
  });
  return { graph: { ...pruned, nodes }, changes };
}
