// tfjs LayersModel import/export: round trips of IR graphs, real tfjs (loadLayersModel) as the
// reference for exported files and for models made with the tfjs layers API and Keras-style JSON,
// and the exact errors for broken or unsupported models.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { convertModel, exportModel } from '../compiler/export/index.js';
import { exportTfjs } from '../compiler/export/tfjs.js';
import { importModel } from '../compiler/import/index.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { printGraph } from '../compiler/ir/print.js';
import type { Graph } from '../compiler/ir/types.js';
import { runGraph } from '../compiler/train/executor.js';
import { allOpsGraph, concatGraph, maxAbsDiff, randomInput, residualGraph, vggGraph, weightMismatch } from './io-graphs.js';

let tmp = '';
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-tfjs-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});
let dirs = 0;
const freshDir = (name: string) => path.join(tmp, `${name}-${dirs++}`);
const exists = (p: string) =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

const BATCH = 2;

/** Loads model.json + shards from disk with real tfjs (an IOHandler reading files, as tfjs-node's would). */
async function loadWithTfjs(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  return tf.loadLayersModel({
    load: () =>
      tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const bufs: Buffer[] = [];
        for (const g of manifest) for (const p of g.paths) bufs.push(await fs.readFile(path.join(dir, p)));
        const all = Buffer.concat(bufs);
        return [manifest.flatMap((g) => g.weights), all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      }),
  });
}

/** Saves a tfjs model the way tfjs-node's file:// handler does: model.json + weights.bin. */
async function saveLikeTfjs(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      await fs.mkdir(dir, { recursive: true });
      const data = tf.io.CompositeArrayBuffer.join(a.weightData!);
      await fs.writeFile(path.join(dir, 'weights.bin'), new Uint8Array(data));
      const json = { modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }] };
      await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

async function predict(model: tf.LayersModel, x: Float32Array, shape: readonly number[]): Promise<Float32Array[]> {
  const input = tf.tensor(x, [BATCH, ...shape]);
  const out = model.predict(input);
  const outs = Array.isArray(out) ? out : [out];
  const data = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([input, ...outs]);
  return data;
}

/** Max |runGraph(graph) - tfjs predict| over the outputs. */
async function tfjsDiff(graph: Graph, model: tf.LayersModel): Promise<number> {
  const x = randomInput(graph.inputs[0].shape, BATCH, 5);
  const ours = await runGraph(graph, x, BATCH);
  const theirs = await predict(model, x, graph.inputs[0].shape);
  return Math.max(...ours.map((y, i) => maxAbsDiff(y, theirs[i])));
}

/** Random weights for every tfjs layer (positive variances), so no statistic is trivially 0 or 1. */
function randomizeTfjs(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    const ws = layer.weights.map((w, i) => {
      const [lo, hi] = w.name.includes('variance') ? [0.5, 2] : w.name.includes('gamma') ? [0.5, 1.5] : [-0.5, 0.5];
      return tf.randomUniform([...w.shape] as number[], lo, hi, 'float32', seed + i);
    });
    if (ws.length) layer.setWeights(ws);
    tf.dispose(ws);
  }
}

describe('tfjs round trip IR -> tfjs files -> IR', () => {
  for (const make of [allOpsGraph, vggGraph, residualGraph, concatGraph]) {
    it(`${make.name}: same graph, bit-identical weights; real tfjs predicts the same`, async () => {
      const g = make();
      const dir = freshDir(g.name);
      await exportModel(g, 'tfjs', dir);
      const back = await importModel(dir);
      assert.equal(printGraph(back), printGraph(g));
      assert.equal(weightMismatch(g, back), undefined);
      const x = randomInput(g.inputs[0].shape, BATCH);
      const [a, b] = [await runGraph(g, x, BATCH), await runGraph(back, x, BATCH)];
      const irDiff = Math.max(...a.map((y, i) => maxAbsDiff(y, b[i])));
      assert.ok(irDiff <= 1e-5, `IR diff ${irDiff}`);
      const model = await loadWithTfjs(dir);
      const d = await tfjsDiff(g, model);
      model.dispose();
      console.log(`${g.name}: IR re-import max diff ${irDiff}, tfjs.loadLayersModel max diff ${d}`);
      assert.ok(d <= 1e-5, `tfjs diff ${d}`);
    });
  }

  it('ids tfjs cannot use as layer names, origins, quantization notes and meta survive', async () => {
    const b = new GraphBuilder('quantized');
    const x = b.input('in put', [6, 6, 1]);
    const dw = b.depthwiseConv2d(x, { id: 'dw1', kernel: 3, depthMultiplier: 2, padding: 'same' });
    const c = b.conv2d(dw, { id: 'conv3/tucker.core', origin: 'conv3', filters: 2, kernel: 3, groups: 2, padding: [0, 1, 1, 0] });
    const g0 = b.build([b.softmax(b.dense(b.flatten(c), 3, { id: '_fc' }))], { seed: 5 });
    const g: Graph = { ...g0, nodes: g0.nodes.map((n) => (n.id === 'dw1' ? { ...n, quant: { weightBits: 4, weightScales: Float32Array.of(0.5, 0.25) } } : n)) };
    const dir = freshDir('odd-ids');
    await exportModel(g, 'tfjs', dir);
    const back = await importModel(dir);
    assert.equal(printGraph(back), printGraph(g));
    assert.equal(weightMismatch(g, back), undefined);
    assert.equal(back.meta?.seed, 5);
    const model = await loadWithTfjs(dir);
    assert.deepEqual(
      model.layers.map((l) => l.name),
      ['in_put', 'dw1', 'conv3_tucker.core_pad', 'conv3_tucker.core', 'flatten1', 'L_fc', 'softmax1'],
    );
    const d = await tfjsDiff(g, model);
    model.dispose();
    assert.ok(d <= 1e-5, `tfjs diff ${d}`);
  });

  it('shards at 4 MB by default (and at any size asked); tfjs reads the shards', async () => {
    const b = new GraphBuilder('wide');
    const x = b.input('x', [1100]);
    const g = b.build([b.dense(x, 1000, { id: 'fc' })]);
    const dir = freshDir('wide');
    await exportTfjs(g, dir);
    const files = (await fs.readdir(dir)).sort();
    assert.deepEqual(files, ['group1-shard1of2.bin', 'group1-shard2of2.bin', 'model.json']);
    assert.equal((await fs.stat(path.join(dir, 'group1-shard1of2.bin'))).size, 4 * 1024 * 1024);
    const model = await loadWithTfjs(dir);
    const d = await tfjsDiff(g, model);
    model.dispose();
    assert.ok(d <= 1e-5, `tfjs diff ${d}`);
    const small = freshDir('small-shards');
    const v = vggGraph();
    await exportTfjs(v, small, { shardBytes: 10_000 });
    assert.ok((await fs.readdir(small)).length > 5);
    const back = await importModel(path.join(small, 'model.json'));
    assert.equal(weightMismatch(v, back), undefined);
  });
});

describe('tfjs models not made by Tandem', () => {
  it('a functional model built with the tfjs layers API covers every supported layer', async () => {
    const input = tf.input({ shape: [10, 10, 3], name: 'img' });
    const L = tf.layers;
    const c1 = L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c1' }).apply(input) as tf.SymbolicTensor;
    const bn = L.batchNormalization({ name: 'bn' }).apply(c1) as tf.SymbolicTensor;
    const r6 = L.reLU({ maxValue: 6, name: 'r6' }).apply(bn) as tf.SymbolicTensor;
    const dw = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu6', name: 'dw' }).apply(r6) as tf.SymbolicTensor;
    const sep = L.separableConv2d({ filters: 12, kernelSize: 3, padding: 'same', activation: 'sigmoid', name: 'sep' }).apply(r6) as tf.SymbolicTensor;
    const sum = L.add({ name: 'sum' }).apply([dw, sep]) as tf.SymbolicTensor;
    const lr = L.leakyReLU({ alpha: 0.2, name: 'lrelu' }).apply(sum) as tf.SymbolicTensor;
    const zp = L.zeroPadding2d({ padding: [[1, 0], [0, 1]], name: 'zp' }).apply(lr) as tf.SymbolicTensor;
    const mp = L.maxPooling2d({ poolSize: 2, name: 'mp' }).apply(zp) as tf.SymbolicTensor;
    const ap = L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'ap' }).apply(mp) as tf.SymbolicTensor;
    const cat = L.concatenate({ axis: -1, name: 'cat' }).apply([mp, ap]) as tf.SymbolicTensor;
    const out1 = L.dense({ units: 8, activation: 'softmax', name: 'd1' }).apply(L.globalAveragePooling2d({ name: 'gap' }).apply(cat)) as tf.SymbolicTensor;
    const rs = L.softmax({ axis: -1, name: 'sm' }).apply(L.reshape({ targetShape: [9, 24], name: 'rs' }).apply(cat)) as tf.SymbolicTensor;
    const d2 = L.dense({ units: 4, name: 'd2' }).apply(L.dropout({ rate: 0.3, name: 'drop' }).apply(L.flatten({ name: 'fl2' }).apply(rs))) as tf.SymbolicTensor;
    const out2 = L.activation({ activation: 'sigmoid', name: 'act' }).apply(d2) as tf.SymbolicTensor;
    const out3 = L.dense({ units: 3, name: 'd3' }).apply(L.flatten({ name: 'fl' }).apply(cat)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [out1, out2, out3], name: 'tfjs_made' });
    randomizeTfjs(model, 100);
    const dir = freshDir('tfjs-made');
    await saveLikeTfjs(model, dir);
    const g = await importModel(dir);
    const ops = g.nodes.map((n) => `${n.id}:${n.op}${n.origin !== n.id ? `<${n.origin}` : ''}`);
    assert.deepEqual(ops.slice(0, 8), ['c1:conv2d', 'c1/relu:relu<c1', 'bn:batchNorm', 'r6:relu6', 'dw:depthwiseConv2d', 'dw/relu6:relu6<dw', 'sep/depthwise:depthwiseConv2d<sep', 'sep/pointwise:conv2d<sep']);
    const d = await tfjsDiff(g, model);
    model.dispose();
    console.log(`tfjs-API functional model: max diff ${d}`);
    assert.ok(d <= 1e-5, `diff ${d}`);
  });

  it('a Sequential model saved by tfjs', async () => {
    const model = tf.sequential({
      name: 'seq',
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 5, activation: 'softmax', name: 'fc' }),
      ],
    });
    randomizeTfjs(model, 200);
    const dir = freshDir('seq');
    await saveLikeTfjs(model, dir);
    const g = await importModel(path.join(dir, 'model.json'));
    assert.equal(g.inputs[0].id, 'conv_input');
    const d = await tfjsDiff(g, model);
    model.dispose();
    console.log(`tfjs Sequential: max diff ${d}`);
    assert.ok(d <= 1e-5, `diff ${d}`);
  });

  /** model.json as tensorflowjs_converter writes it for a Keras 2 (or, with keras3, Keras 3) model. */
  function kerasJson(keras3: boolean): Record<string, unknown> {
    const ref = (name: string, shape: (number | null)[]) => (keras3 ? { args: [{ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [name, 0, 0] } }], kwargs: {} } : [[name, 0, 0, {}]]);
    const layer = (cls: string, name: string, config: Record<string, unknown>, input?: [string, (number | null)[]]) => ({ class_name: cls, config: { name, trainable: true, dtype: 'float32', ...config }, name, inbound_nodes: input ? [ref(...input)] : [] });
    const layers = [
      layer('InputLayer', 'input_1', keras3 ? { batch_shape: [null, 6, 6, 2], sparse: false } : { batch_input_shape: [null, 6, 6, 2], sparse: false, ragged: false }),
      layer('Conv2D', 'conv2d', { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'relu6', use_bias: true }, ['input_1', [null, 6, 6, 2]]),
      layer('ReLU', 're_lu', { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, ['conv2d', [null, 6, 6, 4]]),
      layer('Flatten', 'flatten', { data_format: 'channels_last' }, ['re_lu', [null, 6, 6, 4]]),
      layer('Dense', 'dense', { units: 3, activation: 'softmax', use_bias: true }, ['flatten', [null, 144]]),
    ];
    const names = keras3 ? ['conv2d/0', 'conv2d/1', 'dense/0', 'dense/1'] : ['conv2d/kernel', 'conv2d/bias', 'dense/kernel', 'dense/bias'];
    const shapes = [[3, 3, 2, 4], [4], [144, 3], [3]];
    return {
      format: 'layers-model',
      generatedBy: keras3 ? 'keras v3.3.3' : 'keras v2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: {
        keras_version: keras3 ? '3.3.3' : '2.15.0',
        backend: 'tensorflow',
        model_config: { class_name: 'Functional', config: { name: 'kmodel', trainable: true, layers, input_layers: [['input_1', 0, 0]], output_layers: [['dense', 0, 0]] } },
      },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: names.map((name, i) => ({ name, shape: shapes[i], dtype: 'float32' })) }],
    };
  }

  it('Keras-converter JSON (model_config, Keras 2 and Keras 3 node forms) imports; tfjs agrees', async () => {
    const weights = randomInput([72 + 4 + 432 + 3], 1, 42);
    const dirs2 = [freshDir('keras2'), freshDir('keras3')];
    for (const [i, dir] of dirs2.entries()) {
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(kerasJson(i === 1)));
      await fs.writeFile(path.join(dir, 'group1-shard1of1.bin'), new Uint8Array(weights.buffer));
    }
    const [g2, g3] = [await importModel(dirs2[0]), await importModel(dirs2[1])];
    assert.equal(printGraph(g3), printGraph(g2));
    assert.deepEqual(
      g2.nodes.map((n) => `${n.id}:${n.op}`),
      ['conv2d:conv2d', 'conv2d/relu6:relu6', 're_lu:relu6', 'flatten:flatten', 'dense:dense', 'dense/softmax:softmax'],
    );
    const model = await loadWithTfjs(dirs2[0]);
    const d = await tfjsDiff(g2, model);
    model.dispose();
    console.log(`Keras-converter JSON: max diff ${d}`);
    assert.ok(d <= 1e-5, `diff ${d}`);
  });

  it('uint8-quantized weights dequantize exactly as tfjs does', async () => {
    const g = vggGraph();
    const dir = freshDir('quant');
    await exportTfjs(g, dir);
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
    const raw = await fs.readFile(path.join(dir, 'group1-shard1of1.bin'));
    const floats = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const qbytes: number[] = [];
    let at = 0;
    for (const w of json.weightsManifest[0].weights as { shape: number[]; quantization?: object }[]) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const vals = floats.subarray(at, at + n);
      at += n;
      const min = Math.min(...vals);
      const scale = (Math.max(...vals) - min) / 255 || 1;
      vals.forEach((v) => qbytes.push(Math.round((v - min) / scale)));
      w.quantization = { dtype: 'uint8', scale, min, original_dtype: 'float32' };
    }
    await fs.writeFile(path.join(dir, 'group1-shard1of1.bin'), Uint8Array.from(qbytes));
    await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    const back = await importModel(dir);
    const model = await loadWithTfjs(dir);
    const fc1 = model.getLayer('fc1').getWeights()[0];
    const theirs = (await fc1.data()) as Float32Array;
    const ours = back.nodes.find((n) => n.id === 'fc1')!.weights.kernel.data as Float32Array;
    assert.equal(maxAbsDiff(ours, theirs), 0);
    const d = await tfjsDiff(back, model);
    model.dispose();
    assert.ok(d <= 1e-5, `diff ${d}`);
  });
});

describe('tfjs errors', () => {
  const SUPPORTED =
    'InputLayer, Conv2D, DepthwiseConv2D, SeparableConv2D, Dense, BatchNormalization, Activation, ReLU, LeakyReLU, Add, Concatenate, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape, ZeroPadding2D, Softmax, Dropout';

  async function handWritten(name: string, extra: Record<string, unknown>, conv: Record<string, unknown> = {}): Promise<string> {
    const dir = freshDir(name);
    await fs.mkdir(dir);
    const layers = [
      { class_name: 'InputLayer', config: { batch_input_shape: [null, 5, 5, 1], name: 'in' }, name: 'in', inbound_nodes: [] },
      { class_name: 'Conv2D', config: { name: 'conv', filters: 2, kernel_size: [1, 1], use_bias: false, ...conv }, name: 'conv', inbound_nodes: [[['in', 0, 0, {}]]] },
      { ...extra, inbound_nodes: [[['conv', 0, 0, {}]]] },
    ];
    const json = {
      format: 'layers-model',
      modelTopology: { class_name: 'Model', config: { name: 'm', layers, input_layers: [['in', 0, 0]], output_layers: [[String(extra.name), 0, 0]] } },
      weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'conv/kernel', shape: [1, 1, 1, 2], dtype: 'float32' }] }],
    };
    await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    await fs.writeFile(path.join(dir, 'w.bin'), new Uint8Array(8));
    return dir;
  }

  it('a missing weight shard names model.json, the manifest path and the missing file; nothing is written', async () => {
    const dir = freshDir('noshard');
    await exportTfjs(vggGraph(), dir);
    await fs.rm(path.join(dir, 'group1-shard1of1.bin'));
    const file = path.join(dir, 'model.json');
    const msg = `${file}: weight file 'group1-shard1of1.bin' listed in weightsManifest is missing (${path.join(dir, 'group1-shard1of1.bin')})`;
    await assert.rejects(importModel(dir), { name: 'ModelFormatError', message: msg });
    const out = path.join(tmp, 'noshard.onnx');
    await assert.rejects(convertModel(dir, 'onnx', out), { message: msg });
    assert.equal(await exists(out), false);
  });

  it('an unsupported layer names its class, the layer and the file; nothing is written', async () => {
    const dir = await handWritten('lstm', { class_name: 'Conv3D', config: { name: 'c3', filters: 1, kernel_size: [1, 1, 1] }, name: 'c3' });
    const msg = `${path.join(dir, 'model.json')}: layer 'c3' (Conv3D) is not supported by Tandem (supported: ${SUPPORTED})`;
    await assert.rejects(importModel(dir), { message: msg });
    const out = path.join(tmp, 'c3-out');
    await assert.rejects(convertModel(dir, 'tandem', out), { message: msg });
    assert.equal(await exists(out), false);
  });

  it('channels_first and unsupported activations are refused by name', async () => {
    const cf = await handWritten('cf', { class_name: 'Flatten', config: { name: 'f' }, name: 'f' }, { data_format: 'channels_first' });
    await assert.rejects(importModel(cf), { message: `${path.join(cf, 'model.json')}: layer 'conv' (Conv2D) uses data_format 'channels_first'; Tandem reads channels_last models only` });
    const tanh = await handWritten('tanh', { class_name: 'Activation', config: { name: 'a', activation: 'tanh' }, name: 'a' });
    await assert.rejects(importModel(tanh), { message: `${path.join(tanh, 'model.json')}: layer 'a' (Activation) uses activation 'tanh'; Tandem supports linear, relu, relu6, sigmoid, softmax` });
  });

  it('IR nodes with no Keras equivalent fail the export with nothing written', async () => {
    const b = new GraphBuilder('padded');
    const x = b.input('x', [4, 4, 2]);
    const g = b.build([b.pad(x, [1, 1, 1, 1], 0.5, { id: 'halfpad' })]);
    const out = freshDir('padded');
    await assert.rejects(exportModel(g, 'tfjs', out), { message: `${out}: cannot export node 'halfpad' (pad) to tfjs: pads with value 0.5; Keras has only ZeroPadding2D` });
    assert.equal(await exists(out), false);
    const b2 = new GraphBuilder('oddpool');
    const y = b2.input('x', [5, 5, 2]);
    const g2 = b2.build([b2.maxPool(y, 2, { id: 'mp', padding: [1, 0, 0, 0] })]);
    await assert.rejects(exportModel(g2, 'tfjs', out), {
      message: `${out}: cannot export node 'mp' (maxPool) to tfjs: pads [1, 0, 0, 0] are neither 'valid' nor Keras 'same', and zero padding would change the result`,
    });
    assert.equal(await exists(out), false);
  });
});
