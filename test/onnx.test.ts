// ONNX import/export: round trips of IR graphs, onnxruntime as the reference for exported and for
// hand-built ONNX files, and the exact errors for broken or unsupported files.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { convertModel, exportModel } from '../compiler/export/index.js';
import { exportOnnxBytes } from '../compiler/export/onnx.js';
import { importModel } from '../compiler/import/index.js';
import { importOnnxBytes } from '../compiler/import/onnx.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { inferShapes } from '../compiler/ir/graph.js';
import { printGraph } from '../compiler/ir/print.js';
import type { Graph } from '../compiler/ir/types.js';
import { runGraph } from '../compiler/train/executor.js';
import { allOpsGraph, concatGraph, maxAbsDiff, nchwToNhwc, nhwcToNchw, randomInput, residualGraph, vggGraph, weightMismatch } from './io-graphs.js';
import { floats, int64s, model, node, randomArray, runOrt, scalarConst } from './onnx-build.js';

let tmp = '';
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-onnx-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const exists = (p: string) =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

const BATCH = 3;

/** Max |runGraph - onnxruntime| over all outputs (NCHW outputs transposed back to NHWC). */
async function ortDiff(graph: Graph, bytes: Uint8Array, x: Float32Array, optimize = false): Promise<number[]> {
  const [h, w, c] = graph.inputs[0].shape;
  const nchw = graph.inputs[0].shape.length === 3;
  const feeds = { [graph.inputs[0].id]: nchw ? { data: nhwcToNchw(x, BATCH, h, w, c), dims: [BATCH, c, h, w] } : { data: x, dims: [BATCH, ...graph.inputs[0].shape] } };
  const ort = await runOrt(bytes, feeds, optimize);
  const ours = await runGraph(graph, x, BATCH);
  const shapes = inferShapes(graph);
  return graph.outputs.map((o, i) => {
    const s = shapes.get(o)!;
    const theirs = s.length === 3 ? nchwToNhwc(ort[o], BATCH, s[0], s[1], s[2]) : ort[o];
    return maxAbsDiff(ours[i], theirs);
  });
}

describe('ONNX round trip IR -> ONNX -> IR', () => {
  for (const make of [allOpsGraph, vggGraph, residualGraph, concatGraph]) {
    it(`${make.name}: same graph, bit-identical weights, same outputs, onnxruntime agrees`, async () => {
      const g = make();
      const bytes = exportOnnxBytes(g);
      const back = importOnnxBytes(bytes, `${g.name}.onnx`);
      assert.equal(printGraph(back), printGraph(g));
      assert.equal(weightMismatch(g, back), undefined);
      assert.deepEqual(
        back.nodes.map((n) => [n.id, n.origin]),
        g.nodes.map((n) => [n.id, n.origin]),
      );
      const x = randomInput(g.inputs[0].shape, BATCH);
      const [a, b] = [await runGraph(g, x, BATCH), await runGraph(back, x, BATCH)];
      const irDiff = Math.max(...a.map((y, i) => maxAbsDiff(y, b[i])));
      assert.ok(irDiff <= 1e-5, `IR diff ${irDiff}`);
      // onnxruntime's default PadFusion folds allops' zero Pad into the next MaxPool (wrong for negative
      // inputs, microsoft/onnxruntime#18136), so that graph runs unoptimized; the others run as users would.
      const ortDiffs = await ortDiff(g, bytes, x, make !== allOpsGraph);
      console.log(`${g.name}: IR re-import max diff ${irDiff}, onnxruntime max diff ${Math.max(...ortDiffs)}`);
      for (const d of ortDiffs) assert.ok(d <= 1e-4, `onnxruntime diff ${d}`);
    });
  }

  it('through files: exportModel/importModel keep origins, quantization notes and meta', async () => {
    const b = new GraphBuilder('quantized');
    const x = b.input('in put', [6, 6, 1]);
    const dw = b.depthwiseConv2d(x, { id: 'dw1', kernel: 3, depthMultiplier: 2, padding: 'same' });
    const c = b.conv2d(dw, { id: 'conv3/tucker.core', origin: 'conv3', filters: 2, kernel: 3, groups: 2 });
    const g0 = b.build([b.softmax(b.dense(b.flatten(c), 3))], { seed: 5 });
    const g: Graph = { ...g0, nodes: g0.nodes.map((n) => (n.id === 'dw1' ? { ...n, quant: { weightBits: 4, weightScales: Float32Array.of(0.5, 0.25) } } : n)) };
    // dw1 has one input channel (group == C_in == 1) and the grouped conv has group == C_in: both
    // read ambiguously as conv vs depthwise without the exporter's hint.
    const file = path.join(tmp, 'q', 'model.onnx');
    await exportModel(g, 'onnx', file);
    const back = await importModel(file);
    assert.equal(printGraph(back), printGraph(g));
    assert.equal(back.inputs[0].id, 'in put');
    assert.deepEqual([...(back.nodes.find((n) => n.id === 'dw1')!.quant!.weightScales ?? [])], [0.5, 0.25]);
    assert.equal(back.meta?.seed, 5);
  });
});

/** Imports hand-built bytes, runs both, returns the max diff per output. */
async function handmade(bytes: Uint8Array, inDims: number[], optimize = true): Promise<{ graph: Graph; diffs: number[] }> {
  const file = path.join(tmp, `hand-${Math.random().toString(36).slice(2)}.onnx`);
  await fs.writeFile(file, bytes);
  const graph = await importModel(file);
  const n = inDims.reduce((a, b) => a * b, 1);
  const nchw = randomArray(BATCH * n, 99);
  const x = inDims.length === 3 ? nchwToNhwc(nchw, BATCH, inDims[1], inDims[2], inDims[0]) : nchw;
  const ort = await runOrt(bytes, { x: { data: nchw, dims: [BATCH, ...inDims] } }, optimize);
  const ours = await runGraph(graph, x, BATCH);
  const shapes = inferShapes(graph);
  const outNames = Object.keys(ort);
  const diffs = graph.outputs.map((o, i) => {
    const s = shapes.get(o)!;
    const theirs = ort[outNames[i]];
    return maxAbsDiff(ours[i], s.length === 3 ? nchwToNhwc(theirs, BATCH, s[0], s[1], s[2]) : theirs);
  });
  return { graph, diffs };
}

describe('hand-built ONNX files (not from Tandem) against onnxruntime', () => {
  it('opset 11, float_data: Conv+Relu+MaxPool+Flatten+Gemm(transB)+Softmax', async () => {
    const bytes = model({
      opset: 11,
      inputs: [['x', ['N', 3, 8, 8]]],
      outputs: [['y', ['N', 5]]],
      initializers: [floats('W', [4, 3, 3, 3], randomArray(108, 1), 'float_data'), floats('B', [4], randomArray(4, 2), 'float_data'), floats('FW', [5, 64], randomArray(320, 3, -0.3, 0.3), 'float_data'), floats('FB', [5], randomArray(5, 4), 'float_data')],
      nodes: [
        node('Conv', 'conv0', ['x', 'W', 'B'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        node('Relu', 'relu0', ['c'], ['r']),
        node('MaxPool', 'pool0', ['r'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] }),
        node('Flatten', 'flat0', ['p'], ['f'], { axis: 1 }),
        node('Gemm', 'fc0', ['f', 'FW', 'FB'], ['g'], { transB: 1 }),
        node('Softmax', 'sm0', ['g'], ['y'], { axis: 1 }),
      ],
    });
    const { graph, diffs } = await handmade(bytes, [3, 8, 8]);
    assert.deepEqual(
      graph.nodes.map((n) => `${n.id}:${n.op}`),
      ['conv0:conv2d', 'relu0:relu', 'pool0:maxPool', 'flat0:flatten', 'fc0:dense', 'sm0:softmax'],
    );
    console.log(`opset 11 CNN: max diff ${Math.max(...diffs)}`);
    for (const d of diffs) assert.ok(d <= 1e-4, `diff ${d}`);
  });

  it('opset 21, raw_data: Conv auto_pad SAME_UPPER (stride 2) and SAME_LOWER', async () => {
    const bytes = model({
      opset: 21,
      inputs: [['x', ['N', 2, 8, 8]]],
      outputs: [['y', ['N', 3, 4, 4]]],
      initializers: [floats('W1', [4, 2, 3, 3], randomArray(72, 5), 'raw'), floats('W2', [3, 4, 2, 2], randomArray(48, 6), 'raw'), floats('B2', [3], randomArray(3, 7), 'raw')],
      nodes: [
        node('Conv', 'up', ['x', 'W1'], ['a'], { auto_pad: 'SAME_UPPER', strides: [2, 2] }),
        node('Conv', 'low', ['a', 'W2', 'B2'], ['b'], { auto_pad: 'SAME_LOWER' }),
        node('Relu', 'r', ['b'], ['y']),
      ],
    });
    const { graph, diffs } = await handmade(bytes, [2, 8, 8]);
    const pads = graph.nodes.filter((n) => n.op === 'conv2d').map((n) => (n.attrs as { pads: readonly number[] }).pads);
    assert.deepEqual(pads, [
      [0, 0, 1, 1],
      [1, 1, 0, 0],
    ]);
    console.log(`opset 21 SAME pads: max diff ${Math.max(...diffs)}`);
    for (const d of diffs) assert.ok(d <= 1e-4, `diff ${d}`);
  });

  it('MatMul + Add fuse into one dense after an NCHW Flatten (rows permuted); MatMul alone has no bias', async () => {
    const bytes = model({
      opset: 13,
      inputs: [['x', ['N', 2, 4, 4]]],
      outputs: [['y', ['N', 3]]],
      initializers: [floats('W', [4, 2, 1, 1], randomArray(8, 8), 'raw'), floats('M1', [64, 6], randomArray(384, 9, -0.3, 0.3), 'raw'), floats('b1', [6], randomArray(6, 10), 'raw'), floats('M2', [6, 3], randomArray(18, 11), 'raw')],
      nodes: [
        node('Conv', 'conv', ['x', 'W'], ['c']),
        node('Flatten', 'flat', ['c'], ['f']),
        node('MatMul', 'mm1', ['f', 'M1'], ['m']),
        node('Add', 'bias1', ['m', 'b1'], ['a']),
        node('Relu', 'relu', ['a'], ['r']),
        node('MatMul', 'mm2', ['r', 'M2'], ['y']),
      ],
    });
    const { graph, diffs } = await handmade(bytes, [2, 4, 4]);
    assert.deepEqual(
      graph.nodes.map((n) => `${n.id}:${n.op}:${n.origin}:${(n.attrs as { useBias?: boolean }).useBias ?? ''}`),
      ['conv:conv2d:conv:false', 'flat:flatten:flat:', 'mm1:dense:mm1:true', 'relu:relu:relu:', 'mm2:dense:mm2:false'],
    );
    console.log(`MatMul+Add: max diff ${Math.max(...diffs)}`);
    for (const d of diffs) assert.ok(d <= 1e-4, `diff ${d}`);
  });

  it('Clip with min/max as initializers, as Constant nodes, and min only', async () => {
    const bytes = model({
      opset: 13,
      inputs: [['x', ['N', 3, 6, 6]]],
      outputs: [['y', ['N', 4, 6, 6]]],
      initializers: [floats('W1', [4, 3, 3, 3], randomArray(108, 12, -2, 2), 'raw'), floats('W2', [4, 4, 1, 1], randomArray(16, 13, -2, 2), 'raw'), floats('lo', [], Float32Array.of(0), 'raw'), floats('hi', [], Float32Array.of(6), 'float_data')],
      nodes: [
        node('Conv', 'c1', ['x', 'W1'], ['a'], { pads: [1, 1, 1, 1] }),
        scalarConst('k0', 'zero', 0),
        scalarConst('k6', 'six', 6),
        node('Clip', 'clip_const', ['a', 'zero', 'six'], ['b']),
        node('Conv', 'c2', ['b', 'W2'], ['c']),
        node('Clip', 'clip_init', ['c', 'lo', 'hi'], ['d']),
        node('Conv', 'c3', ['d', 'W2'], ['e']),
        node('Clip', 'clip_min', ['e', 'lo'], ['y']),
      ],
    });
    const { graph, diffs } = await handmade(bytes, [3, 6, 6]);
    assert.deepEqual(
      graph.nodes.filter((n) => n.id.startsWith('clip')).map((n) => n.op),
      ['relu6', 'relu6', 'relu'],
    );
    console.log(`Clip: max diff ${Math.max(...diffs)}`);
    for (const d of diffs) assert.ok(d <= 1e-4, `diff ${d}`);
  });

  it('depthwise, BatchNorm, LeakyRelu, Pad, AveragePool(count_include_pad), Concat, Add, GAP+Reshape, Dropout, Identity, Transpose+Reshape', async () => {
    const bn = (n: string, seed: number, lo: number, hi: number) => floats(n, [8], randomArray(8, seed, lo, hi), 'raw');
    const bytes = model({
      opset: 13,
      inputs: [['x', ['N', 4, 8, 8]]],
      outputs: [
        ['y1', ['N', 3]],
        ['y2', ['N', 3]],
      ],
      initializers: [
        floats('DW', [8, 1, 3, 3], randomArray(72, 14), 'raw'),
        floats('DB', [8], randomArray(8, 15), 'raw'),
        bn('g', 16, 0.5, 1.5),
        bn('b', 17, -0.5, 0.5),
        bn('m', 18, -0.5, 0.5),
        bn('v', 19, 0.5, 2),
        int64s('pads', [0, 0, 1, 0, 0, 0, 0, 1]),
        floats('pv', [], Float32Array.of(0), 'raw'),
        int64s('shape1', [-1, 16], 'raw'),
        floats('G', [16, 3], randomArray(48, 20), 'raw'),
        floats('GB', [3], randomArray(3, 21), 'raw'),
        floats('ratio', [], Float32Array.of(0.1), 'raw'),
        int64s('shape2', [0, -1]),
        floats('M', [400, 3], randomArray(1200, 22, -0.1, 0.1), 'raw'),
      ],
      nodes: [
        node('Conv', 'dw', ['x', 'DW', 'DB'], ['d'], { group: 4, pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
        node('BatchNormalization', 'bn', ['d', 'g', 'b', 'm', 'v'], ['n'], { epsilon: { f: 1e-5 } }),
        node('LeakyRelu', 'lrelu', ['n'], ['l'], { alpha: { f: 0.2 } }),
        node('Pad', 'pad', ['l', 'pads', 'pv'], ['p'], { mode: 'constant' }),
        node('AveragePool', 'avg', ['p'], ['a'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }),
        node('Sigmoid', 'sig', ['a'], ['s']),
        node('Identity', 'ident', ['s'], ['s2']),
        node('Concat', 'cat', ['a', 's2'], ['c'], { axis: 1 }),
        node('Relu', 'relu', ['c'], ['r']),
        node('Add', 'add', ['c', 'r'], ['sum']),
        node('GlobalAveragePool', 'gap', ['sum'], ['gp']),
        node('Reshape', 'squeeze', ['gp', 'shape1'], ['sq']),
        node('Gemm', 'fc', ['sq', 'G', 'GB'], ['fc_out']),
        node('Dropout', 'drop', ['fc_out', 'ratio'], ['y1']),
        node('Transpose', 'to_nhwc', ['sum'], ['t'], { perm: [0, 2, 3, 1] }),
        node('Reshape', 'flat_nhwc', ['t', 'shape2'], ['fl']),
        node('MatMul', 'mm', ['fl', 'M'], ['y2']),
      ],
    });
    const { graph, diffs } = await handmade(bytes, [4, 8, 8]);
    const text = printGraph(graph);
    assert.match(text, /%dw = depthwiseConv2d\(%x\) \{depthMultiplier=2 .*\}/);
    assert.match(text, /%bn = batchNorm\(%dw\) \{epsilon=0.00001 momentum=0.9\}/);
    assert.match(text, /%drop = dropout\(%fc\) \{rate=0.1\}/);
    assert.match(text, /%avg = avgPool\(%pad\) \{countIncludePad=true kernel=\[3,3\] pads=\[1,1,1,1\] strides=\[2,2\]\}/);
    assert.match(text, /%flat_nhwc = flatten\(%add\)|%flat_nhwc = reshape\(%add\)/);
    assert.doesNotMatch(text, /ident|to_nhwc|squeeze/);
    console.log(`misc ops: max diffs ${diffs.join(', ')}`);
    for (const d of diffs) assert.ok(d <= 1e-4, `diff ${d}`);
  });
});

describe('ONNX shape arithmetic (PyTorch x.view(x.size(0), -1), TF-style Squeeze)', () => {
  it('Shape -> Gather -> Unsqueeze -> Concat -> Reshape folds to a flatten; Squeeze after GlobalAveragePool is dropped', async () => {
    const bytes = model({
      opset: 13,
      inputs: [['x', ['N', 2, 3, 3]]],
      outputs: [
        ['y', ['N', 4]],
        ['z', ['N', 4]],
      ],
      initializers: [
        floats('W', [3, 2, 3, 3], randomArray(54, 30), 'raw'),
        int64s('zero', [0], 'raw', []),
        int64s('axes0', [0]),
        int64s('minus1', [-1]),
        int64s('axes23', [2, 3]),
        floats('FW', [4, 27], randomArray(108, 31), 'raw'),
        floats('GW', [4, 3], randomArray(12, 32), 'raw'),
      ],
      nodes: [
        node('Conv', 'conv', ['x', 'W'], ['c'], { pads: [1, 1, 1, 1] }),
        node('Relu', 'relu', ['c'], ['r']),
        node('Shape', 'shape', ['r'], ['s']),
        node('Gather', 'batch', ['s', 'zero'], ['b'], { axis: 0 }),
        node('Unsqueeze', 'unsq', ['b', 'axes0'], ['bu']),
        node('Concat', 'newshape', ['bu', 'minus1'], ['ns'], { axis: 0 }),
        node('Reshape', 'view', ['r', 'ns'], ['v']),
        node('Gemm', 'fc', ['v', 'FW'], ['y'], { transB: 1 }),
        node('GlobalAveragePool', 'gap', ['r'], ['g']),
        node('Squeeze', 'sq', ['g', 'axes23'], ['gs']),
        node('Gemm', 'fc2', ['gs', 'GW'], ['z'], { transB: 1 }),
      ],
    });
    const { graph, diffs } = await handmade(bytes, [2, 3, 3]);
    assert.deepEqual(
      graph.nodes.map((n) => `${n.id}:${n.op}`),
      ['conv:conv2d', 'relu:relu', 'view:flatten', 'fc:dense', 'gap:globalAvgPool', 'fc2:dense'],
    );
    console.log(`shape arithmetic: max diffs ${diffs.join(', ')}`);
    for (const d of diffs) assert.ok(d <= 1e-4, `diff ${d}`);
  });
});

describe('ONNX models with NHWC inputs (tf2onnx style)', () => {
  it('an input read only by Transpose(0,3,1,2) stays NHWC; Transpose(0,2,3,1) before the output folds', async () => {
    const bytes = model({
      opset: 13,
      inputs: [['x', ['N', 6, 6, 2]]],
      outputs: [['y', ['N', 6, 6, 4]]],
      initializers: [floats('W', [4, 2, 3, 3], randomArray(72, 40), 'raw'), floats('B', [4], randomArray(4, 41), 'raw')],
      nodes: [
        node('Transpose', 'in_t', ['x'], ['xt'], { perm: [0, 3, 1, 2] }),
        node('Conv', 'conv', ['xt', 'W', 'B'], ['c'], { pads: [1, 1, 1, 1] }),
        node('Relu', 'relu', ['c'], ['r']),
        node('Transpose', 'out_t', ['r'], ['y'], { perm: [0, 2, 3, 1] }),
      ],
    });
    const graph = importOnnxBytes(bytes, 'nhwc.onnx');
    assert.deepEqual(graph.inputs[0].shape, [6, 6, 2]);
    assert.deepEqual(
      graph.nodes.map((n) => n.id),
      ['conv', 'relu'],
    );
    const x = randomArray(BATCH * 72, 42);
    const ort = await runOrt(bytes, { x: { data: x, dims: [BATCH, 6, 6, 2] } }, true);
    const [ours] = await runGraph(graph, x, BATCH);
    const d = maxAbsDiff(ours, ort.y);
    console.log(`NHWC-input model: max diff ${d}`);
    assert.ok(d <= 1e-4, `diff ${d}`);
  });
});

describe('ONNX node naming', () => {
  it('ids are sanitized and unique, origins keep the ONNX name, unnamed nodes get <Op>_<index>', () => {
    const bytes = model({
      opset: 13,
      inputs: [['x', ['N', 4]]],
      outputs: [['y', ['N', 4]]],
      initializers: [],
      nodes: [node('Relu', 'act 1', ['x'], ['a']), node('Relu', 'act 1', ['a'], ['b']), { opType: 'Sigmoid', input: ['b'], output: ['c'] }, node('Relu', '/features/features.0/Relu', ['c'], ['y'])],
    });
    const g = importOnnxBytes(bytes, 'names.onnx');
    assert.deepEqual(
      g.nodes.map((n) => [n.id, n.origin]),
      [
        ['act_1', 'act 1'],
        ['act_1_2', 'act 1'],
        ['Sigmoid_2', 'Sigmoid_2'],
        ['/features/features.0/Relu', '/features/features.0/Relu'],
      ],
    );
  });
});

describe('format dispatcher', () => {
  it('opens Tandem folders and refuses what it does not know, naming the path', async () => {
    const g = residualGraph();
    const dir = path.join(tmp, 'tandem-model');
    await exportModel(g, 'tandem', dir);
    assert.equal(printGraph(await importModel(dir)), printGraph(g));
    assert.equal(printGraph(await importModel(path.join(dir, 'graph.json'))), printGraph(g));
    const empty = path.join(tmp, 'empty');
    await fs.mkdir(empty);
    await assert.rejects(importModel(empty), { message: `${empty}: folder holds neither graph.json (Tandem model) nor model.json (tfjs model)` });
    const txt = path.join(tmp, 'notes.txt');
    await fs.writeFile(txt, 'hello');
    await assert.rejects(importModel(txt), { message: `${txt}: unknown model format (Tandem reads .onnx files, tfjs model.json and Tandem model folders)` });
    await assert.rejects(importModel(path.join(tmp, 'nope.onnx')), { message: `${path.join(tmp, 'nope.onnx')}: no such file or folder` });
  });
});

describe('ONNX errors', () => {
  const small = () =>
    model({
      opset: 13,
      inputs: [['x', ['N', 1, 4, 4]]],
      outputs: [['y', ['N', 2, 8, 8]]],
      initializers: [floats('W', [2, 1, 1, 1], Float32Array.of(1, 2), 'raw'), floats('scales', [4], Float32Array.of(1, 1, 2, 2), 'raw')],
      nodes: [node('Conv', 'conv', ['x', 'W'], ['c']), node('Resize', 'Resize_12', ['c', '', 'scales'], ['y'], { mode: 'nearest' })],
    });
  const SUPPORTED =
    'Conv, Gemm, MatMul, BatchNormalization, Relu, Clip, LeakyRelu, Sigmoid, Add, Sum, Concat, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Softmax, Dropout, Identity, Pad, Transpose, Constant, Shape, Gather, Unsqueeze, Squeeze, Cast';

  it('a truncated file names the file; a conversion writes nothing', async () => {
    const full = exportOnnxBytes(vggGraph());
    const file = path.join(tmp, 'half.onnx');
    await fs.writeFile(file, full.subarray(0, Math.floor(full.length / 2)));
    const msg = `${file}: not a valid ONNX model (truncated or corrupt protobuf)`;
    await assert.rejects(importModel(file), { name: 'ModelFormatError', message: msg });
    const out = path.join(tmp, 'half-out');
    await assert.rejects(convertModel(file, 'tfjs', out), { message: msg });
    assert.equal(await exists(out), false);
  });

  it('an unsupported op names the node, the op and the file; a conversion writes nothing', async () => {
    const file = path.join(tmp, 'model.onnx');
    await fs.writeFile(file, small());
    const msg = `${file}: node 'Resize_12' (op Resize) is not supported by Tandem (supported: ${SUPPORTED})`;
    await assert.rejects(importModel(file), { message: msg });
    const out = path.join(tmp, 'resize-out.onnx');
    await assert.rejects(convertModel(file, 'onnx', out), { message: msg });
    assert.equal(await exists(out), false);
  });

  it('an unnamed unsupported node (LSTM) gets a positional name', () => {
    const bytes = model({ opset: 13, inputs: [['x', ['N', 5, 4]]], outputs: [['y', ['N', 5, 4]]], initializers: [], nodes: [{ opType: 'LSTM', input: ['x'], output: ['y'] }] });
    assert.throws(() => importOnnxBytes(bytes, 'lstm.onnx'), { message: `lstm.onnx: node 'LSTM_0' (op LSTM) is not supported by Tandem (supported: ${SUPPORTED})` });
  });

  it('a flattened NCHW tensor used where its order matters is refused', () => {
    const base = { opset: 13, inputs: [['x', ['N', 2, 3, 3]]] as [string, (number | string)[]][], initializers: [int64s('s', [0, 3, 6])] };
    const asOutput = model({ ...base, outputs: [['y', ['N', 18]]], nodes: [node('Flatten', 'flat', ['x'], ['f']), node('Softmax', 'sm', ['f'], ['y'])] });
    assert.throws(() => importOnnxBytes(asOutput, 'f.onnx'), {
      message: `f.onnx: graph output 'y' is a flattened NCHW activation (its element order differs from a Tandem NHWC flatten); Tandem cannot return it in ONNX order`,
    });
    const reshaped = model({ ...base, outputs: [['y', ['N', 3, 6]]], nodes: [node('Flatten', 'flat', ['x'], ['f']), node('Reshape', 'rs', ['f', 's'], ['y'])] });
    assert.throws(() => importOnnxBytes(reshaped, 'r.onnx'), {
      message: `r.onnx: node 'rs' (op Reshape) cannot reshape input 'f' to [N, 3, 6] in Tandem's NHWC layout: it is a flattened NCHW activation (its element order differs from a Tandem NHWC flatten)`,
    });
  });

  it('Clip to a range other than [0, 6] or [0, inf) is refused', () => {
    const bytes = model({
      opset: 13,
      inputs: [['x', ['N', 4]]],
      outputs: [['y', ['N', 4]]],
      initializers: [floats('lo', [], Float32Array.of(-1), 'raw'), floats('hi', [], Float32Array.of(1), 'raw')],
      nodes: [node('Clip', 'clamp', ['x', 'lo', 'hi'], ['y'])],
    });
    assert.throws(() => importOnnxBytes(bytes, 'c.onnx'), { message: `c.onnx: node 'clamp' (op Clip) clips to [-1, 1]; Tandem supports Clip(0, 6) (relu6) and Clip(0) (relu) only` });
  });

  it('an export that cannot be expressed fails with nothing written', async () => {
    const b = new GraphBuilder('rank2bn');
    const x = b.input('x', [4, 6]);
    const g = b.build([b.batchNorm(x, { id: 'bn' })]);
    const out = path.join(tmp, 'bn.onnx');
    await assert.rejects(exportModel(g, 'onnx', out), {
      message: `${out}: cannot export node 'bn' (batchNorm) to ONNX: normalizes the last axis of a rank-2 value, which ONNX BatchNormalization (channel axis 1) cannot express`,
    });
    assert.equal(await exists(out), false);
  });
});
