// Which original layers can be decomposed, and in what form each currently is (original, or
// already decomposed by svd / tucker2 / cp), read from the graph alone: the nodes of a decomposed
// layer keep the layer's id as `origin` and carry a fixed suffix (conv3/tucker.in, ...).
import { inferShapes } from '../../ir/graph.js';
import { type Graph, IrError, type Node, type NodeOf, OpKind, type Shape } from '../../ir/types.js';

export type DecompositionKind = 'svd' | 'tucker2' | 'cp';

/** Node-id suffixes of each decomposed form, in data-flow order. */
export const PARTS = {
  svd: ['svd.in', 'svd.out'],
  tucker2: ['tucker.in', 'tucker.core', 'tucker.out'],
  cp: ['cp.in', 'cp.v', 'cp.h', 'cp.out'],
} as const satisfies Record<DecompositionKind, readonly string[]>;

export const partId = (layer: string, suffix: string): string => `${layer}/${suffix}`;

/** Geometry of an original layer: what the cost formulas need. Dense layers are 1×1 "convs" on a 1×1 image. */
export interface LayerGeometry {
  readonly layer: string;
  readonly op: OpKind.Conv2d | OpKind.Dense;
  readonly kh: number;
  readonly kw: number;
  /** Input and output channels (features for dense). */
  readonly S: number;
  readonly T: number;
  /** Input and output spatial size (1×1 for dense). */
  readonly H: number;
  readonly W: number;
  readonly Ho: number;
  readonly Wo: number;
  readonly useBias: boolean;
}

export type LayerForm =
  | { readonly kind: 'original'; readonly node: NodeOf<OpKind.Conv2d> | NodeOf<OpKind.Dense>; readonly geometry: LayerGeometry }
  | { readonly kind: DecompositionKind; readonly nodes: readonly Node[]; readonly geometry: LayerGeometry; readonly ranks: readonly number[] };

/** Why a node cannot be decomposed at all, or undefined if it can (by some method). */
export function notDecomposable(node: Node, inputShape: Shape): string | undefined {
  if (node.op === OpKind.Dense) return inputShape.length === 1 ? undefined : `dense on a rank-${inputShape.length} input`;
  if (node.op === OpKind.DepthwiseConv2d) return 'depthwise conv: left alone (already one filter per channel)';
  if (node.op !== OpKind.Conv2d) return `${node.op} has no weights to decompose`;
  if (node.attrs.groups !== 1) return `grouped conv (groups = ${node.attrs.groups}): left alone`;
  return undefined;
}

function geometryOf(node: NodeOf<OpKind.Conv2d> | NodeOf<OpKind.Dense>, x: Shape, y: Shape): LayerGeometry {
  if (node.op === OpKind.Dense) {
    return { layer: node.origin, op: OpKind.Dense, kh: 1, kw: 1, S: x[0], T: y[0], H: 1, W: 1, Ho: 1, Wo: 1, useBias: node.attrs.useBias };
  }
  const [kh, kw] = node.attrs.kernel;
  return { layer: node.origin, op: OpKind.Conv2d, kh, kw, S: x[2], T: y[2], H: x[0], W: x[1], Ho: y[0], Wo: y[1], useBias: node.attrs.useBias };
}

/** The nodes whose origin is `layer`, in graph order. */
export function nodesOfLayer(graph: Graph, layer: string): Node[] {
  return graph.nodes.filter((n) => n.origin === layer);
}

/** Original layer ids in graph order (each node's origin, once). */
export function layerIds(graph: Graph): string[] {
  return [...new Set(graph.nodes.map((n) => n.origin))];
}

/**
 * The current form of an original layer. Throws IrError when the layer does not exist or its nodes
 * match no known form.
 */
export function layerForm(graph: Graph, layer: string, shapes: Map<string, Shape> = inferShapes(graph)): LayerForm {
  const nodes = nodesOfLayer(graph, layer);
  if (nodes.length === 0) {
    throw new IrError(`no layer '${layer}' in graph '${graph.name}' (layers: ${layerIds(graph).join(', ')})`);
  }
  if (nodes.length === 1 && nodes[0].id === layer) {
    const node = nodes[0];
    const why = notDecomposable(node, shapes.get(node.inputs[0])!);
    if (why) throw new IrError(`layer '${layer}' cannot be decomposed: ${why}`, layer);
    const n = node as NodeOf<OpKind.Conv2d> | NodeOf<OpKind.Dense>;
    return { kind: 'original', node: n, geometry: geometryOf(n, shapes.get(n.inputs[0])!, shapes.get(n.id)!) };
  }
  for (const kind of Object.keys(PARTS) as DecompositionKind[]) {
    const ids = PARTS[kind].map((s) => partId(layer, s));
    if (nodes.length !== ids.length || nodes.some((n, i) => n.id !== ids[i])) continue;
    const first = nodes[0];
    const last = nodes.at(-1)!;
    const x = shapes.get(first.inputs[0])!;
    const y = shapes.get(last.id)!;
    const dense = first.op === OpKind.Dense;
    const core = kind === 'tucker2' ? (nodes[1] as NodeOf<OpKind.Conv2d>) : undefined;
    const v = kind === 'cp' ? (nodes[1] as NodeOf<OpKind.DepthwiseConv2d>) : undefined;
    const h = kind === 'cp' ? (nodes[2] as NodeOf<OpKind.DepthwiseConv2d>) : undefined;
    const kh = core ? core.attrs.kernel[0] : v ? v.attrs.kernel[0] : 1;
    const kw = core ? core.attrs.kernel[1] : h ? h.attrs.kernel[1] : 1;
    const useBias = (last as NodeOf<OpKind.Conv2d>).attrs.useBias;
    const geometry: LayerGeometry = dense
      ? { layer, op: OpKind.Dense, kh: 1, kw: 1, S: x[0], T: y[0], H: 1, W: 1, Ho: 1, Wo: 1, useBias }
      : { layer, op: OpKind.Conv2d, kh, kw, S: x[2], T: y[2], H: x[0], W: x[1], Ho: y[0], Wo: y[1], useBias };
    const out = (id: string) => {
      const s = shapes.get(id)!;
      return s[s.length - 1];
    };
    const ranks = kind === 'tucker2' ? [out(nodes[0].id), out(nodes[1].id)] : [out(nodes[0].id)];
    return { kind, nodes, geometry, ranks };
  }
  throw new IrError(`layer '${layer}': its nodes (${nodes.map((n) => n.id).join(', ')}) are not an original layer nor a known decomposition`);
}

/**
 * Replace the nodes of `layer` by `replacement` (in data-flow order, each reading the previous one).
 * Consumers of the layer's last value, and graph outputs, are redirected to the replacement's last node.
 */
export function spliceLayer(graph: Graph, layer: string, replacement: readonly Node[]): Graph {
  const old = nodesOfLayer(graph, layer);
  const oldLast = old.at(-1)!.id;
  const newLast = replacement.at(-1)!.id;
  const first = graph.nodes.indexOf(old[0]);
  const oldIds = new Set(old.map((n) => n.id));
  const rest = graph.nodes.filter((n) => !oldIds.has(n.id));
  const redirect = (v: string) => (v === oldLast ? newLast : v);
  const rewired = rest.map((n) => (n.inputs.includes(oldLast) ? ({ ...n, inputs: n.inputs.map(redirect) } as Node) : n));
  // Nodes of one layer are contiguous in every graph Tandem builds; insert where the first one was.
  const before = rewired.slice(0, first);
  const after = rewired.slice(first);
  return { ...graph, nodes: [...before, ...replacement, ...after], outputs: graph.outputs.map(redirect) };
}
