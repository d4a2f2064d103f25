// ONNX -> Graph IR. NCHW ONNX graphs become NHWC IR graphs: weights are permuted, and each ONNX
// tensor carries a layout tag (onnx/context.ts) so that flattens, reshapes and transposes either
// map exactly or fail with a message naming the file and node.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { verify } from '../ir/graph.js';
import { type Graph, IrError, type Shape } from '../ir/types.js';
import { HINTS_KEY, ModelFormatError, quantFromJson, type TandemHints } from './common.js';
import { Ctx, describeLayout, type OnnxNode } from './onnx/context.js';
import { HANDLERS } from './onnx/ops.js';
import { Attrs, DataType, decodeModel, int, type ModelProto, readTensor } from './onnx/read.js';

export const ONNX_MIN_OPSET = 7;
export const ONNX_MAX_OPSET = 21;

function readHints(model: ModelProto, file: string): TandemHints | undefined {
  const entry = model.metadataProps.find((p) => p.key === HINTS_KEY);
  if (!entry?.value) return undefined;
  try {
    return JSON.parse(entry.value) as TandemHints;
  } catch {
    throw new ModelFormatError(`${file}: metadata entry '${HINTS_KEY}' is not valid JSON`);
  }
}

function opsetOf(model: ModelProto, file: string): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const v = entry ? int(entry.version) : 1;
  if (v < ONNX_MIN_OPSET || v > ONNX_MAX_OPSET) {
    throw new ModelFormatError(`${file}: ONNX opset ${v} is not supported (Tandem reads opsets ${ONNX_MIN_OPSET} to ${ONNX_MAX_OPSET})`);
  }
  return v;
}

/** Converts a decoded-from-bytes ONNX model; `file` names the source in errors. */
export function importOnnxBytes(bytes: Uint8Array, file: string): Graph {
  const model = decodeModel(bytes, file);
  const g = model.graph!;
  const opset = opsetOf(model, file);
  const hints = readHints(model, file);
  const nodes: OnnxNode[] = (g.node ?? []).map((p, i) => ({
    proto: p,
    name: p.name || `${p.opType}_${i}`,
    opType: p.domain && p.domain !== 'ai.onnx' ? `${p.domain}.${p.opType}` : (p.opType ?? ''),
    inputs: p.input ?? [],
    outputs: p.output ?? [],
    attrs: new Attrs(p),
  }));
  const consumers = new Map<string, { node: OnnxNode; index: number }[]>();
  nodes.forEach((node, index) => node.inputs.forEach((t) => t && consumers.set(t, [...(consumers.get(t) ?? []), { node, index }])));
  const outputs = (g.output ?? []).map((o) => o.name ?? '');
  const name = hints?.graphName ?? (g.name || path.basename(file).replace(/\.onnx$/i, ''));
  const c = new Ctx(file, opset, name, hints?.nodes ?? {}, consumers, new Set(outputs));

  for (const t of g.initializer ?? []) c.consts.set(t.name ?? '', readTensor(t, file));
  for (const inp of g.input ?? []) {
    const iname = inp.name ?? '';
    if (c.consts.has(iname)) continue; // old exporters list initializers as inputs too
    const tt = inp.type?.tensorType;
    if (!tt || tt.elemType !== DataType.FLOAT) throw new ModelFormatError(`${file}: graph input '${iname}' is not a float tensor`);
    const dims = (tt.shape?.dim ?? []).map((d) => (d.dimValue != null && int(d.dimValue) > 0 ? int(d.dimValue) : undefined));
    const per = dims.slice(1);
    if (dims.length < 2 || dims.length > 4 || per.some((d) => d === undefined)) {
      const shown = dims.map((d, i) => d ?? (i === 0 ? 'N' : '?')).join(', ');
      throw new ModelFormatError(`${file}: graph input '${iname}' has shape [${shown}]; Tandem needs [N, C, H, W] or [N, features] with every non-batch dim known`);
    }
    const known = per as number[];
    const id = c.claimId(c.hints[iname]?.id, iname, 'input');
    // A 4-D input read only by Transpose(0,3,1,2) is NHWC already (tf2onnx-style models).
    const users = consumers.get(iname) ?? [];
    const nhwc = known.length === 3 && users.length > 0 && users.every((u) => u.node.opType === 'Transpose' && u.node.attrs.ints('perm')?.join() === '0,3,1,2');
    const shape: Shape = known.length === 3 && !nhwc ? [known[1], known[2], known[0]] : known;
    c.builder.input(id, shape);
    c.bind(iname, { id, layout: { kind: known.length === 3 && !nhwc ? 'nchw' : 'exact' } });
  }

  nodes.forEach((n, i) => {
    if (c.fused.has(i)) return;
    const handler = Object.hasOwn(HANDLERS, n.opType) ? HANDLERS[n.opType] : undefined;
    if (!handler) {
      throw new ModelFormatError(`${file}: node '${n.name}' (op ${n.opType}) is not supported by Tandem (supported: ${Object.keys(HANDLERS).join(', ')})`);
    }
    handler(c, n);
  });

  const outIds = outputs.map((o) => {
    const v = c.values.get(o);
    if (!v) throw new ModelFormatError(`${file}: graph output '${o}' is ${c.consts.has(o) ? 'a constant' : 'not produced by any node'}`);
    if (v.layout.kind === 'flatChw') throw new ModelFormatError(`${file}: graph output '${o}' is ${describeLayout(v.layout)}; Tandem cannot return it in ONNX order`);
    return v.id;
  });
  const meta = { ...(hints?.meta ?? {}), importedFrom: { format: 'onnx', file, producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') } };
  try {
    let graph = c.builder.build(outIds, meta);
    const quants = Object.entries(c.hints).filter(([, h]) => h.quant);
    if (quants.length > 0) {
      const byId = new Map(quants.map(([k, h]) => [h.id ?? k, quantFromJson(h.quant!)]));
      graph = { ...graph, nodes: graph.nodes.map((n) => (byId.has(n.id) ? { ...n, quant: byId.get(n.id) } : n)) };
      verify(graph);
    }
    return graph;
  } catch (e) {
    if (e instanceof IrError) throw new ModelFormatError(`${file}: the imported graph is inconsistent: ${e.message}`, { cause: e });
    throw e;
  }
}

export async function importOnnx(file: string): Promise<Graph> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (e) {
    throw new ModelFormatError(`${file}: cannot read ONNX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return importOnnxBytes(bytes, file);
}

/** Netron-style format entry for the dispatcher. */
export const onnxFormat = {
  name: 'onnx' as const,
  /** An .onnx file, or protobuf starting with field 1 (ir_version, varint) as ONNX files do. */
  match(file: string, head: Uint8Array): boolean {
    return /\.onnx$/i.test(file) || (head.length > 2 && head[0] === 0x08 && head[1] > 0 && head[1] < 0x20);
  },
  open: importOnnx,
};
