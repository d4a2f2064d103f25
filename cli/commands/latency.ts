// `tandem latency measure|fit`: build a latency dataset of network variants on a target, and fit latency
// predictors on it (hw-targets/predictor, docs/latency-predictors.md).
import { existsSync } from 'node:fs';
import { graphHash, RunStore, storePath } from '../../codesign/run-store.js';
import type { Target, TargetDescription } from '../../compiler/contracts/target.js';
import { DataError } from '../../compiler/data/errors.js';
import { type Dataset, type DatasetVariant, DATASET_FORMAT, readDataset, writeJsonAtomic } from '../../hw-targets/predictor/dataset.js';
import { FEATURE_NAMES } from '../../hw-targets/predictor/features.js';
import { fitPredictors } from '../../hw-targets/predictor/fit.js';
import { measureVariants, type Statistic } from '../../hw-targets/predictor/measure.js';
import type { PredictorFile } from '../../hw-targets/predictor/predictor.js';
import { openTarget, parseTarget } from '../../hw-targets/targets/open.js';
import { SerialTarget } from '../../hw-targets/targets/serial.js';
import { cliProgress, interruptSignal } from '../progress.js';
import { table } from '../table.js';
import { trainImages } from './accel.js';
import { type DataOptions, fashionMnistSplits } from './data.js';

export interface MeasureFlags extends DataOptions {
  readonly target: string;
  readonly variants?: number;
  readonly seed?: number;
  readonly out: string;
  readonly warmup?: number;
  readonly repeats?: number;
  readonly stat?: Statistic;
  readonly calib?: number;
  readonly maxBlob?: number;
  readonly resume?: boolean;
  /** Also record every variant's run in this run store (opt-in: 300 runs would crowd `tandem runs`). */
  readonly store?: string;
  readonly json?: boolean;
}

/** Rewrite the output every this many variants, so an interrupted run keeps its progress (--resume). */
const SAVE_EVERY = 10;

export async function latencyMeasureCommand(f: MeasureFlags): Promise<void> {
  const spec = parseTarget(f.target);
  if (spec.kind === 'predictor') throw new DataError('--target predictor:...: a predictor only echoes its predictions; measure qemu, host or serial:<port>');
  const count = f.variants ?? 300;
  const seed = f.seed ?? 1;
  if (count < 1) throw new DataError('--variants must be at least 1');
  const board = spec.kind !== 'host';
  const warmup = f.warmup ?? 1;
  // QEMU ticks under -icount are deterministic: 3 repeats only guard against a stray timer interrupt
  const repeats = f.repeats ?? (board ? 3 : 15);
  const statistic: Statistic = f.stat ?? (board ? 'median' : 'min');
  const maxBlobBytes = board ? (f.maxBlob ?? 160_000) : undefined;
  const calibImages = f.calib ?? 16;
  let previous: Dataset | undefined;
  if (f.resume && existsSync(f.out)) {
    previous = readDataset(f.out);
    if (previous.seed !== seed || previous.target.spec !== f.target)
      throw new DataError(`--resume: ${f.out} holds seed ${previous.seed} on --target ${previous.target.spec}, not seed ${seed} on ${f.target}`);
    const was = previous.measure.statistic ?? 'median';
    if (was !== statistic) throw new DataError(`--resume: ${f.out} keeps the ${was} of the repeats, not the ${statistic} (--stat ${was})`);
  }
  const progress = cliProgress({ quiet: !!f.json });
  const signal = interruptSignal();
  const data = await fashionMnistSplits('classification', { ...f, splitSeed: 0, valFraction: 1 / 12, signal, onProgress: progress.update });
  const calib = trainImages(data, calibImages);
  const per = data.test.inputShape.reduce((a, b) => a * b, 1);
  const input = new Float32Array(per);
  data.test.fill([0], input, new Float32Array(data.test.targetSize));
  // The store before the target: a corrupt or too new store fails before any measuring.
  const store = f.store ? RunStore.open(storePath(f.store)) : undefined;
  const t0 = Date.now();
  const target: Target = await openTarget(spec, { nice: board ? 19 : undefined, signal });
  const variants: DatasetVariant[] = [...(previous?.variants ?? [])];
  const skipped = [...(previous?.skipped ?? [])];
  const make = (d: TargetDescription, complete: boolean): Dataset => ({
    format: DATASET_FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    command: `tandem ${process.argv.slice(2).join(' ')}`,
    seed,
    target: { spec: f.target, id: d.id, name: d.name, ...(d.runtime ? { runtime: d.runtime } : {}) },
    unit: board ? 'cycles' : 's',
    ...(board && d.clockHz ? { clockHz: d.clockHz } : {}),
    measure: { warmup, repeats, calibImages: calib.n, input: 'Fashion-MNIST test image 0', statistic, ...(maxBlobBytes !== undefined ? { maxBlobBytes } : {}) },
    featureNames: FEATURE_NAMES,
    skipped,
    complete,
    variants,
  });
  let desc: TargetDescription | undefined;
  let dataset: Dataset | undefined;
  try {
    const d = (desc = await target.describe());
    if (maxBlobBytes !== undefined && d.capabilities.maxModelBytes !== undefined && maxBlobBytes > d.capabilities.maxModelBytes)
      throw new DataError(`--max-blob ${maxBlobBytes} exceeds the board's model slot of ${d.capabilities.maxModelBytes} bytes`);
    let sinceSave = 0;
    await measureVariants(target, {
      seed,
      count,
      calib,
      input,
      warmup,
      repeats,
      statistic,
      maxBlobBytes,
      blob: target instanceof SerialTarget,
      done: new Set(variants.map((v) => v.id)),
      signal,
      onProgress: progress.update,
      onRun: (v, ran, report) =>
        store?.save({
          command: 'latency measure',
          argv: process.argv.slice(2),
          model: { name: v.id, hash: graphHash(v.graph), runHash: graphHash(ran) },
          targetSpec: f.target,
          target: d,
          options: { warmup, repeats, images: 1, seed, calib: calib.n },
          notes: [`latency dataset ${f.out}, population seed ${seed}, variant ${v.id}`],
          report,
        }),
      onVariant: (v, skip) => {
        if (v) variants.push(v);
        if (skip) skipped.push(skip);
        if (++sinceSave >= SAVE_EVERY) {
          writeJsonAtomic(f.out, make(d, false));
          sinceSave = 0;
        }
      },
    });
    dataset = make(d, true);
    writeJsonAtomic(f.out, dataset);
  } catch (e) {
    // Keep what was measured (Ctrl-C, a board lost): `--resume` continues from it.
    if (desc && variants.length > (previous?.variants.length ?? 0)) {
      writeJsonAtomic(f.out, make(desc, false));
      process.stderr.write(`kept ${variants.length} measured variants in ${f.out} (--resume continues)\n`);
    }
    throw e;
  } finally {
    progress.stop();
    await target.close();
    store?.close();
  }
  const s = (Date.now() - t0) / 1000;
  const layers = variants.reduce((a, v) => a + v.layers.length, 0);
  if (f.json) process.stdout.write(JSON.stringify({ out: f.out, variants: variants.length, layers, skipped: skipped.length, seconds: s }) + '\n');
  else
    process.stdout.write(
      `${variants.length} variants (${layers} layers) measured on ${dataset.target.name} in ${(s / 60).toFixed(1)} min, seed ${seed}; ` +
        `${skipped.length} skipped (their ids and reasons are in the dataset's \`skipped\`); written to ${f.out}\n`,
    );
}


export interface FitFlags {
  readonly out?: string;
  readonly seed?: number;
  readonly test?: number;
  readonly trees?: number;
  readonly json?: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const g4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : 'n/a');

/** The held-out table: per method, model level and layer level. */
export function heldOutTable(p: PredictorFile): string {
  const rows = p.heldOut.map((r) => [
    r.method,
    pct(r.model.within10),
    pct(r.model.within5),
    g4(r.model.rmse),
    r.model.r2.toFixed(4),
    r.layer ? pct(r.layer.within10) : '-',
    r.layer ? pct(r.layer.within5) : '-',
    r.layer ? g4(r.layer.rmse) : '-',
    r.layer ? r.layer.r2.toFixed(4) : '-',
  ]);
  return table(['method', 'model ±10%', '±5%', `RMSE (${p.unit})`, 'R²', 'layer ±10%', '±5%', `RMSE (${p.unit})`, 'R²'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

export function latencyFitCommand(file: string, f: FitFlags): void {
  const ds = readDataset(file);
  const seed = f.seed ?? 1;
  const t0 = performance.now();
  const p = fitPredictors(ds, { seed, testFraction: f.test, trees: f.trees, datasetFile: file, command: `tandem ${process.argv.slice(2).join(' ')}` });
  const s = (performance.now() - t0) / 1000;
  if (f.out) writeJsonAtomic(f.out, p);
  if (f.json) {
    process.stdout.write(JSON.stringify({ dataset: file, target: ds.target, unit: ds.unit, split: { ...p.split, test: p.split.test.length }, heldOut: p.heldOut, seconds: s, ...(f.out ? { out: f.out } : {}) }) + '\n');
    return;
  }
  const layers = (ids: Set<string>) => ds.variants.filter((v) => ids.has(v.id)).reduce((a, v) => a + v.layers.length, 0);
  const test = new Set(p.split.test);
  process.stdout.write(
    [
      `${file}: ${ds.variants.length} variants on ${ds.target.name} (${ds.unit}), population seed ${ds.seed}`,
      `split seed ${seed}: ${p.split.train} variants for training, ${test.size} held out (${layers(test)} layers); fitted in ${s.toFixed(1)} s`,
      heldOutTable(p),
      ...(p.lutCoverage ? [`lut: ${p.lutCoverage.unseenConfigs} of ${p.lutCoverage.testLayers} held-out layers have a configuration never seen in training (nearest neighbour, scaled by MACs)`] : []),
      `model: predicted total = sum of per-layer predictions + time outside the layers (${g4(p.outside.slope)}·nodes + ${g4(p.outside.intercept)}); flop-linear-model: total = a·MACs + b (RANSAC), the whole-model baseline`,
      ...(f.out ? [`written to ${f.out} (default method ${p.default}; \`--target predictor:${f.out}\`, or predictor:${f.out}#lut)`] : []),
    ].join('\n') + '\n',
  );
}
