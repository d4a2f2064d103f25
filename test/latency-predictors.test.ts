// Latency predictors (hw-targets/predictor): RANSAC, the accuracy metrics, the lookup table, the variant
// population, the fit on a dataset whose times follow a known law, the predictor as a Target, bad files, and the
// host measurement end to end through the CLI (real Fashion-MNIST, the real integer executor).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RunStore } from '../codesign/run-store.js';
import { runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { Rng } from '../compiler/util/rng.js';
import { type Dataset, DATASET_FORMAT, type DatasetVariant, readDataset, writeJsonAtomic } from '../hw-targets/predictor/dataset.js';
import { configKey, FEATURE_NAMES, inputZeroFractions, layerFeatures } from '../hw-targets/predictor/features.js';
import { fitPredictors } from '../hw-targets/predictor/fit.js';
import { fitLut, Lut } from '../hw-targets/predictor/lut.js';
import { accuracy } from '../hw-targets/predictor/metrics.js';
import { LatencyPredictor, readPredictor } from '../hw-targets/predictor/predictor.js';
import { ransacLine } from '../hw-targets/predictor/ransac.js';
import { OUTSIDE_ROW, PredictorTarget } from '../hw-targets/predictor/target.js';
import { makeVariant } from '../hw-targets/predictor/variants.js';
import { parseTarget } from '../hw-targets/targets/open.js';
import { tinyQuantized } from './board-helpers.js';
import { runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-latency-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('RANSAC recovers y = 3x + 5 with 30% gross outliers (least squares does not)', () => {
  const rng = new Rng(11);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 200; i++) {
    const xi = rng.uniform(0, 100);
    x.push(xi);
    y.push(i % 10 < 3 ? rng.uniform(500, 2000) : 3 * xi + 5 + rng.uniform(-0.5, 0.5));
  }
  const l = ransacLine(x, y, { seed: 1, threshold: 2 });
  assert.ok(Math.abs(l.slope - 3) < 0.01, `slope ${l.slope}`);
  assert.ok(Math.abs(l.intercept - 5) < 0.5, `intercept ${l.intercept}`);
  assert.equal(l.inliers, 140);
  // the same seed gives the same line
  assert.deepEqual(ransacLine(x, y, { seed: 1, threshold: 2 }), l);
});

test('accuracy: shares within ±10% / ±5%, RMSE, R²', () => {
  const a = accuracy([100, 108, 94, 120], [100, 100, 100, 100.0001]);
  assert.equal(a.within10, 0.75);
  assert.equal(a.within5, 0.25);
  assert.ok(Math.abs(a.rmse - Math.sqrt((0 + 64 + 36 + 400) / 4)) < 1e-3);
  const b = accuracy([1, 2, 3], [1, 2, 3]);
  assert.equal(b.r2, 1);
  assert.equal(b.within5, 1);
});

test('variants: seeded, distinct architectures, both families, factorized layers under their origin', () => {
  const sig = (i: number, seed = 1) => layerFeatures(makeVariant(seed, i).graph).map((l) => configKey(l.op, l.f)).join(';');
  assert.equal(sig(7), sig(7));
  assert.notEqual(sig(7), sig(7, 2));
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) seen.add(sig(i));
  assert.ok(seen.size >= 295, `${seen.size} distinct architectures of 300`);
  assert.equal(makeVariant(1, 0).family, 'vgg');
  assert.equal(makeVariant(1, 1).family, 'resnet');
  // factorized layers keep the original layer as origin
  const tucker = Array.from({ length: 40 }, (_, i) => makeVariant(1, i).graph).flatMap((g) => g.nodes).find((n) => n.id.includes('/tucker.core'));
  assert.ok(tucker && tucker.origin === tucker.id.split('/')[0]);
});

/** A dataset whose layer times follow a known law: t = 2·MACs + 3·(in + out bytes) + 40, total = Σ t + 5·nodes + 20. */
function lawDataset(n: number): Dataset {
  const variants: DatasetVariant[] = [];
  for (let i = 0; i < n; i++) {
    const v = makeVariant(3, i);
    const layers = layerFeatures(v.graph).map((l) => ({ node: l.node, origin: l.origin, op: l.op, f: l.f, t: 2 * l.f[9] + 3 * (l.f[11] + l.f[12]) + 40 }));
    const sum = layers.reduce((a, l) => a + l.t, 0);
    variants.push({ id: v.id, family: v.family, seed: v.seed, knobs: v.knobs, total: sum + 5 * layers.length + 20, layers });
  }
  return {
    format: DATASET_FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    command: 'test',
    seed: 3,
    target: { spec: 'law', id: 'law', name: 'a known law' },
    unit: 'cycles',
    clockHz: 25e6,
    measure: { warmup: 0, repeats: 1, calibImages: 0, input: 'none' },
    featureNames: FEATURE_NAMES,
    skipped: [],
    complete: true,
    variants,
  };
}

test('lookup table: exact on every configuration it was built from; a neighbour scaled by work otherwise', () => {
  const layers = lawDataset(20).variants.flatMap((v) => v.layers);
  const lut = new Lut(fitLut(layers));
  for (const l of layers) assert.equal(lut.predict(l), l.t);
  assert.equal(lut.neighbours, 0);
  const conv = layers.find((l) => l.op === 'conv2d' && l.f[3] > 4)!;
  // twice the output channels: twice the MACs, the neighbour (conv) scaled by the MAC ratio
  const f = [...conv.f];
  f[4] *= 2;
  f[9] *= 2;
  const p = lut.predict({ op: 'conv2d', f });
  assert.equal(lut.neighbours, 1);
  assert.ok(p > conv.t * 1.5 && p < conv.t * 2.5, `${p} vs ${conv.t}`);
  assert.equal(lut.predict({ op: 'concat', f }), 0);
  assert.equal(lut.unseenOps, 1);
});

test('fit on a known law: split by variant, the time outside the layers, the held-out table; the predictor as a Target', async () => {
  const ds = lawDataset(60);
  const file = join(dir, 'law.json');
  writeJsonAtomic(file, ds);
  const p = fitPredictors(readDataset(file), { seed: 2, trees: 8, datasetFile: file, command: 'test' });
  assert.equal(p.split.test.length, 12);
  assert.equal(p.split.train, 48);
  assert.ok(Math.abs(p.outside.slope - 5) < 1e-6 && Math.abs(p.outside.intercept - 20) < 1e-4, JSON.stringify(p.outside));
  const row = (m: string) => p.heldOut.find((r) => r.method === m)!;
  // the law is linear in MACs for the conv/dense layers: FLOP-linear fits them, the forest fits everything
  assert.ok(row('forest').model.within10 >= 0.9, JSON.stringify(row('forest')));
  assert.ok(row('forest').model.r2 > 0.95);
  assert.equal(p.heldOut.length, 4);
  const pfile = join(dir, 'p.json');
  writeJsonAtomic(pfile, p);

  // The Target: per-layer rows, `(outside layers)`, totals = sum of the rows = sum of node predictions + outside.
  const spec = parseTarget(`predictor:${pfile}#lut`);
  assert.deepEqual(spec, { kind: 'predictor', file: pfile, method: 'lut' });
  for (const method of ['lut', 'flop-linear', 'forest'] as const) {
    const t = PredictorTarget.open(pfile, method);
    const d = await t.describe();
    assert.equal(d.kind, 'predictor');
    assert.equal(d.capabilities.perLayerTiming, true);
    const g = makeVariant(3, 59).graph;
    await t.load({ graph: g });
    const r = await t.run({ data: new Float32Array(2 * 784), batch: 2 });
    assert.deepEqual(r.outputs, []);
    const rows = r.report.rows;
    assert.equal(rows.at(-1)!.layer, OUTSIDE_ROW);
    const sumRows = rows.reduce((a, x) => a + x.latency!.samples[0], 0);
    const total = r.report.total!.latency!.samples;
    assert.equal(total.length, 2);
    assert.ok(Math.abs(total[0] - sumRows) <= 1e-9 * sumRows, `${total[0]} vs ${sumRows}`);
    const pred = new LatencyPredictor(readPredictor(pfile));
    const feats = layerFeatures(g);
    const nodes = pred.layers(method, feats).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sumRows - rows.at(-1)!.latency!.samples[0] - nodes) <= 1e-9 * nodes);
    // origins: a factorized layer is one row
    assert.equal(rows.length - 1, new Set(g.nodes.map((n) => n.origin)).size);
    await t.close();
  }
});

test('the predictor Target on an int8 graph: the executor\'s outputs, zero activations as a feature, totals = sum of rows per input', async () => {
  const pfile = join(dir, 'law-p.json');
  writeJsonAtomic(pfile, fitPredictors(lawDataset(30), { seed: 1, trees: 4, datasetFile: 'law', command: 'test' }));
  const { graph, x, n } = tinyQuantized(2, 8);
  const t = PredictorTarget.open(pfile, 'forest');
  await t.load({ graph });
  const r = await t.run({ data: x, batch: n });
  assert.deepEqual(r.outputs, runInt8(graph, x, n).outputs);
  const zeros = inputZeroFractions(graph, x.subarray(0, 64));
  assert.ok([...zeros.values()].some((z) => z > 0), 'relu outputs have codes at the zero point');
  const total = r.report.total!.latency!.samples;
  assert.equal(total.length, n);
  for (let i = 0; i < n; i++) {
    const sum = r.report.rows.reduce((a, row) => a + row.latency!.samples[i], 0);
    assert.ok(Math.abs(total[i] - sum) <= 1e-9 * sum);
  }
});

test('bad files: missing, not JSON, a missing or wrong field: the error names the file and the field', () => {
  const missing = join(dir, 'nope.json');
  assert.throws(() => readDataset(missing), new RegExp(`latency dataset ${missing}: cannot read it \\(ENOENT\\)`));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"format": "tandem-latency-dataset", "vers');
  assert.throws(() => readDataset(bad), new RegExp(`latency dataset ${bad}: not valid JSON`));
  const ds = JSON.parse(JSON.stringify(lawDataset(2))) as { variants: { layers: { t?: number; f: unknown[] }[] }[] };
  delete ds.variants[1].layers[2].t;
  writeFileSync(bad, JSON.stringify(ds));
  assert.throws(() => readDataset(bad), new RegExp(`${bad}: field variants\\[1\\]\\.layers\\[2\\]\\.t: expected a finite number >= 0, got missing`));
  ds.variants[1].layers[2].t = 5;
  ds.variants[0].layers[0].f[9] = 'many';
  writeFileSync(bad, JSON.stringify(ds));
  assert.throws(() => readDataset(bad), /field variants\[0\]\.layers\[0\]\.f\[9\] \(macs\): expected a finite number >= 0, got "many"/);
  writeFileSync(bad, JSON.stringify({ format: 'tandem-latency-predictor', version: 1, unit: 'cycles', featureNames: FEATURE_NAMES, default: 'forest', outside: { slope: 1 } }));
  assert.throws(() => readPredictor(bad), new RegExp(`${bad}: field outside.intercept: expected a finite number, got missing`));
  assert.throws(() => readPredictor(missing), /latency predictor .*nope\.json: cannot read it/);
});

test('CLI: latency fit / profile --target predictor: on bad files exit 1 naming the file and field', async () => {
  const bad = join(dir, 'bad2.json');
  writeFileSync(bad, JSON.stringify({ ...lawDataset(1), unit: 'furlongs' }));
  const a = await runCli(['latency', 'fit', bad]);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /bad2\.json: field unit: expected "cycles" or "s", got "furlongs"/);
  const b = await runCli(['profile', 'fmnist-vgg', '--target', `predictor:${join(dir, 'missing.json')}`, '--no-store']);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /latency predictor .*missing\.json: cannot read it \(ENOENT\)/);
});

test('CLI: latency measure --target host (real executor, real images), resume, then fit and profile through the predictor', async () => {
  const out = join(dir, 'host.json');
  const a = await runCli(['latency', 'measure', '--target', 'host', '--variants', '2', '--seed', '5', '--repeats', '2', '--calib', '4', '-o', out, '--store', join(dir, 'runs.sqlite'), '--json']);
  assert.equal(a.code, 0, a.stderr);
  const store = RunStore.open(join(dir, 'runs.sqlite'));
  assert.deepEqual(
    store.list().map((r) => r.model.name),
    ['vgg-0', 'resnet-1'],
  );
  // on the host each node keeps the minimum of its timed repeats (--stat min), as the stored raw samples show
  const first = readDataset(out).variants[0];
  const raw = store.get(store.list()[0].id)!.report;
  assert.equal(readDataset(out).measure.statistic, 'min');
  for (const l of first.layers) assert.equal(l.t, Math.min(...raw.rows.find((r) => r.layer === l.node)!.latency!.samples), l.node);
  assert.equal(first.total, Math.min(...raw.total!.latency!.samples));
  store.close();
  const wrongStat = await runCli(['latency', 'measure', '--target', 'host', '--variants', '3', '--seed', '5', '--stat', 'median', '-o', out, '--resume']);
  assert.equal(wrongStat.code, 1);
  assert.match(wrongStat.stderr, /--resume: .*host\.json keeps the min of the repeats, not the median \(--stat min\)/);
  const b = await runCli(['latency', 'measure', '--target', 'host', '--variants', '6', '--seed', '5', '--repeats', '2', '--calib', '4', '-o', out, '--resume', '--json']);
  assert.equal(b.code, 0, b.stderr);
  const ds = readDataset(out);
  assert.equal(ds.complete, true);
  assert.equal(ds.unit, 's');
  assert.equal(ds.seed, 5);
  assert.deepEqual(
    ds.variants.map((v) => v.id),
    Array.from({ length: 6 }, (_, i) => `${i % 2 ? 'resnet' : 'vgg'}-${i}`),
  );
  for (const v of ds.variants) {
    const sum = v.layers.reduce((s, l) => s + l.t, 0);
    assert.ok(sum > 0 && v.total > 0);
    // the medians of the parts need not add up to the median of the whole, but not by much
    assert.ok(sum < v.total * 1.5, `${v.id}: layers ${sum} s, total ${v.total} s`);
  }
  const pfile = join(dir, 'host-p.json');
  const f = await runCli(['latency', 'fit', out, '-o', pfile, '--trees', '4']);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /forest +\d+\.\d%/);
  const p = await runCli(['profile', 'fmnist-vgg', '--target', `predictor:${pfile}`, '--calib', '8', '--no-store', '--json']);
  assert.equal(p.code, 0, p.stderr);
  const j = JSON.parse(p.stdout) as { target: { kind: string }; rows: { layer: string }[]; total: { unit: string; summary: { median: number } } };
  assert.equal(j.target.kind, 'predictor');
  assert.equal(j.rows.length, 23); // vgg's 22 layers + (outside layers)
  assert.equal(j.total.unit, 's');
  assert.ok(j.total.summary.median > 0);
  assert.ok(readFileSync(pfile, 'utf8').includes('"format":"tandem-latency-predictor"'));
});
