// Graph <-> (JSON text, binary weights). Round-trips exactly: weights are stored as their raw bytes.
//
// Model directory layout (docs/ir.md): <dir>/graph.json and <dir>/weights.bin.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic } from '../util/atomic.js';
import { verify } from './graph.js';
import { type DType, type Graph, type InputQuant, IrError, type Node, type NodeQuant, OpKind, type Tensor } from './types.js';

export const GRAPH_FORMAT = 'tandem-graph';
export const GRAPH_VERSION = 1;
const ALIGN = 8;

interface WeightRef {
  dtype: DType;
  shape: number[];
  offset: number;
  length: number;
}
interface QuantJson extends Omit<NodeQuant, 'weightScales'> {
  weightScales?: number[];
}
interface NodeJson {
  id: string;
  op: OpKind;
  origin: string;
  inputs: string[];
  attrs: Record<string, unknown>;
  weights: Record<string, WeightRef>;
  quant?: QuantJson;
}
export interface GraphJson {
  format: typeof GRAPH_FORMAT;
  version: number;
  name: string;
  inputs: { id: string; shape: number[]; dtype: DType; quant?: InputQuant }[];
  outputs: string[];
  meta?: Record<string, unknown>;
  nodes: NodeJson[];
  weights: { bytes: number; sha256: string };
}

const CTORS = { float32: Float32Array, int8: Int8Array, int32: Int32Array, uint8: Uint8Array } as const;

/** Keys in sorted order (undefined dropped) so equal graphs serialize to equal bytes. */
function sortedKeys<T extends object>(o: T): T {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ) as T;
}

export function serializeGraph(graph: Graph): { json: string; weights: Uint8Array } {
  verify(graph);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const put = (t: Tensor): WeightRef => {
    const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    chunks.push(bytes);
    const ref = { dtype: t.dtype, shape: [...t.shape], offset, length: t.data.length };
    offset += bytes.byteLength;
    return ref;
  };
  const nodes: NodeJson[] = graph.nodes.map((n) => {
    const weights: Record<string, WeightRef> = {};
    for (const name of Object.keys(n.weights).sort()) weights[name] = put(n.weights[name]);
    const out: NodeJson = { id: n.id, op: n.op, origin: n.origin, inputs: [...n.inputs], attrs: sortedKeys(n.attrs) as Record<string, unknown>, weights };
    if (n.quant) out.quant = sortedKeys({ ...n.quant, weightScales: n.quant.weightScales ? [...n.quant.weightScales] : undefined });
    return out;
  });
  const weights = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    weights.set(c, at);
    at += c.byteLength;
  }
  const doc: GraphJson = {
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    name: graph.name,
    inputs: graph.inputs.map((i) => ({ id: i.id, shape: [...i.shape], dtype: i.dtype, ...(i.quant ? { quant: sortedKeys({ ...i.quant }) } : {}) })),
    outputs: [...graph.outputs],
    ...(graph.meta ? { meta: { ...graph.meta } } : {}),
    nodes,
    weights: { bytes: weights.byteLength, sha256: createHash('sha256').update(weights).digest('hex') },
  };
  return { json: JSON.stringify(doc, null, 1) + '\n', weights };
}

/** `source` names the file in error messages. */
export function deserializeGraph(json: string, weights: Uint8Array, source = 'graph.json'): Graph {
  let doc: GraphJson;
  try {
    doc = JSON.parse(json) as GraphJson;
  } catch (e) {
    throw new IrError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (doc.format !== GRAPH_FORMAT) throw new IrError(`${source}: field 'format' is '${String(doc.format)}', expected '${GRAPH_FORMAT}'`);
  if (doc.version !== GRAPH_VERSION) throw new IrError(`${source}: field 'version' is ${doc.version}, this Tandem reads version ${GRAPH_VERSION}`);
  if (weights.byteLength !== doc.weights.bytes) {
    throw new IrError(`${source}: weights file holds ${weights.byteLength} bytes, graph.json expects ${doc.weights.bytes}`);
  }
  const digest = createHash('sha256').update(weights).digest('hex');
  if (digest !== doc.weights.sha256) throw new IrError(`${source}: weights SHA-256 is ${digest}, graph.json expects ${doc.weights.sha256}`);
  const kinds = new Set<string>(Object.values(OpKind));
  const nodes = doc.nodes.map((n) => {
    if (!kinds.has(n.op)) throw new IrError(`${source}: unknown op '${n.op}'`, n.id);
    const ws: Record<string, Tensor> = {};
    for (const [name, ref] of Object.entries(n.weights)) {
      const Ctor = CTORS[ref.dtype];
      if (!Ctor) throw new IrError(`${source}: weight '${name}' has unknown dtype '${ref.dtype}'`, n.id);
      const end = ref.offset + ref.length * Ctor.BYTES_PER_ELEMENT;
      if (end > weights.byteLength || ref.offset % Ctor.BYTES_PER_ELEMENT !== 0) {
        throw new IrError(`${source}: weight '${name}' lies outside the weights file`, n.id);
      }
      // Copy so the Graph owns its memory (and alignment never depends on the source buffer).
      const data = new Ctor(ref.length);
      new Uint8Array(data.buffer).set(weights.subarray(ref.offset, end));
      ws[name] = { dtype: ref.dtype, shape: ref.shape, data } as Tensor;
    }
    const node = { id: n.id, op: n.op, origin: n.origin, inputs: n.inputs, attrs: n.attrs, weights: ws } as unknown as Node;
    if (!n.quant) return node;
    const { weightScales, ...rest } = n.quant;
    const quant: NodeQuant = weightScales ? { ...rest, weightScales: Float32Array.from(weightScales) } : rest;
    return { ...node, quant };
  });
  const graph: Graph = {
    name: doc.name,
    inputs: doc.inputs,
    outputs: doc.outputs,
    nodes,
    ...(doc.meta ? { meta: doc.meta } : {}),
  };
  verify(graph);
  return graph;
}

export const GRAPH_FILE = 'graph.json';
export const WEIGHTS_FILE = 'weights.bin';

/** Writes <dir>/graph.json and <dir>/weights.bin atomically (all or nothing). */
export async function saveGraph(dir: string, graph: Graph): Promise<void> {
  const { json, weights } = serializeGraph(graph);
  await writeDirAtomic(dir, async (tmp) => {
    await fs.writeFile(path.join(tmp, WEIGHTS_FILE), weights);
    await fs.writeFile(path.join(tmp, GRAPH_FILE), json);
  });
}

export async function loadGraph(dir: string): Promise<Graph> {
  const jsonPath = path.join(dir, GRAPH_FILE);
  const binPath = path.join(dir, WEIGHTS_FILE);
  let json: string;
  let weights: Uint8Array;
  try {
    json = await fs.readFile(jsonPath, 'utf8');
    weights = new Uint8Array(await fs.readFile(binPath));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new IrError(`${err.path ?? dir}: cannot read Tandem model (${err.code ?? err.message})`);
  }
  return deserializeGraph(json, weights, jsonPath);
}
