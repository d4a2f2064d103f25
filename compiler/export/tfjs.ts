// Graph IR -> tfjs LayersModel files (model.json + weight shards) that tf.loadLayersModel reads.
// The IR is NHWC like Keras, so this is mostly one layer per node; what Keras cannot say (origins,
// grouped convs, explicit pads split into ZeroPadding2D) is kept in userDefinedMetadata.tandem.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { verify } from '../ir/graph.js';
import { type Graph } from '../ir/types.js';
import { writeDirAtomic } from '../util/atomic.js';
import { HINTS_KEY, ModelFormatError, quantToJson, type TandemHints } from '../import/common.js';
import { KerasWriter, nodeToLayers } from './tfjs/layers.js';

export const SHARD_BYTES = 4 * 1024 * 1024;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface TfjsFiles {
  /** The model.json document. */
  readonly modelJson: Record<string, unknown>;
  /** Shard files, in manifest order. */
  readonly shards: readonly { readonly path: string; readonly bytes: Uint8Array }[];
}

function bytesOf(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const dv = new DataView(new ArrayBuffer(data.byteLength));
  data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return new Uint8Array(dv.buffer);
}

/** Builds model.json and the shards in memory; `target` names the destination in errors. */
export function exportTfjsFiles(graph: Graph, target = graph.name, opts: { shardBytes?: number } = {}): TfjsFiles {
  const shapes = verify(graph);
  const w = new KerasWriter(target);
  for (const i of graph.inputs) {
    if (i.dtype !== 'float32') throw new ModelFormatError(`${target}: graph input '${i.id}' is ${i.dtype}; tfjs export supports float32 inputs`);
    const name = w.name(i.id);
    w.layer('InputLayer', name, [], { batch_input_shape: [null, ...i.shape], sparse: false });
    w.layerOf.set(i.id, name);
    if (name !== i.id) w.hint(name, { id: i.id });
  }
  for (const n of graph.nodes) {
    for (const [k, t] of Object.entries(n.weights)) if (t.dtype !== 'float32') throw w.fail(n, `weight '${k}' is ${t.dtype}; tfjs export writes float32 weights`);
    const layer = nodeToLayers(w, n, shapes.get(n.inputs[0])!);
    w.layerOf.set(n.id, layer);
    if (layer !== n.id) w.hint(layer, { id: n.id });
    if (n.origin !== n.id) w.hint(layer, { origin: n.origin });
    if (n.quant) w.hint(layer, { quant: quantToJson(n.quant) });
  }

  const shardBytes = opts.shardBytes ?? SHARD_BYTES;
  const total = w.weights.reduce((a, x) => a + x.data.byteLength, 0);
  const all = new Uint8Array(total);
  w.weights.reduce((at, x) => (all.set(bytesOf(x.data), at), at + x.data.byteLength), 0);
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const shards = Array.from({ length: count }, (_, k) => ({ path: `group1-shard${k + 1}of${count}.bin`, bytes: all.subarray(k * shardBytes, Math.min(total, (k + 1) * shardBytes)) }));

  const hints: TandemHints = { version: 1, nodes: w.hints, ...(graph.meta ? { meta: { ...graph.meta } } : {}) };
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'Tandem 0.1.0',
    convertedBy: null,
    modelTopology: {
      class_name: 'Functional',
      config: {
        name: graph.name,
        layers: w.layers,
        input_layers: graph.inputs.map((i) => [w.layerOf.get(i.id)!, 0, 0]),
        output_layers: graph.outputs.map((o) => [w.layerOf.get(o)!, 0, 0]),
      },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: shards.map((s) => s.path), weights: w.weights.map((x) => ({ name: x.name, shape: [...x.shape], dtype: 'float32' })) }],
    userDefinedMetadata: { [HINTS_KEY]: hints },
  };
  return { modelJson, shards };
}

/** Writes `outDir`/model.json and its shards atomically: on any error nothing is left behind. */
export async function exportTfjs(graph: Graph, outDir: string, opts: { shardBytes?: number } = {}): Promise<void> {
  const files = exportTfjsFiles(graph, outDir, opts);
  await writeDirAtomic(outDir, async (tmp) => {
    for (const s of files.shards) await fs.writeFile(path.join(tmp, s.path), s.bytes);
    await fs.writeFile(path.join(tmp, 'model.json'), JSON.stringify(files.modelJson) + '\n');
  });
}
