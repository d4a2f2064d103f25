// `tandem compress` end to end on the committed fmnist-vgg: the network target is met by the IR's own
// count, the written ONNX runs in onnxruntime with the same outputs, the report adds up; bad requests
// give one clear line, exit 1 and no output folder.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { graphStats } from '../compiler/ir/graph.js';
import { loadGraph } from '../compiler/ir/serialize.js';
import type { CompressionReport } from '../compiler/passes/compress/report.js';
import { runGraph } from '../compiler/train/executor.js';
import { Rng } from '../compiler/util/rng.js';
import { runCli as tandem } from './helpers.js';



test('compress fmnist-vgg --method tucker2 --ranks ratio:3x: 3x fewer MACs by the IR count, ONNX agrees, report adds up', async () => {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'tandem-compress-')), 'vgg-t2');
  const r = await tandem(['compress', 'fmnist-vgg', '--method', 'tucker2', '--ranks', 'ratio:3x', '--eval-limit', '500', '--json', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as CompressionReport;
  const g = await loadGraph(out);
  const st = graphStats(g);
  console.log(`# vgg tucker2 ratio:3x: MACs ${report.before.macs} -> ${st.totalMacs} (${report.macsReduction.toFixed(3)}x), accuracy on 500 test images without fine-tuning ${(100 * (report.after.quality as { accuracy: number }).accuracy).toFixed(1)}%`);
  assert.equal(st.totalMacs, report.after.macs);
  assert.ok(report.macsReduction >= 3 && report.macsReduction < 3.03, `${report.macsReduction}`);
  // Per-layer rows add up to the network change.
  const saved = report.layers.reduce((a, l) => a + l.macsBefore - l.macsAfter, 0);
  assert.equal(report.before.macs - report.after.macs, saved);
  assert.deepEqual(new Set(report.layers.map((l) => l.kind)), new Set(['tucker2', 'svd']));
  assert.ok(report.skipped.some((s) => s.layer === 'conv1'));
  assert.match(report.command, /^tandem compress fmnist-vgg --method tucker2 --ranks ratio:3x .*--seed 1 -o /);
  const plan = JSON.parse(await readFile(path.join(out, 'plan.json'), 'utf8')) as { layers: Record<string, { decomposition: { kind: string } }> };
  assert.equal(plan.layers.conv6.decomposition.kind, 'tucker2');
  // The ONNX file computes what the IR computes.
  const n = 4;
  const x = new Float32Array(n * 784);
  const rng = new Rng(3);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const [want] = await runGraph(g, x, n);
  const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'));
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [n, 1, 28, 28]) };
  const got = (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
  const diff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
  console.log(`# onnxruntime vs engine on the compressed model: max |diff| ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-4, `${diff}`);
});

test('compress: bad requests are one line, exit 1, nothing written', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tandem-compress-bad-'));
  const cases: [string[], string][] = [
    [['--method', 'tucker2', '--ranks', 'conv2=40x8', '--layers', 'conv2'], "tandem: error: layer 'conv2': tucker2 R3 (input side) 40 is larger than the input channels (32)"],
    [['--method', 'cp', '--ranks', 'conv2=0'], "tandem: error: layer 'conv2': rank 0 is not a positive integer (ranks must be >= 1)"],
    [['--method', 'cp', '--ranks', 'evbmf', '--layers', 'conv9'], "tandem: error: no layer 'conv9' in graph 'fmnist-vgg' (layers: conv1, bn1, relu1, conv2, bn2, relu2, pool1, conv3, bn3, relu3, conv4, bn4, relu4, pool2, conv5, bn5, relu5, conv6, bn6, relu6, pool3, flatten, drop1, fc1, bn_fc1, relu_fc1, drop2, fc2, softmax)"],
    [['--method', 'cp', '--ranks', 'fc1=8', '--layers', 'fc1'], "tandem: error: layer 'fc1' is a dense layer; --method cp needs a conv2d with a kernel larger than 1×1"],
    [['--method', 'tucker2', '--ranks', 'ratio:500x'], 'tandem: error: macs reduction 500x is unreachable with tucker2: every candidate layer at rank 1 still leaves 354708 of 29275904 macs (82.54x)'],
  ];
  for (const [k, [args, msg]] of cases.entries()) {
    const out = path.join(dir, `out${k}`);
    const r = await tandem(['compress', 'fmnist-vgg', ...args, '-o', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim(), msg);
    assert.equal(existsSync(out), false);
  }
});
