// Per-node timing samples -> one Report row per original layer (node origin: a decomposed or pruned layer is
// still reported under the layer the user knows). Nodes of one origin are summed iteration by iteration, so a
// row's samples are still one per timed inference.
import type { LatencySamples, LayerReport } from '../../compiler/contracts/report.js';
import type { Graph } from '../../compiler/ir/types.js';
import { statsByOrigin } from '../../compiler/ir/graph.js';

export interface NodeTiming {
  /** IR node id (the blob layer's name). */
  readonly node: string;
  /** One per timed inference. */
  readonly samples: readonly number[];
}

export function layerRows(graph: Graph, executor: string, timings: readonly NodeTiming[], unit: LatencySamples['unit'], clockHz?: number): LayerReport[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const stats = statsByOrigin(graph);
  const rows = new Map<string, { nodes: string[]; samples?: number[] }>();
  for (const n of graph.nodes) {
    let r = rows.get(n.origin);
    if (!r) rows.set(n.origin, (r = { nodes: [] }));
    r.nodes.push(n.id);
  }
  for (const t of timings) {
    const n = byId.get(t.node);
    if (!n) throw new Error(`timing for node '${t.node}', which graph '${graph.name}' does not have`);
    const r = rows.get(n.origin)!;
    if (!r.samples) r.samples = [...t.samples];
    else {
      if (r.samples.length !== t.samples.length) throw new Error(`layer '${n.origin}': node '${t.node}' has ${t.samples.length} samples, its other nodes ${r.samples.length}`);
      t.samples.forEach((v, i) => (r.samples![i] += v));
    }
  }
  return [...rows].map(([layer, r]) => ({
    layer,
    executor,
    nodes: r.nodes,
    macs: stats.get(layer)?.macs,
    params: stats.get(layer)?.params,
    ...(r.samples ? { latency: { unit, samples: r.samples, ...(clockHz ? { clockHz } : {}) } } : {}),
  }));
}
