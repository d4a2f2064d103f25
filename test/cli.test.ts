// The tandem CLI end to end: per-layer tables with hand-checked totals, and bad input giving one
// clear line, a non-zero exit and no output file.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { gzipSync, gunzipSync } from 'node:zlib';
import { exportModel } from '../compiler/export/index.js';
import { graphStats } from '../compiler/ir/index.js';
import { fmnistDncnn, fmnistResnet, fmnistVgg } from '../compiler/models/reference.js';
import { runCli as tandem } from './helpers.js';

const DEBIAN = '/usr/share/datasets/fashion-mnist';


test('inspect --json: per-layer params/MACs whose totals equal the hand counts', async () => {
  const hand = {
    'fmnist-vgg': { params: 437_034, macs: 29_275_904 },
    'fmnist-dncnn': { params: 9 * 32 + 32 + 6 * (9 * 32 * 32 + 4 * 32) + 9 * 32 + 1, macs: 28 * 28 * 9 * (32 + 6 * 1024 + 32) },
    'fmnist-resnet': { params: graphStats(fmnistResnet()).totalParams, macs: graphStats(fmnistResnet()).totalMacs },
  };
  for (const [name, want] of Object.entries(hand)) {
    const r = await tandem(['inspect', name, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { layers: { params: number; macs: number }[]; totals: { params: number; macs: number } };
    assert.equal(j.totals.params, want.params, name);
    assert.equal(j.totals.macs, want.macs, name);
    assert.equal(j.layers.reduce((a, l) => a + l.params, 0), want.params);
    assert.equal(j.layers.reduce((a, l) => a + l.macs, 0), want.macs);
  }
  const table = await tandem(['inspect', 'fmnist-vgg']);
  assert.match(table.stdout, /^conv2 +conv2d +\[28x28x32\] +\[28x28x32\] +9,216 +7,225,344 +100,352$/m);
  assert.match(table.stdout, /^total .* 437,034 +29,275,904 /m);
});

async function scratch(name: string): Promise<string> {
  const d = path.join(await mkdtemp(path.join(tmpdir(), 'tandem-cli-')), name);
  await mkdir(d, { recursive: true });
  return d;
}

test('bad model files: one error line, exit 1, nothing written', async () => {
  const dir = await scratch('models');
  // Truncated ONNX.
  await exportModel(fmnistVgg(), 'onnx', path.join(dir, 'vgg.onnx'));
  const full = await readFile(path.join(dir, 'vgg.onnx'));
  const half = path.join(dir, 'half.onnx');
  await writeFile(half, full.subarray(0, full.length >> 1));
  let out = path.join(dir, 'out-tfjs');
  let r = await tandem(['export', half, '--format', 'tfjs', '--out', out]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `tandem: error: ${half}: not a valid ONNX model (truncated or corrupt protobuf)\n`);
  assert.equal(existsSync(out), false);
  // model.json missing its shard.
  const tf = path.join(dir, 'tfjs');
  await exportModel(fmnistDncnn(), 'tfjs', tf);
  await rm(path.join(tf, 'group1-shard1of1.bin'));
  out = path.join(dir, 'dncnn.onnx');
  r = await tandem(['export', path.join(tf, 'model.json'), '--format', 'onnx', '--out', out]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `tandem: error: ${path.join(tf, 'model.json')}: weight file 'group1-shard1of1.bin' listed in weightsManifest is missing (${path.join(tf, 'group1-shard1of1.bin')})\n`,
  );
  assert.equal(existsSync(out), false);
  // ONNX with an unsupported op: patch the exported graph's first Relu into an Erf.
  const patched = Buffer.from(full);
  const at = patched.indexOf(Buffer.from('Relu'));
  assert.ok(at > 0);
  patched.write('Tanh', at);
  const bad = path.join(dir, 'tanh.onnx');
  await writeFile(bad, patched);
  out = path.join(dir, 'tanh-out');
  r = await tandem(['export', bad, '--format', 'tandem', '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^tandem: error: ${bad.replace(/[.]/g, '\\.')}: node '[^']+' \\(op Tanh\\) is not supported by Tandem \\(supported: Conv, Gemm, [^)]*\\)\\n$`));
  assert.equal(existsSync(out), false);
});

test('bad data: corrupt idx and wrong SHA-256 give one error line, exit 1, and write nothing', async () => {
  const model = path.join(await scratch('m'), 'resnet');
  await exportModel(fmnistResnet(), 'tandem', model);
  const files = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
  const data = await scratch('data');
  for (const f of files) await copyFile(path.join(DEBIAN, f), path.join(data, f));
  const cache = await scratch('cache');
  const env = { XDG_CACHE_HOME: cache, TANDEM_DATA: '' };
  // Corrupt idx: a bad magic number in the test labels.
  const labels = path.join(data, 't10k-labels-idx1-ubyte.gz');
  const raw = gunzipSync(await readFile(labels));
  raw[3] = 0x03;
  await writeFile(labels, gzipSync(raw));
  let r = await tandem(['eval', model, '--data', data], env);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `tandem: error: ${labels}: bad magic 0x00000803, expected 0x00000801 (idx1 ubyte)\n`);
  // Wrong SHA-256: a well-formed file with one label changed.
  raw[3] = 0x01;
  raw[8] = (raw[8] + 1) % 10;
  await writeFile(labels, gzipSync(raw));
  r = await tandem(['eval', model, '--data', data], env);
  assert.equal(r.code, 1);
  const actual = createHash('sha256').update(raw).digest('hex');
  assert.equal(
    r.stderr,
    `tandem: error: ${labels}: SHA-256 of the IDX data is ${actual}, expected 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34 (official Fashion-MNIST t10k-labels-idx1-ubyte)\n`,
  );
  assert.deepEqual((await readdir(data)).sort(), [...files].sort());
  assert.deepEqual(await readdir(cache), []);
});
