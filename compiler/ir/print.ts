// Canonical text form of a Graph: one line per node, attrs sorted, shapes inferred.
// Two graphs print the same text iff they have the same structure, attrs and weight shapes.
import { inferShapes } from './graph.js';
import type { DType, Graph, Shape } from './types.js';

const DT: Record<DType, string> = { float32: 'f32', int8: 'i8', int32: 'i32', uint8: 'u8' };
const shape = (s: Shape) => `[${s.join(',')}]`;

function value(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(value).join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export function printGraph(graph: Graph): string {
  const shapes = inferShapes(graph);
  const lines = [`graph ${JSON.stringify(graph.name)} {`];
  for (const i of graph.inputs) lines.push(`  input %${i.id}: ${DT[i.dtype]}${shape(i.shape)}${i.quant ? ` quant{bits=${i.quant.bits} scale=${i.quant.scale} zeroPoint=${i.quant.zeroPoint}}` : ''}`);
  for (const n of graph.nodes) {
    const attrs = Object.keys(n.attrs)
      .sort()
      .map((k) => `${k}=${value((n.attrs as Record<string, unknown>)[k])}`);
    const weights = Object.keys(n.weights)
      .sort()
      .map((k) => `${k}: ${DT[n.weights[k].dtype]}${shape(n.weights[k].shape)}`);
    let line = `  %${n.id} = ${n.op}(${n.inputs.map((v) => `%${v}`).join(', ')})`;
    if (attrs.length) line += ` {${attrs.join(' ')}}`;
    if (weights.length) line += ` weights{${weights.join(', ')}}`;
    if (n.quant) {
      const q = Object.entries(n.quant)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => (k === 'weightScales' ? `weightScales=f32[${(v as Float32Array).length}]` : `${k}=${v}`))
        .sort();
      line += ` quant{${q.join(' ')}}`;
    }
    line += ` -> f32${shape(shapes.get(n.id)!)}`;
    if (n.origin !== n.id) line += ` origin=${n.origin}`;
    lines.push(line);
  }
  lines.push(`  return ${graph.outputs.map((o) => `%${o}`).join(', ')}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
