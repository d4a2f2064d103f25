// The compiled model blob (hw-targets/blob, docs/blob-format.md) and the C99 int8 runtime
// (hw-targets/firmware/runtime) built for the host as rt_host: every output code of rt_host must equal
// the integer executor's (compiler/passes/quantize/int8-executor.ts) bit for bit, on real
// Fashion-MNIST images for fmnist-vgg and fmnist-resnet, and layer by layer on a small graph with the
// ops the reference models lack. Bad blobs must be refused with the right message.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { type Graph, OpKind } from '../compiler/ir/types.js';
import { resolveModel } from '../compiler/models/registry.js';
import { quantizeInput, runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { Rng } from '../compiler/util/rng.js';
import { crc32 } from '../hw-targets/serial/crc32.js';
import { H, HEADER_BYTES, L, OP_CODES } from '../hw-targets/blob/format.js';
import { readBlobInfo, writeBlob } from '../hw-targets/blob/write.js';
import { fashionImages } from './helpers.js';
import { quantizedVgg } from './sim-helpers.js';

// dist*/test/ -> the repository root, where the C sources are
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FW = path.join(ROOT, 'hw-targets', 'firmware');
let dir: string;
let rtHost: string;

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 1 << 26 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-rt-'));
  rtHost = path.join(dir, 'rt_host');
  // the flags of hw-targets/firmware/host/Makefile: any warning fails the build
  const r = await run('gcc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O2', '-I', path.join(FW, 'runtime'), '-o', rtHost, path.join(FW, 'host', 'rt_host.c'), path.join(FW, 'host', 'rt_file.c'), path.join(FW, 'runtime', 'tandem_rt.c')]);
  assert.equal(r.code, 0, `gcc failed:\n${r.stderr}`);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** rt_host on n inputs of int8 codes: exit code, messages, output codes. */
async function rtRun(blob: Uint8Array, inputs: Int8Array, n: number) {
  const k = runs++;
  const [b, i, o] = ['blob', 'in', 'out'].map((s) => path.join(dir, `${s}${k}.bin`));
  fs.writeFileSync(b, blob);
  fs.writeFileSync(i, inputs);
  const r = await run(rtHost, [b, i, String(n), o]);
  const bytes = r.code === 0 ? fs.readFileSync(o) : Buffer.alloc(0);
  const out = Int8Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  return { ...r, out };
}

/** The value the blob outputs: the last node, or the input of a final softmax. */
function outputValue(g: Graph): string {
  const last = g.nodes[g.nodes.length - 1];
  return last.op === OpKind.Softmax ? last.inputs[0] : last.id;
}

const argmax = (a: ArrayLike<number>, o: number, n: number): number => {
  let best = 0;
  for (let c = 1; c < n; c++) if (a[o + c] > a[o + best]) best = c;
  return best;
};

/** Codes of the executor (in chunks: runInt8 keeps every value of the batch) and of rt_host. */
async function bothCodes(g: Graph, x: Float32Array, n: number, chunk = 50) {
  const per = g.inputs[0].shape.reduce((a, b) => a * b, 1);
  const out = outputValue(g);
  const parts: Int32Array[] = [];
  for (let s = 0; s < n; s += chunk) {
    const b = Math.min(chunk, n - s);
    parts.push(runInt8(g, x.subarray(s * per, (s + b) * per), b, { keep: new Set([out]) }).codes.get(out)!);
  }
  const want = Int32Array.from(parts.flatMap((p) => Array.from(p)));
  const inCodes = Int8Array.from(quantizeInput(x.subarray(0, n * per), valueParams(g).get(g.inputs[0].id)!));
  const blob = writeBlob(g);
  const r = await rtRun(blob, inCodes, n);
  assert.equal(r.code, 0, `rt_host failed: ${r.stderr}`);
  return { want, got: r.out, blob, stdout: r.stdout };
}

function mismatches(want: ArrayLike<number>, got: ArrayLike<number>): number {
  assert.equal(got.length, want.length, 'output code count');
  let bad = 0;
  for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) bad++;
  return bad;
}

async function checkModel(g: Graph, n: number, minAccuracy: number) {
  const { x, y } = await fashionImages('test', n);
  const { want, got, blob, stdout } = await bothCodes(g, x, n);
  const classes = want.length / n;
  assert.equal(classes, 10);
  assert.equal(mismatches(want, got), 0, `codes differing of ${want.length}`);
  let agree = 0;
  let correct = 0;
  const predicted = new Set<number>();
  for (let i = 0; i < n; i++) {
    const a = argmax(want, i * classes, classes);
    if (argmax(got, i * classes, classes) === a) agree++;
    if (a === y[i]) correct++;
    predicted.add(a);
  }
  assert.equal(agree, n, 'top-1 equal');
  // the compared codes are a working classifier, not a constant
  assert.ok(correct / n >= minAccuracy, `accuracy ${correct}/${n}`);
  assert.ok(predicted.size >= 8, `classes predicted: ${predicted.size}`);
  return { blob, stdout, codes: want.length, correct };
}

test('fmnist-vgg: rt_host equals the integer executor on 200 test images (every logit code, top-1); blob info and arena', async (t) => {
  const g = await quantizedVgg();
  const { blob, stdout, codes, correct } = await checkModel(g, 200, 0.85);
  t.diagnostic(`${codes} codes equal, top-1 ${correct}/200 correct in both; blob ${blob.length} bytes; ${stdout.trim()}`);
  assert.equal(codes, 2000);
  const info = readBlobInfo(blob);
  assert.deepEqual(
    info.layers.map((l) => [l.name, l.op]),
    g.nodes.map((n) => [n.id, n.op]),
  );
  assert.equal(info.layers.reduce((a, l) => a + l.macs, 0), 29_275_904 - 0); // batchNorms folded: MACs unchanged
  assert.equal(info.inputSize, 784);
  assert.equal(info.outputSize, 10);
  assert.deepEqual(info.inputShape, [28, 28, 1]);
  // planned arena: at least the largest live pair (conv2's 28x28x32 input and output) and the int32
  // scratch (accumulator, bias, m0, shift for 128 channels); first fit leaves the 784-byte input's slot
  const arena = Number(/arena (\d+) bytes/.exec(stdout)![1]);
  assert.ok(arena >= 2 * 28 * 28 * 32 + 16 * 128 && arena <= 2 * 28 * 28 * 32 + 784 + 16 * 128, `arena ${arena}`);
});

test('fmnist-resnet (residual adds, projections, globalAvgPool): rt_host equals the integer executor on 50 test images', async (t) => {
  const { graph } = await resolveModel('fmnist-resnet');
  const calib = await fashionImages('train', 64);
  const g = quantizeGraph(graph, { x: calib.x, n: 64 }, DEFAULT_QUANTIZE).graph;
  assert.ok(g.nodes.some((n) => n.op === OpKind.Add) && g.nodes.some((n) => n.op === OpKind.GlobalAvgPool));
  const { codes, correct, stdout } = await checkModel(g, 50, 0.8);
  assert.equal(codes, 500);
  t.diagnostic(`${codes} codes equal, top-1 ${correct}/50 correct in both; ${stdout.trim()}`);
});

/** Small graph with the ops the reference models lack; asymmetric same padding (10 rows, stride 2). */
function smallGraph(): Graph {
  const b = new GraphBuilder('rt-ops', 3);
  const x = b.input('image', [10, 11, 3]);
  const c1 = b.conv2d(x, { id: 'c1', filters: 8, kernel: 3, padding: 'same' });
  const mp = b.maxPool(c1, 3, { id: 'mp', strides: 2, padding: 'same' });
  const r6 = b.relu6(mp, { id: 'r6' }); // not fused: after a pool, so the codes above 6 exist
  const ap = b.avgPool(c1, 3, { id: 'ap', strides: 2, padding: 'same', countIncludePad: false });
  const api = b.avgPool(c1, 3, { id: 'api', strides: 2, padding: 'same', countIncludePad: true });
  const dw = b.depthwiseConv2d(r6, { id: 'dw', kernel: 3, padding: 'same', depthMultiplier: 2 });
  const cat = b.concat([ap, dw, api], 2, { id: 'cat' });
  const p = b.pad(cat, [1, 0, 2, 1], 0.5, { id: 'pad' });
  const c2 = b.conv2d(p, { id: 'c2', filters: 6, kernel: 3, strides: 2 });
  const c3 = b.conv2d(p, { id: 'c3', filters: 6, kernel: 2, strides: 2, dilations: 2 });
  const s = b.addValues([c2, c3], { id: 'add' });
  const r = b.relu(s, { id: 'relu' });
  const gp = b.globalAvgPool(r, { id: 'gap' });
  const d1 = b.dense(b.dropout(b.flatten(r, { id: 'flat' }), 0.1, { id: 'drop' }), 10, { id: 'fc' });
  const d = b.addValues([d1, b.dense(gp, 10, { id: 'fc_gap' })], { id: 'logits' });
  return b.build([b.softmax(d, { id: 'softmax' })]);
}

function smallQuantized(weightBits = 8) {
  const g = smallGraph();
  const rng = new Rng(11);
  const B = 16;
  const x = Float32Array.from({ length: B * 10 * 11 * 3 }, () => (rng.next() * 2 - 1) * 8);
  return { g: quantizeGraph(g, { x, n: B }, { ...DEFAULT_QUANTIZE, weightBits }).graph, x, B };
}

/** rt_host on the graph cut after each node (that node's codes are the blob's output) against the executor. */
async function compareEveryLayer(g: Graph, x: Float32Array, B: number) {
  const all = runInt8(g, x, B, { keep: new Set(g.nodes.map((n) => n.id)) });
  const inCodes = Int8Array.from(quantizeInput(x, valueParams(g).get(g.inputs[0].id)!));
  let compared = 0;
  for (let k = 0; k < g.nodes.length; k++) {
    const sub: Graph = { ...g, nodes: g.nodes.slice(0, k + 1), outputs: [g.nodes[k].id] };
    const r = await rtRun(writeBlob(sub), inCodes, B);
    assert.equal(r.code, 0, `${g.nodes[k].id}: ${r.stderr}`);
    const want = all.codes.get(outputValue(sub))!;
    assert.equal(mismatches(want, r.out), 0, `layer ${g.nodes[k].id}: codes differing of ${want.length}`);
    compared += want.length;
  }
  return { all, compared };
}

test('rounding ties: multipliers of exactly 1/2 and 1/4 (conv, add, concat) round half away from zero in both', async () => {
  // scales chosen so that M = s_x·s_w/s_y = 1/2 (conv) and M_i = 1/4, 1/2 (add), 1/2 (concat): odd
  // accumulators are exact ties, which int8-semantics.md rounds away from zero
  const b = new GraphBuilder('ties');
  const xin = b.input('x', [3, 3, 2]);
  const kernel = Float32Array.from([1, -3, 2, 3]); // [1, 1, 2, 2], codes at weight scale 1
  const c = b.add(OpKind.Conv2d, [xin], { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], useBias: true, filters: 2, groups: 1 }, { kernel: { dtype: 'float32', shape: [1, 1, 2, 2], data: kernel }, bias: { dtype: 'float32', shape: [2], data: Float32Array.from([1, -2]) } }, { id: 'c' });
  const a = b.addValues([xin, c], { id: 'a' });
  const cat = b.concat([xin, c], 2, { id: 'cat' });
  const f = b.build([a, cat]);
  const own = (scale: number, zeroPoint: number, w = false) => ({ activationBits: 8, outputScale: scale, outputZeroPoint: zeroPoint, ...(w ? { weightBits: 8, weightScales: Float32Array.from([1, 1]) } : {}) });
  const quant: Record<string, object> = { c: own(2, -5, true), a: own(4, 7), cat: own(2, 1) };
  const g: Graph = { ...f, inputs: [{ ...f.inputs[0], quant: { bits: 8, scale: 1, zeroPoint: 3 } }], nodes: f.nodes.map((n) => ({ ...n, quant: quant[n.id] }) as typeof n) };
  const rng = new Rng(2);
  const B = 32;
  const x = Float32Array.from({ length: B * 18 }, () => Math.floor(rng.next() * 41) - 20);
  const { compared } = await compareEveryLayer(g, x, B);
  assert.equal(compared, B * 18 * 4);
  // ties occurred: conv accumulators that are odd, add sums with x/4 + c/2 on a half
  let convTies = 0;
  let addTies = 0;
  for (let p = 0; p < B * 9; p++) {
    const [x0, x1] = [x[2 * p], x[2 * p + 1]];
    const acc = [1 + x0 * 1 + x1 * 2, -2 + x0 * -3 + x1 * 3];
    for (let o = 0; o < 2; o++) {
      if (Math.abs(acc[o]) % 2 === 1) convTies++;
      const cq = Math.max(-128, Math.min(127, -5 + Math.sign(acc[o]) * Math.round(Math.abs(acc[o]) / 2))) + 5;
      if ((((x[2 * p + o] + 2 * cq) % 4) + 4) % 4 === 2) addTies++;
    }
  }
  assert.ok(convTies > 50 && addTies > 50, `ties: conv ${convTies}, add ${addTies}`);
});

test('small graph: every layer (maxPool/avgPool same padding stride 2, relu6, depthwise x2, concat, pad, dilated conv, adds, globalAvgPool, dense) equals the executor code by code', async (t) => {
  const { g, x, B } = smallQuantized();
  const { all, compared } = await compareEveryLayer(g, x, B);
  t.diagnostic(`${compared} codes equal over ${g.nodes.length} layers x ${B} inputs`);
  assert.ok(compared > 10000, `${compared} codes compared`);
  // the ops did something: relu6 clipped at its code of 6, both avgPools differ at the padded border
  const p = valueParams(g).get('mp')!;
  const six = Math.round(6 / p.scale) + p.zeroPoint;
  assert.ok(all.codes.get('mp')!.some((q) => q > six) && all.codes.get('r6')!.some((q) => q === six), 'relu6 clips');
  assert.notDeepEqual(Array.from(all.codes.get('ap')!), Array.from(all.codes.get('api')!));
});

test('bad blobs: rt_host exits non-zero naming the problem; readBlobInfo says the same', async () => {
  const { g } = smallQuantized();
  const good = writeBlob(g);
  const inCodes = new Int8Array(10 * 11 * 3);
  const ok = await rtRun(good, inCodes, 1);
  assert.equal(ok.code, 0, ok.stderr);
  const withCrc = (b: Uint8Array) => {
    new DataView(b.buffer).setUint32(H.crc, crc32(b.subarray(HEADER_BYTES)), true);
    return b;
  };
  const flipped = good.slice();
  flipped[good.length - 5] ^= 0x10;
  const version = good.slice();
  new DataView(version.buffer).setUint16(H.version, 2, true);
  const unknownOp = good.slice();
  unknownOp[HEADER_BYTES + 3 * 104 + L.op] = 99;
  withCrc(unknownOp);
  const truncated = good.slice(0, good.length - 7);
  const notBlob = new TextEncoder().encode('hello, this is not a blob at all, just some text.');
  const cases: [string, Uint8Array, RegExp, RegExp | undefined][] = [
    ['flipped byte', flipped, /checksum \(CRC-32\) mismatch/, /checksum mismatch/],
    ['wrong version', version, /version not supported/, /version 2: this reader supports version 1/],
    ['unknown op code, correct CRC', unknownOp, /unknown op code/, undefined],
    ['truncated', truncated, /truncated/, /truncated blob/],
    ['not a blob', notBlob, /not a Tandem blob/, /not a Tandem blob/],
  ];
  for (const [what, blob, rtMsg, infoMsg] of cases) {
    const r = await rtRun(blob, inCodes, 1);
    assert.notEqual(r.code, 0, what);
    assert.match(r.stderr, rtMsg, what);
    if (infoMsg) assert.throws(() => readBlobInfo(blob), infoMsg, what);
  }
  // the unknown op passes the checksum: readBlobInfo reads it and names it
  assert.equal(readBlobInfo(unknownOp).layers[3].op, 'unknown');
  // wrong input size
  const r = await rtRun(good, new Int8Array(5), 1);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /expected 1 inputs x 330 codes/);
});

test('writeBlob errors name the node: float graph, 4-bit weights, an op without a code, too many layers', () => {
  assert.throws(() => writeBlob(smallGraph()), /node 'c1': float node .*run tandem quantize first/);
  assert.throws(() => writeBlob(smallQuantized(4).g), /node 'c1': 4-bit weights: blob format version 1 expects weightBits 8/);
  const b = new GraphBuilder('leaky');
  const lr = b.leakyRelu(b.input('x', [4]), 0.1, { id: 'lr' });
  assert.throws(() => writeBlob(b.build([lr])), /node 'lr': leakyRelu has no op code in the blob format/);
  const { g } = smallQuantized();
  assert.throws(() => writeBlob(g, { maxLayers: 5 }), /node 'dw': layer 6 of 19: too many layers, the runtime takes at most 5/);
  assert.ok(!OP_CODES.has(OpKind.BatchNorm));
});

test('the runtime compiles warning-free for Cortex-M4 (arm-none-eabi-gcc -Os) with no RAM of its own', async (t) => {
  const which = await run('sh', ['-c', 'command -v arm-none-eabi-gcc']);
  if (which.code !== 0) {
    t.skip('arm-none-eabi-gcc not installed (apt package gcc-arm-none-eabi)');
    return;
  }
  const obj = path.join(dir, 'tandem_rt_m4.o');
  const cc = await run('arm-none-eabi-gcc', ['-mcpu=cortex-m4', '-mthumb', '-Os', '-ffunction-sections', '-Wall', '-Wextra', '-Werror', '-std=c99', '-c', path.join(FW, 'runtime', 'tandem_rt.c'), '-o', obj]);
  assert.equal(cc.code, 0, cc.stderr);
  const size = await run('arm-none-eabi-size', [obj]);
  const [text, data, bss] = size.stdout.trim().split('\n')[1].trim().split(/\s+/).map(Number);
  assert.ok(text > 1000 && text < 16384, `text ${text}`);
  // all state is in the caller's model struct and arena
  assert.equal(data + bss, 0);
});
