// A fitted latency predictor as a Target (`--target predictor:<file>[#method]`): run() returns the predicted
// per-layer Report in the unit of the target it was fitted on (QEMU ticks, host seconds), one sample per input.
// Nodes are predicted one by one and summed per original layer; the time the runtime spends outside the layers
// is its own row, `(outside layers)`, so the total is the sum of the rows. For an int8 graph the integer
// executor runs each input, because the board runtime's time depends on the share of zero activations (a
// feature, features.ts); so the outputs are the executor's, as the host target returns them. A float graph is
// predicted with no zero activations and returns no outputs.
import type { LayerReport, Report } from '../../compiler/contracts/report.js';
import type { CompiledModel, RunInput, RunOptions, RunResult, Target, TargetDescription } from '../../compiler/contracts/target.js';
import type { Graph } from '../../compiler/ir/types.js';
import { runInt8 } from '../../compiler/passes/quantize/int8-executor.js';
import { throwIfAborted } from '../../compiler/util/progress.js';
import { layerRows } from '../targets/layer-rows.js';
import { inputZeroFractions, layerFeatures } from './features.js';
import { LatencyPredictor, METHODS, type Method, type PredictorFile, readPredictor } from './predictor.js';
import { DATASET_FORMAT, readDataset, writeJsonAtomic } from './dataset.js';
import { fitPredictors } from './fit.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const OUTSIDE_ROW = '(outside layers)';

/**
 * A predictor file as it is, or, for a latency dataset (`tandem latency measure -o`), the predictor fitted on it
 * with the default split (seed 1), cached by the dataset's content hash in $XDG_CACHE_HOME/tandem/predictors/:
 * fitted predictors are ~10 MB of trees, too big to commit next to their ~1 MB datasets.
 */
export function predictorFor(file: string, env: NodeJS.ProcessEnv = process.env): PredictorFile {
  let head: string;
  try {
    head = readFileSync(file, 'utf8');
  } catch {
    return readPredictor(file); // its error names the file
  }
  if (!head.includes(`"format":"${DATASET_FORMAT}"`)) return readPredictor(file);
  const dir = path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tandem', 'predictors');
  const cached = path.join(dir, `${createHash('sha256').update(head).digest('hex')}.json`);
  if (existsSync(cached)) return readPredictor(cached);
  const p = fitPredictors(readDataset(file), { seed: 1, datasetFile: file, command: `fitted for --target predictor:${file}` });
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(cached, p);
  return p;
}

export class PredictorTarget implements Target {
  private graph?: Graph;

  constructor(
    readonly path: string,
    readonly predictor: LatencyPredictor,
    readonly method: Method,
  ) {}

  /** Reads the predictor file (or fits one from a dataset file, see predictorFor); `method` defaults to the file's default. */
  static open(path: string, method?: string): PredictorTarget {
    const p = predictorFor(path);
    if (method !== undefined && !(METHODS as readonly string[]).includes(method)) throw new Error(`--target predictor:${path}#${method}: expected a method of ${METHODS.join(', ')}`);
    return new PredictorTarget(path, new LatencyPredictor(p), (method as Method | undefined) ?? p.default);
  }

  describe(): Promise<TargetDescription> {
    const f = this.predictor.file;
    const row = f.heldOut.find((r) => r.method === this.method);
    return Promise.resolve({
      id: `predictor:${this.path}#${this.method}`,
      kind: 'predictor',
      name: `latency predictor (${this.method}) of ${f.dataset.target.name}`,
      runtime: `predictor:${this.method}`,
      ...(f.clockHz ? { clockHz: f.clockHz } : {}),
      capabilities: { perLayerTiming: true, dtypes: ['int8', 'float32'] },
      details: { file: this.path, method: this.method, unit: f.unit, dataset: f.dataset, heldOut: row, outputs: 'the integer executor\'s (int8 graphs); none for a float graph' },
    });
  }

  load(model: CompiledModel): Promise<void> {
    this.graph = model.graph;
    return Promise.resolve();
  }

  run(input: RunInput, options: RunOptions = {}): Promise<RunResult> {
    const g = this.graph;
    if (!g) return Promise.reject(new Error(`predictor target ${this.path}: no model loaded (call load() first)`));
    throwIfAborted(options.signal);
    const f = this.predictor.file;
    const int8 = g.inputs[0].quant !== undefined;
    const per = g.inputs[0].shape.reduce((a, b) => a * b, 1);
    const n = Math.max(1, input.batch);
    const samples = g.nodes.map(() => [] as number[]);
    for (let i = 0; i < n; i++) {
      throwIfAborted(options.signal);
      const zeros = int8 && input.batch > 0 ? inputZeroFractions(g, input.data.subarray(i * per, (i + 1) * per)) : undefined;
      this.predictor.layers(this.method, layerFeatures(g, zeros)).forEach((p, k) => samples[k].push(p));
    }
    const executor = `predictor:${this.method}`;
    const rows: LayerReport[] = layerRows(
      g,
      executor,
      g.nodes.map((node, k) => ({ node: node.id, samples: samples[k] })),
      f.unit,
      f.clockHz,
    );
    const outside = this.predictor.outside(g.nodes.length);
    rows.push({ layer: OUTSIDE_ROW, executor, nodes: [], latency: { unit: f.unit, samples: Array<number>(n).fill(outside), ...(f.clockHz ? { clockHz: f.clockHz } : {}) } });
    const total = Array.from({ length: n }, (_, i) => rows.reduce((a, r) => a + (r.latency?.samples[i] ?? 0), 0));
    const report: Report = {
      model: g.name,
      executor,
      createdAt: new Date().toISOString(),
      rows,
      total: { latency: { unit: f.unit, samples: total, ...(f.clockHz ? { clockHz: f.clockHz } : {}) }, macs: rows.reduce((a, r) => a + (r.macs ?? 0), 0) },
    };
    const outputs = int8 && input.batch > 0 ? runInt8(g, input.data, input.batch).outputs : [];
    return Promise.resolve({ outputs, report });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
