// `tandem prune` and `tandem quantize` end to end on the committed fmnist-vgg (small runs: no training),
// and their bad requests: one clear line, exit 1, no output folder.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { graphStats } from '../compiler/ir/graph.js';
import { loadGraph } from '../compiler/ir/serialize.js';
import type { PruneReport } from '../compiler/passes/prune/report.js';
import type { QuantizeReport } from '../cli/commands/quantize.js';
import { runCli as tandem } from './helpers.js';



test('prune fmnist-vgg --criterion l1 --target params=0.5: the written model has the reported counts, latency measured', async () => {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'tandem-prune-')), 'vgg-l1');
  const r = await tandem(['prune', 'fmnist-vgg', '--criterion', 'l1', '--target', 'params=0.5', '--eval-limit', '200', '--latency-runs', '5', '--json', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as PruneReport;
  const st = graphStats(await loadGraph(out));
  assert.equal(st.totalParams, report.after.params);
  assert.equal(st.totalMacs, report.after.macs);
  assert.ok(report.after.params <= 0.5 * report.before.params);
  assert.ok(report.latency && report.latency.beforeMs > 0 && report.latency.afterMs > 0);
  assert.match(report.command, /^tandem prune fmnist-vgg --criterion l1 --target params=0.5 --steps 1 .*--seed 1 -o /);
  console.log(`# l1 params=0.5 one-shot, no fine-tuning: MACs ${report.macsReduction.toFixed(2)}x fewer, host latency ${report.latency!.speedup.toFixed(2)}x faster`);
});

test('quantize fmnist-vgg --mode ptq: int8 executor agrees with the fake-quant model, 16x fewer BOPs', async () => {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'tandem-quantize-')), 'vgg-int8');
  const r = await tandem(['quantize', 'fmnist-vgg', '--mode', 'ptq', '--calib', '64', '--eval-limit', '100', '--json', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as QuantizeReport;
  assert.equal(report.int8!.images, 100);
  assert.equal(report.int8!.argmaxMismatches, 0);
  assert.ok(report.int8!.layerwiseMaxLsb <= 1);
  assert.equal(report.bopsReduction, 16);
  const q = await loadGraph(out);
  assert.ok(q.inputs[0].quant && q.nodes.every((n) => n.op !== 'batchNorm'));
  assert.equal(existsSync(path.join(out, 'model.onnx')), false);
});

test('quantize --mode qat on a CIM-aware QAT output continues it: its activation and ADC ranges, not a new calibration', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tandem-qat-continue-'));
  const common = ['--mode', 'qat', '--accel', 'rram-128', '--epochs', '1', '--train-limit', '32', '--lr', '0.0003', '--check', '0', '--eval-limit', '20', '--workers', '0', '--json'];
  const first = await tandem(['quantize', 'fmnist-vgg', ...common, '--calib', '16', '-o', path.join(dir, 'a')]);
  assert.equal(first.code, 0, first.stderr);
  // a new calibration on 64 images would give other ranges than the 16 the first run calibrated on
  const next = await tandem(['quantize', path.join(dir, 'a'), ...common, '--calib', '64', '-o', path.join(dir, 'b')]);
  assert.equal(next.code, 0, next.stderr);
  const [a, b] = [JSON.parse(first.stdout), JSON.parse(next.stdout)] as QuantizeReport[];
  assert.equal(b.config.continues, path.join(dir, 'a'));
  assert.deepEqual(Object.keys(b.accelerator!.adcFullScale), Object.keys(a.accelerator!.adcFullScale));
  for (const [layer, fs] of Object.entries(a.accelerator!.adcFullScale)) fs.forEach((v, i) => assert.ok(Math.abs(b.accelerator!.adcFullScale[layer][i] - v) <= 1e-9 * v, `${layer} digit ${i}`));
  // one step of EMA (momentum 0.99) moves a range by at most 1% of the gap to the batch's: far less than a recalibration
  const before = new Map(a.layers.map((r) => [r.value, r.range]));
  for (const r of b.layers) {
    const [lo, hi] = before.get(r.value)!;
    assert.ok(Math.abs(r.range[1] - hi) <= 0.02 * (hi - lo) + 1e-6, `${r.value}: [${r.range}] vs [${lo}, ${hi}]`);
  }
  const other = await tandem(['quantize', path.join(dir, 'a'), ...common, '--set', 'adc.bits=6', '-o', path.join(dir, 'c')]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /schedule\.json: compiled for another accelerator than --accel rram-128 with the --set overrides; continuing CIM-aware QAT needs the same one/);
  const ptq = await tandem(['quantize', path.join(dir, 'a'), '--mode', 'ptq', '-o', path.join(dir, 'd')]);
  assert.equal(ptq.code, 1);
  assert.match(ptq.stderr, /already quantized; PTQ takes a float model/);
  assert.equal(existsSync(path.join(dir, 'c')) || existsSync(path.join(dir, 'd')), false);
});

test('bad requests: one line naming what is wrong, exit 1, nothing written', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tandem-bad-'));
  const cases: [string[], string][] = [
    [['prune', 'fmnist-vgg', '--criterion', 'l1', '--target', 'params=0'], '--target params=0: the remaining fraction must be in (0, 1] (0 would remove every channel)'],
    [['prune', 'fmnist-vgg', '--criterion', 'l1', '--target', 'params=0.0001'], 'prune target params=0.0001 cannot be met: even with 1 channel left in every prunable group'],
    [['prune', 'fmnist-vgg', '--criterion', 'l1'], 'prune: criterion l1 needs a --target or --keep (only vmask can prune by its learned dropout rates)'],
    [['prune', 'fmnist-vgg', '--criterion', 'l1', '--keep', 'conv1=0'], '--keep conv1=0: the kept share must be in (0, 1]'],
    [['prune', 'fmnist-vgg', '--criterion', 'l1', '--keep', 'fc2=0.5'], 'prune --keep fc2: its output channels cannot be pruned'],
    [['quantize', 'fmnist-vgg', '--mode', 'ptq', '--layer-bits', 'conv1=1'], '--layer-bits conv1=1: expected an integer in 2..16'],
    [['quantize', 'fmnist-vgg', '--mode', 'ptq', '--layer-bits', 'convX=4'], "no conv2d/dense/depthwise layer 'convX' to give 4-bit weights"],
    [['prune', 'fmnist-vgg', '--criterion', 'vmask', '--target', 'params=0.5'], 'prune: vmask needs mask training first (--sparsity E, E > 0)'],
    [['quantize', 'fmnist-vgg', '--mode', 'ptq', '--weight-bits', '1'], '--weight-bits: weight bits 1: expected an integer in 2..16'],
    [['quantize', 'fmnist-vgg', '--mode', 'ptq', '--activation-bits', '17'], '--activation-bits: activation bits 17: expected an integer in 2..16'],
    [['quantize', 'fmnist-vgg', '--mode', 'ptq', '--calib', '0'], '--calib 0: the calibration set needs at least 1 image'],
    [['quantize', 'fmnist-vgg', '--mode', 'ptq', '--distill', '0.5'], '--distill and --teacher are for training: they need --mode qat'],
    [['quantize', 'fmnist-vgg', '--mode', 'qat', '--distill', '2'], '--distill 2: expected a weight alpha in (0, 1]'],
  ];
  for (const [i, [args, msg]] of cases.entries()) {
    const out = path.join(dir, `o${i}`);
    const r = await tandem([...args, '--eval-limit', '10', '-o', out]);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.ok(r.stderr.includes(msg), `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(existsSync(out), false);
  }
});
