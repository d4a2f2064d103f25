// Bit operations: per conv/dense, MACs × weight bits × input-activation bits (32 × 32 for float),
// the measure SEEDS §4 reports (int8 / int8 is 16× fewer than fp32 by definition).
import { graphStats } from '../../ir/graph.js';
import type { Graph } from '../../ir/types.js';
import { WEIGHTED } from './scheme.js';

export interface BopsRow {
  readonly node: string;
  readonly macs: number;
  readonly weightBits: number;
  readonly activationBits: number;
  readonly bops: number;
}

export function bitOps(graph: Graph): { rows: BopsRow[]; total: number } {
  const stats = new Map(graphStats(graph).nodes.map((s) => [s.id, s] as const));
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  // bits of a value: its producer's activation bits, the graph input's, or 32 (float)
  const bitsOf = (v: string): number => {
    const input = graph.inputs.find((i) => i.id === v);
    if (input) return input.quant?.bits ?? 32;
    const n = byId.get(v)!;
    return n.quant?.activationBits ?? (WEIGHTED.has(n.op) || n.op === 'add' || n.op === 'concat' ? 32 : bitsOf(n.inputs[0]));
  };
  const rows: BopsRow[] = [];
  for (const n of graph.nodes) {
    if (!WEIGHTED.has(n.op)) continue;
    const macs = stats.get(n.id)!.macs;
    const weightBits = n.quant?.weightBits ?? 32;
    const activationBits = bitsOf(n.inputs[0]);
    rows.push({ node: n.id, macs, weightBits, activationBits, bops: macs * weightBits * activationBits });
  }
  return { rows, total: rows.reduce((a, r) => a + r.bops, 0) };
}
