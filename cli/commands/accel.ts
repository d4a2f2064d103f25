// What `tandem compile` and `tandem simulate` share: the model (quantized with default PTQ when it is
// still float), the accelerator spec (preset or file, with --set overrides), ADC calibration, lowering.
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DataError } from '../../compiler/data/errors.js';
import { loadGraph } from '../../compiler/ir/serialize.js';
import { type Graph, OpKind } from '../../compiler/ir/types.js';
import type { Schedule } from '../../compiler/lower/schedule.js';
import { verifySchedule } from '../../compiler/lower/verify.js';
import { type ResolvedModel, resolveModel } from '../../compiler/models/registry.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../../compiler/passes/quantize/quantize.js';
import { WEIGHTED } from '../../compiler/passes/quantize/scheme.js';
import { initBackend } from '../../compiler/train/backend.js';
import type { ProgressFn } from '../../compiler/util/progress.js';
import { scheduleFor } from '../../sim/schedule-for.js';
import type { AcceleratorSpec } from '../../sim/spec/types.js';
import { loadSpec } from '../../sim/spec/validate.js';
import { type DataOptions, fashionMnistSplits, type Splits } from './data.js';

export interface AccelFlags extends DataOptions {
  readonly accel: string;
  readonly set?: readonly string[];
  /** Calibration images (PTQ of a float model, ADC ranges). */
  readonly calib?: number;
  readonly json?: boolean;
}

export interface Prepared {
  readonly model: ResolvedModel;
  /** The quantized graph the schedule runs. */
  readonly graph: Graph;
  readonly spec: AcceleratorSpec;
  readonly schedule: Schedule;
  readonly data: Splits;
  /** What was done to get here, for notes and the reproduce line. */
  readonly notes: readonly string[];
}

export function isQuantized(g: Graph): boolean {
  return !!g.inputs[0]?.quant && g.nodes.every((n) => !WEIGHTED.has(n.op) || !!n.quant?.weightScales) && !g.nodes.some((n) => n.op === OpKind.BatchNorm);
}

/** The first n training images of the model's own split (as its recipe made it). */
export function trainImages(data: Splits, n: number): { x: Float32Array; n: number } {
  const k = Math.min(n, data.train.size);
  const per = data.train.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(k * per);
  data.train.fill(
    Array.from({ length: k }, (_, i) => i),
    x,
    new Float32Array(k * data.train.targetSize),
  );
  return { x, n: k };
}

/** A directory written by `tandem compile` (schedule.json + the graph it was compiled from)? */
export const isScheduleDir = (p: string) => existsSync(path.join(p, 'schedule.json')) && existsSync(path.join(p, 'graph.json'));

/** A compiled folder's schedule.json (not yet verified against its graph). */
export async function readSchedule(dir: string): Promise<Schedule> {
  const file = path.join(dir, 'schedule.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Schedule;
  } catch (e) {
    throw new DataError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Model (quantized if needed), spec, calibration, schedule: from a model or a compile output folder. */
export async function prepare(modelOrDir: string, f: AccelFlags, progress: ProgressFn, signal: AbortSignal): Promise<Prepared> {
  await initBackend();
  const notes: string[] = [];
  if (isScheduleDir(modelOrDir)) {
    const schedule = await readSchedule(modelOrDir);
    if (f.set?.length) throw new DataError(`--set applies when compiling; ${modelOrDir} is already compiled for '${schedule.spec?.name}'`);
    const graph = await loadGraph(modelOrDir);
    verifySchedule(schedule, graph);
    const model: ResolvedModel = { graph, source: modelOrDir, task: 'classification' };
    const data = await fashionMnistSplits('classification', { ...f, splitSeed: (graph.meta?.seed as number | undefined) ?? 0, valFraction: 1 / 12, signal, onProgress: progress });
    return { model, graph, spec: schedule.spec, schedule, data, notes: [`schedule and graph from ${modelOrDir}`] };
  }
  const spec = loadSpec(f.accel, f.set ?? []);
  const model = await resolveModel(modelOrDir);
  if (model.task !== 'classification') throw new DataError(`${modelOrDir}: the CIM simulator evaluates classifiers (task ${model.task})`);
  const data = await fashionMnistSplits(model.task, { ...f, splitSeed: (model.graph.meta?.seed as number | undefined) ?? 0, valFraction: 1 / 12, signal, onProgress: progress });
  const nCalib = f.calib ?? 256;
  let graph = model.graph;
  if (!isQuantized(graph)) {
    const calib = trainImages(data, nCalib);
    graph = quantizeGraph(graph, calib, { ...DEFAULT_QUANTIZE, weightBits: spec.weights.bits }).graph;
    notes.push(`the model was float: quantized first (PTQ, int${spec.weights.bits} weights, int8 activations, min/max on ${calib.n} training images, seed ${DEFAULT_QUANTIZE.seed}); \`tandem quantize\` gives more control`);
  }
  const lowered = scheduleFor(graph, spec, trainImages(data, nCalib), { onProgress: progress, signal });
  notes.push(...lowered.notes);
  const schedule = lowered.schedule;
  return { model, graph, spec, schedule, data, notes };
}
