// A fitted latency predictor as a Target (`--target predictor:<file>[#method]`): run() returns the predicted
// per-layer Report in the unit of the target it was fitted on (QEMU ticks, host seconds), one sample per input
// (a prediction does not vary). Nodes are predicted one by one and summed per original layer; the time the
// runtime spends outside the layers is its own row, `(outside layers)`, so the total is the sum of the rows.
// A predictor cannot compute the model's outputs: `outputs` is empty (run the host target for them).
import type { LayerReport, Report } from '../../compiler/contracts/report.js';
import type { CompiledModel, RunInput, RunOptions, RunResult, Target, TargetDescription } from '../../compiler/contracts/target.js';
import type { Graph } from '../../compiler/ir/types.js';
import { throwIfAborted } from '../../compiler/util/progress.js';
import { layerRows } from '../targets/layer-rows.js';
import { layerFeatures } from './features.js';
import { LatencyPredictor, METHODS, type Method, readPredictor } from './predictor.js';

export const OUTSIDE_ROW = '(outside layers)';

export class PredictorTarget implements Target {
  private graph?: Graph;

  constructor(
    readonly path: string,
    readonly predictor: LatencyPredictor,
    readonly method: Method,
  ) {}

  /** Reads the predictor file; `method` defaults to the file's default. */
  static open(path: string, method?: string): PredictorTarget {
    const p = readPredictor(path);
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
      details: { file: this.path, method: this.method, unit: f.unit, dataset: f.dataset, heldOut: row, outputs: 'none: a predictor does not compute outputs' },
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
    const feats = layerFeatures(g);
    const pred = this.predictor.layers(this.method, feats);
    const n = Math.max(1, input.batch);
    const executor = `predictor:${this.method}`;
    const rows: LayerReport[] = layerRows(
      g,
      executor,
      feats.map((l, i) => ({ node: l.node, samples: Array<number>(n).fill(pred[i]) })),
      f.unit,
      f.clockHz,
    );
    const outside = this.predictor.outside(feats.length);
    rows.push({ layer: OUTSIDE_ROW, executor, nodes: [], latency: { unit: f.unit, samples: Array<number>(n).fill(outside), ...(f.clockHz ? { clockHz: f.clockHz } : {}) } });
    const total = rows.reduce((a, r) => a + (r.latency?.samples[0] ?? 0), 0);
    const report: Report = {
      model: g.name,
      executor,
      createdAt: new Date().toISOString(),
      rows,
      total: { latency: { unit: f.unit, samples: Array<number>(n).fill(total), ...(f.clockHz ? { clockHz: f.clockHz } : {}) }, macs: rows.reduce((a, r) => a + (r.macs ?? 0), 0) },
    };
    return Promise.resolve({ outputs: [], report });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
