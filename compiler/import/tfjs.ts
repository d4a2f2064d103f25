// tfjs LayersModel (model.json + weight shards) -> Graph IR. Keras is NHWC like the IR, so layers
// map one to one, except fused activations (split off as their own node) and SeparableConv2D
// (depthwise + 1x1 conv). Every node keeps the Keras layer name as its origin.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type Graph, IrError, type Shape } from '../ir/types.js';
import { HINTS_KEY, ModelFormatError, quantFromJson, type TandemHints } from './common.js';
import { TfjsCtx } from './tfjs/context.js';
import { LAYER_ALIASES, LAYERS } from './tfjs/layers.js';
import { type Json, type LayerSpec, readTopology } from './tfjs/topology.js';
import { readWeights } from './tfjs/weights.js';

export const MODEL_JSON = 'model.json';

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function inputShape(c: TfjsCtx, l: LayerSpec): Shape {
  const s = l.config.batch_input_shape ?? l.config.batch_shape;
  if (!Array.isArray(s) || s.slice(1).some((d) => typeof d !== 'number' || d < 1)) {
    throw c.error(l, `has input shape ${JSON.stringify(s)}; Tandem needs every non-batch dimension known`);
  }
  const dtype = l.config.dtype ?? 'float32';
  if (dtype !== 'float32') throw c.error(l, `has dtype '${String(dtype)}'; Tandem imports float32 inputs`);
  return s.slice(1) as number[];
}

/** `p` is a model.json file or a folder holding one. */
export async function importTfjs(p: string): Promise<Graph> {
  const file = (await isDir(p)) ? path.join(p, MODEL_JSON) : p;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new ModelFormatError(`${file}: cannot read tfjs model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (e) {
    throw new ModelFormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (json.format === 'graph-model') throw new ModelFormatError(`${file}: is a tfjs graph model; Tandem reads tfjs layers models (format 'layers-model')`);
  const topo = readTopology(json.modelTopology, file);
  const weights = await readWeights(json.weightsManifest, file);
  const meta = (json.userDefinedMetadata ?? {}) as Record<string, unknown>;
  const hints = meta[HINTS_KEY] as TandemHints | undefined;
  const c = new TfjsCtx(file, hints?.graphName ?? topo.name, hints?.nodes ?? {}, weights);

  for (const l of topo.layers) {
    if (l.className === 'InputLayer') {
      const id = c.idFor(l.name);
      c.builder.input(id, inputShape(c, l));
      c.setOutput(l, id);
      continue;
    }
    const convert = LAYERS[LAYER_ALIASES[l.className] ?? l.className];
    if (!convert || !Object.hasOwn(LAYERS, LAYER_ALIASES[l.className] ?? l.className)) {
      throw new ModelFormatError(`${file}: layer '${l.name}' (${l.className}) is not supported by Tandem (supported: InputLayer, ${Object.keys(LAYERS).join(', ')})`);
    }
    if (l.inputs.length === 0) throw c.error(l, `has no inputs`);
    convert(c, l);
  }

  const outputs = topo.outputs.map((name) => {
    const v = c.output(name);
    if (typeof v !== 'string') throw new ModelFormatError(`${file}: output layer '${name}' ${v ? 'is a padding marked for folding' : 'does not exist'}`);
    return v;
  });
  const graphMeta = { ...(hints?.meta ?? {}), importedFrom: { format: 'tfjs', file, keras: String((json.modelTopology as Json | undefined)?.keras_version ?? '') } };
  try {
    const graph = c.builder.build(outputs, graphMeta);
    const quant = new Map(Object.entries(hints?.nodes ?? {}).flatMap(([k, h]) => (h.quant ? [[h.id ?? k, quantFromJson(h.quant)] as const] : [])));
    return quant.size === 0 ? graph : { ...graph, nodes: graph.nodes.map((n) => (quant.has(n.id) ? { ...n, quant: quant.get(n.id) } : n)) };
  } catch (e) {
    if (e instanceof IrError) throw new ModelFormatError(`${file}: the imported graph is inconsistent: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Netron-style format entry for the dispatcher. */
export const tfjsFormat = {
  name: 'tfjs' as const,
  /** model.json, or any JSON whose start mentions modelTopology. */
  match(file: string, head: Uint8Array): boolean {
    if (path.basename(file) === MODEL_JSON) return true;
    const text = new TextDecoder().decode(head);
    return text.trimStart().startsWith('{') && text.includes('"modelTopology"');
  },
  open: importTfjs,
};
