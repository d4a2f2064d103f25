// `tandem quantize <model>`: int8 (or 2..16-bit) quantization, post-training or quantization-aware,
// with the integer-only executor checked against the fake-quantized model (docs/int8-semantics.md).
// QAT with --accel trains with the CIM accelerator in the forward pass (sim/qat-model.ts): the ADC ranges
// are calibrated on the calibration images and the model lowered as `tandem compile` does, and the
// output folder also holds that Schedule (schedule.json), so `tandem simulate` runs the ranges it was
// trained for.
import * as path from 'node:path';
import { type Graph, QAT_RANGE_WEIGHT } from '../../compiler/ir/types.js';
import type { Schedule } from '../../compiler/lower/schedule.js';
import { resolveModel } from '../../compiler/models/registry.js';
import { FINETUNE, finetune } from '../../compiler/passes/compress/finetune.js';
import { bitOps, type BopsRow } from '../../compiler/passes/quantize/bops.js';
import { checkInt8, type Int8Check } from '../../compiler/passes/quantize/check-int8.js';
import { type Calibration, type LayerQuantRow, layerBitsResolver, quantizeGraph, type QuantizeConfig } from '../../compiler/passes/quantize/quantize.js';
import { formatLayerValues, parseLayerValues } from '../../compiler/util/layer-values.js';
import { fromRangeState, RANGE_MOMENTUM, withRangeState } from '../../compiler/passes/quantize/qat-ranges.js';
import { snapWeights } from '../../compiler/passes/quantize/snap-weights.js';
import { activationRange, type ActivationScheme, checkBits, OWN_PARAMS } from '../../compiler/passes/quantize/scheme.js';
import { shiftFlip } from '../../compiler/train/dataset.js';
import type { Quality } from '../../compiler/train/evaluate.js';
import { train } from '../../compiler/train/trainer.js';
import { adcCalibrationOf } from '../../sim/calibrate.js';
import { scheduleFor } from '../../sim/schedule-for.js';
import { type CimAcceleratorSpec, cimAccelerator, type CimNoise, EXACT_NOISE } from '../../sim/qat-model.js';
import { loadSpec } from '../../sim/spec/validate.js';
import type { Dataset } from '../../compiler/train/dataset.js';
import type { Distillation } from '../../compiler/train/replica.js';
import type { ProgressFn } from '../../compiler/util/progress.js';
import { num, table } from '../table.js';
import { isQuantized, isScheduleDir, readSchedule } from './accel.js';
import type { DataOptions } from './data.js';
import { qualityText, startModelRun, writeModelDir } from './model-run.js';

export interface QuantizeFlags extends DataOptions {
  mode: 'ptq' | 'qat';
  out: string;
  calib?: number;
  weightBits?: number;
  layerBits?: string;
  activationBits?: number;
  activations?: ActivationScheme;
  calibration?: Calibration;
  percentile?: number;
  epochs?: number;
  lr?: number;
  check?: number;
  seed?: number;
  workers?: number;
  trainLimit?: number;
  evalLimit?: number;
  /** qat: a CIM accelerator (preset or spec file) in the training forward pass, with spec overrides. */
  accel?: string;
  set?: string[];
  /** --accel: the non-idealities sampled in training ('none' or a list of cells, read, adc, ir-drop). */
  cimNoise?: string;
  /** qat: knowledge distillation weight alpha from the float model (or --teacher). */
  distill?: number;
  temperature?: number;
  teacher?: string;
  json?: boolean;
}

const NOISE_PARTS: Record<string, keyof CimNoise> = { cells: 'cells', read: 'read', adc: 'adc', 'ir-drop': 'irDrop' };

export function parseCimNoise(s: string): CimNoise {
  if (s === 'none') return EXACT_NOISE;
  const noise: Record<string, boolean | number> = { ...EXACT_NOISE };
  for (const part of s.split(',').map((p) => p.trim())) {
    const key = NOISE_PARTS[part];
    if (!key) throw new Error(`--cim-noise ${s}: '${part}' is not one of none, ${Object.keys(NOISE_PARTS).join(', ')}`);
    noise[key] = true;
  }
  for (const k of ['irDrop', 'read'] as const) if (noise[k] && !noise.cells) throw new Error(`--cim-noise ${s}: ${k === 'irDrop' ? 'ir-drop' : 'read'} acts on the analog cells; add 'cells'`);
  return noise as unknown as CimNoise;
}

/** The CIM training model for a quantized graph: ADC ranges calibrated (or kept from `trained`) and lowered as `tandem compile` does. */
function cimSetup(q: Graph, f: QuantizeFlags, calib: { x: Float32Array; n: number }, seed: number, run: { progress: ProgressFn; signal: AbortSignal; log: (s: string) => void }, trained?: Schedule): CimAcceleratorSpec {
  const spec = loadSpec(f.accel!, f.set ?? []);
  // continuing QAT: the ADC ranges the model was trained with, not a recalibration (the weights adapted to them)
  const adc = trained && adcCalibrationOf(trained.layers);
  if (adc) run.log(`ADC ranges: the ones it was trained with (schedule.json, ${adc.fullScale.size} layers)`);
  const { schedule } = scheduleFor(q, spec, calib, { adc, onProgress: run.progress, signal: run.signal });
  return cimAccelerator(schedule, parseCimNoise(f.cimNoise ?? 'none'), seed);
}

function acceleratorRecord(a: CimAcceleratorSpec): NonNullable<QuantizeReport['accelerator']> {
  const adc = adcCalibrationOf(a.layers.map((l) => l.mapping));
  return {
    spec: a.spec.name,
    noise: a.noise,
    seed: a.seed,
    adcFullScale: Object.fromEntries(adc.fullScale),
    ...(adc.center ? { adcCenter: Object.fromEntries(adc.center) } : {}),
  };
}

/** The trained graph's Schedule with the ADC ranges it was trained with. */
const trainedSchedule = (g: Graph, a: CimAcceleratorSpec, calib: { x: Float32Array; n: number }): Schedule =>
  scheduleFor(g, a.spec, calib, { adc: adcCalibrationOf(a.layers.map((l) => l.mapping)) }).schedule;

export interface QuantizeReport {
  readonly model: string;
  readonly command: string;
  /** continues: QAT went on from this quantized model's ranges (no new calibration). */
  readonly config: QuantizeConfig & { mode: 'ptq' | 'qat'; calibImages: number; qatEpochs: number; continues?: string };
  /** QAT with a CIM accelerator in the loop: the spec, the noise sampled, its seed, the ADC full scales (and centres) per layer and digit. */
  readonly accelerator?: {
    readonly spec: string;
    readonly noise: CimNoise;
    readonly seed: number;
    readonly adcFullScale: Readonly<Record<string, readonly number[]>>;
    readonly adcCenter?: Readonly<Record<string, readonly number[]>>;
  };
  readonly layers: readonly LayerQuantRow[];
  readonly before: { readonly quality: Quality; readonly bops: number };
  /** Fake-quantized model in the float engine. */
  readonly after: { readonly quality: Quality; readonly bops: number };
  /** The integer-only executor on the check images. */
  readonly int8?: { readonly images: number; readonly accuracy: number; readonly argmaxMismatches: number; readonly layerwiseMaxLsb: number; readonly layerwiseDiffering: number; readonly endToEndMaxLsb: number; readonly endToEndDiffering: number; readonly codes: number; readonly inexact: readonly string[] };
  readonly bopsReduction: number;
  /** Per conv/dense: MACs, weight and input-activation bits, bit operations (after). */
  readonly bops: readonly BopsRow[];
}

/**
 * QAT with the CIM model in the forward pass: the fine-tuning recipe (compiler/passes/compress/finetune.ts),
 * cosine schedule, without per-epoch validation (it would run the simulated forward on every validation
 * image): the result is the last epoch's weights.
 */
async function cimTrain(g: Graph, accelerator: CimAcceleratorSpec, epochs: number, seed: number, lr: number, workers: number | undefined, distill: Distillation | undefined, run: { data: { train: Dataset }; progress: ProgressFn; signal: AbortSignal }): Promise<Graph> {
  const r = FINETUNE.classification;
  // runs here are short (the simulated forward is ~30x a plain one): warm up over at most a tenth of them
  const steps = epochs * Math.ceil(run.data.train.size / r.batchSize);
  const warmupSteps = Math.min(r.schedule.kind === 'cosine' ? (r.schedule.warmupSteps ?? 0) : 0, Math.ceil(steps / 10));
  const cfg = { epochs, batchSize: r.batchSize, optimizer: r.optimizer, schedule: { kind: 'cosine' as const, lr, warmupSteps }, loss: r.loss, seed };
  return (await train(g, run.data.train, undefined, cfg, { workers, augment: shiftFlip(2), accelerator, distill, signal: run.signal, onProgress: run.progress })).graph;
}

function reportTable(r: QuantizeReport): string {
  const rows = r.layers.map((l) => [l.value, l.op, l.scale.toExponential(4), String(l.zeroPoint), `[${l.range[0].toFixed(3)}, ${l.range[1].toFixed(3)}]`, Number.isFinite(l.sqnrDb) ? l.sqnrDb.toFixed(1) : '-']);
  const i = r.int8;
  const c = r.config;
  return (
    [
      table(['value', 'op', 'scale', 'zero pt', r.config.mode === 'qat' ? 'range (QAT EMA)' : 'calibrated range', r.config.mode === 'qat' ? 'PTQ SQNR dB' : 'SQNR dB'], rows, ['l', 'l', 'r', 'r', 'l', 'r']),
      `scheme: weights int${c.weightBits}${c.layerWeightBits && Object.keys(c.layerWeightBits).length ? ` (${formatLayerValues(c.layerWeightBits)} bits)` : ''} symmetric per channel, activations int${c.activationBits} ${c.activations} per tensor, ${c.continues ? `ranges continued from ${c.continues}` : `${c.calibration} calibration on ${c.calibImages} images`}${c.mode === 'qat' ? `, QAT ${c.qatEpochs} epoch(s) with EMA activation ranges (momentum ${RANGE_MOMENTUM})` : ''}`,
      r.accelerator ? `QAT forward pass: the CIM accelerator '${r.accelerator.spec}' (sim/qat-model.ts), noise: ${noiseText(r.accelerator.noise)}, seed ${r.accelerator.seed}; schedule.json holds the ADC ranges it trained with` : '',
      `quality: float ${qualityText(r.before.quality)} -> fake-quant ${qualityText(r.after.quality)}`,
      i ? `integer executor on ${i.images} test images: ${(100 * i.accuracy).toFixed(2)}% accuracy; top-1 differs from fake-quant on ${i.argmaxMismatches}; op by op on identical inputs max ${i.layerwiseMaxLsb} LSB (${i.layerwiseDiffering} of ${num(i.codes)} codes differ); end to end max ${i.endToEndMaxLsb} LSB (${i.endToEndDiffering} differ)${i.inexact.length ? `; fake-quant evaluated in float (not exactly) at ${i.inexact.join(', ')}` : ''}` : '',
      `BOPs: ${num(r.before.bops)} -> ${num(r.after.bops)} (${r.bopsReduction.toFixed(2)}x fewer)`,
      `reproduce: ${r.command}`,
    ]
      .filter(Boolean)
      .join('\n') + '\n'
  );
}

const noiseText = (n: CimNoise) => Object.entries(NOISE_PARTS).filter(([, k]) => n[k]).map(([p]) => p).join(', ') || 'none (exact mode)';

/** The rows of a quantized graph's own (scale, zero point) values, as quantizeGraph reports them (no float reference: no SQNR). */
function quantRows(g: Graph): LayerQuantRow[] {
  return g.nodes.flatMap((n): LayerQuantRow[] => {
    const p = n.quant;
    if (!OWN_PARAMS.has(n.op) || p?.outputScale === undefined || p.outputZeroPoint === undefined || p.activationBits === undefined) return [];
    const [qmin, qmax] = activationRange(p.activationBits);
    return [{ value: n.id, op: n.op, scale: p.outputScale, zeroPoint: p.outputZeroPoint, range: [p.outputScale * (qmin - p.outputZeroPoint), p.outputScale * (qmax - p.outputZeroPoint)], sqnrDb: NaN }];
  });
}

/** Continuing QAT keeps the model's bit widths: flags that ask for others are an error, not a silent re-quantization. */
function checkContinuable(model: string, g: Graph, cfg: QuantizeConfig): void {
  const weightBitsOf = layerBitsResolver(g, cfg);
  for (const n of g.nodes) {
    const p = n.quant;
    if (p?.activationBits !== undefined && p.activationBits !== cfg.activationBits) throw new Error(`${model}: layer ${n.id} has ${p.activationBits}-bit activations; continuing QAT keeps them (--activation-bits ${cfg.activationBits} asks for others)`);
    if (p?.weightBits !== undefined && p.weightBits !== weightBitsOf(n)) throw new Error(`${model}: layer ${n.id} has ${p.weightBits}-bit weights; continuing QAT keeps them (--weight-bits / --layer-bits ask for ${weightBitsOf(n)})`);
  }
}

/** The schedule.json a CIM-aware QAT wrote next to a quantized model, if any, for the same accelerator. */
async function priorSchedule(model: string, f: QuantizeFlags): Promise<Schedule | undefined> {
  if (!isScheduleDir(model)) return undefined;
  const s = await readSchedule(model);
  const spec = loadSpec(f.accel!, f.set ?? []);
  if (JSON.stringify(s.spec) !== JSON.stringify(spec)) throw new Error(`${path.join(model, 'schedule.json')}: compiled for another accelerator than --accel ${f.accel}${f.set?.length ? ' with the --set overrides' : ''}; continuing CIM-aware QAT needs the same one`);
  return s;
}

export async function quantizeCommand(model: string, f: QuantizeFlags): Promise<void> {
  const m = await resolveModel(model);
  if (m.task !== 'classification') throw new Error(`${model}: quantize evaluates classifiers only for now (task ${m.task})`);
  const cfg: QuantizeConfig = {
    weightBits: f.weightBits ?? 8,
    ...(f.layerBits !== undefined ? { layerWeightBits: Object.fromEntries(parseLayerValues('--layer-bits', f.layerBits, (v) => (Number.isInteger(v) && v >= 2 && v <= 16 ? undefined : 'expected an integer in 2..16'))) } : {}),
    activationBits: f.activationBits ?? 8,
    activations: f.activations ?? 'asymmetric',
    calibration: f.calibration ?? 'minmax',
    percentile: f.percentile ?? 99.99,
    seed: f.seed ?? 1,
  };
  checkBits('--weight-bits: weight', cfg.weightBits);
  checkBits('--activation-bits: activation', cfg.activationBits);
  layerBitsResolver(m.graph, cfg); // unknown --layer-bits layers fail before any data is loaded
  const calibImages = f.calib ?? 256;
  if (!Number.isInteger(calibImages) || calibImages < 1) throw new Error(`--calib ${calibImages}: the calibration set needs at least 1 image`);
  const qatEpochs = f.mode === 'qat' ? (f.epochs ?? 1) : 0;
  if (f.accel && f.mode !== 'qat') throw new Error('--accel trains with the accelerator in the loop: it needs --mode qat');
  if ((f.set?.length || f.cimNoise) && !f.accel) throw new Error('--set and --cim-noise describe the accelerator: they need --accel');
  const temperature = f.temperature ?? 4;
  if (f.mode !== 'qat' && (f.distill !== undefined || f.teacher)) throw new Error('--distill and --teacher are for training: they need --mode qat');
  if (f.distill !== undefined && !(f.distill > 0 && f.distill <= 1)) throw new Error(`--distill ${f.distill}: expected a weight alpha in (0, 1]`);
  if (!(temperature > 0)) throw new Error(`--temperature ${temperature}: expected a number > 0`);
  if (f.accel && !Number.isInteger(qatEpochs)) throw new Error(`--epochs ${qatEpochs}: with --accel whole epochs (use --train-limit for fewer images)`);
  const command = [
    'tandem quantize',
    model,
    `--mode ${f.mode}`,
    `--calib ${calibImages}`,
    `--weight-bits ${cfg.weightBits}`,
    cfg.layerWeightBits ? `--layer-bits ${formatLayerValues(cfg.layerWeightBits)}` : '',
    `--activation-bits ${cfg.activationBits}`,
    `--activations ${cfg.activations}`,
    `--calibration ${cfg.calibration}`,
    cfg.calibration === 'percentile' ? `--percentile ${cfg.percentile}` : '',
    f.mode === 'qat' ? `--epochs ${qatEpochs}` : '',
    f.accel ? `--accel ${f.accel}` : '',
    ...(f.set ?? []).map((v) => `--set ${v}`),
    f.accel ? `--cim-noise ${f.cimNoise ?? 'none'}` : '',
    f.distill !== undefined ? `--distill ${f.distill} --temperature ${temperature}${f.teacher ? ` --teacher ${f.teacher}` : ''}` : '',
    f.lr ? `--lr ${f.lr}` : '',
    f.trainLimit ? `--train-limit ${f.trainLimit}` : '',
    f.evalLimit ? `--eval-limit ${f.evalLimit}` : '',
    f.check !== undefined ? `--check ${f.check}` : '',
    `--seed ${cfg.seed}`,
    `-o ${f.out}`,
  ]
    .filter(Boolean)
    .join(' ');
  // QAT on a quantized model continues its training: its (scale, zero point) are the starting ranges (a new
  // PTQ would move them away from what the weights were trained with) and, with --accel, so are the ADC ranges in its schedule.json
  const continuing = f.mode === 'qat' && isQuantized(m.graph);
  if (f.mode === 'ptq' && isQuantized(m.graph)) throw new Error(`${model}: already quantized; PTQ takes a float model (QAT on a quantized model continues its training)`);
  if (continuing) checkContinuable(model, m.graph, cfg);
  const trainedWith = continuing && f.accel ? await priorSchedule(model, f) : undefined;
  // the teacher is the float model: the input unless it is already quantized (then --teacher names it)
  if (f.distill !== undefined && continuing && !f.teacher) throw new Error(`--distill: ${model} is already quantized; name the float teacher with --teacher <model>`);
  const teacher = f.distill === undefined ? undefined : f.teacher ? (await resolveModel(f.teacher)).graph : m.graph;
  if (teacher && isQuantized(teacher)) throw new Error(`--teacher ${f.teacher}: a quantized model; the teacher is the float model`);
  const distill: Distillation | undefined = teacher && { teacher, alpha: f.distill!, temperature };
  const run = await startModelRun(m, { ...f, calib: calibImages });
  const ptq = continuing ? { graph: m.graph, rows: quantRows(m.graph) } : quantizeGraph(m.graph, run.calib, cfg);
  if (continuing) run.log(`${model} is quantized: QAT continues from its activation ranges${trainedWith ? ' and ADC ranges' : ''} (no new calibration)`);
  let q: Graph = ptq.graph;
  let rows = ptq.rows;
  const accelerator = f.accel ? cimSetup(q, f, run.calib, cfg.seed ?? 1, run, trainedWith) : undefined;
  if (f.mode === 'qat') {
    run.log(`QAT: ${qatEpochs} epoch(s) of fake-quantized training${accelerator ? ` with the CIM accelerator '${accelerator.spec.name}' in the forward pass (noise: ${noiseText(accelerator.noise)})` : ''}`);
    // activation ranges follow the training batches (EMA, qat-ranges.ts), starting from the calibrated ones
    const start = withRangeState(q, cfg.activations);
    const lr = f.lr ?? 0.001;
    const trained = accelerator ? await cimTrain(start, accelerator, qatEpochs, cfg.seed ?? 1, lr, f.workers, distill, run) : await finetune(start, { task: m.task, train: run.data.train, val: run.data.val, epochs: qatEpochs, seed: cfg.seed ?? 1, lr, workers: f.workers, distill, signal: run.signal, onProgress: run.progress });
    const ranges = new Map(trained.nodes.flatMap((n) => (n.weights[QAT_RANGE_WEIGHT] ? [[n.id, Array.from(n.weights[QAT_RANGE_WEIGHT].data.subarray(0, 2))] as const] : [])));
    q = snapWeights(fromRangeState(trained));
    const byId = new Map(q.nodes.map((n) => [n.id, n] as const));
    rows = rows.map((r) => {
      const n = byId.get(r.value);
      const range = ranges.get(r.value);
      return n?.quant && range ? { ...r, scale: n.quant.outputScale!, zeroPoint: n.quant.outputZeroPoint!, range: [range[0], range[1]] } : r;
    });
  }
  const quality = await run.evalGraph(q);
  let check: Int8Check | undefined;
  const nCheck = Math.min(f.check ?? run.testSet.size, run.testSet.size);
  let labels = new Float32Array(0);
  if (nCheck > 0) {
    const per = run.testSet.inputShape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(nCheck * per);
    labels = new Float32Array(nCheck);
    run.testSet.fill(
      Array.from({ length: nCheck }, (_, i) => i),
      x,
      labels,
    );
    check = checkInt8(q, x, nCheck, { signal: run.signal, onProgress: run.progress });
  }
  const before = bitOps(m.graph).total;
  const afterBops = bitOps(q);
  const after = afterBops.total;
  const report: QuantizeReport = {
    model: m.graph.name,
    command,
    config: { ...cfg, mode: f.mode, calibImages, qatEpochs, ...(continuing ? { continues: model } : {}) },
    ...(accelerator ? { accelerator: acceleratorRecord(accelerator) } : {}),
    layers: rows,
    before: { quality: run.baseQuality, bops: before },
    after: { quality, bops: after },
    int8: check && {
      images: check.images,
      accuracy: check.predictions.filter((p, i) => p === labels[i]).length / check.images,
      argmaxMismatches: check.argmaxMismatches,
      layerwiseMaxLsb: check.layerwise.maxLsb,
      layerwiseDiffering: check.layerwise.differing,
      endToEndMaxLsb: check.endToEnd.maxLsb,
      endToEndDiffering: check.endToEnd.differing,
      codes: check.layerwise.total,
      inexact: check.inexact,
    },
    bopsReduction: before / after,
    bops: afterBops.rows,
  };
  const meta = { ...(m.graph.meta ?? {}), quantization: { command, config: report.config }, test: quality };
  const files: Record<string, string> = { 'report.json': JSON.stringify(report, null, 1) + '\n', 'report.txt': reportTable(report) };
  if (accelerator) files['schedule.json'] = JSON.stringify(trainedSchedule({ ...q, meta }, accelerator, run.calib), null, 1) + '\n';
  await writeModelDir(f.out, { ...q, meta }, files, { onnx: false });
  run.stop();
  process.stdout.write(f.json ? JSON.stringify(report) + '\n' : reportTable(report));
}
