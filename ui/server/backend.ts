// The TandemApi in a Node process: the browser fallback's server calls it in-process, Electron's main process
// forwards to it in a utilityProcess. Quick reads (model graphs, schedules, stores, datasets) happen here;
// everything long is a job (jobs.ts), a `tandem` command in its own child process.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { FASHION_MNIST_FILES, DEBIAN_DATA_DIR, defaultCacheDir } from '../../compiler/data/fashion-mnist.js';
import { graphStats } from '../../compiler/ir/graph.js';
import { importModel } from '../../compiler/import/index.js';
import { REFERENCE_MODELS } from '../../compiler/models/reference.js';
import { refsDir, resolveModel } from '../../compiler/models/registry.js';
import type { LayerPlan, Plan } from '../../compiler/contracts/plan.js';
import type { Report } from '../../compiler/contracts/report.js';
import type { Schedule } from '../../compiler/lower/schedule.js';
import { writeFileAtomicSync } from '../../compiler/util/atomic.js';
import { PRESETS, presetNames } from '../../sim/spec/presets.js';
import { assembleResult } from '../../codesign/loop.js';
import { validateProblem } from '../../codesign/problem.js';
import { RunStore } from '../../codesign/run-store.js';
import type { CodesignStore } from '../../codesign/run-store/codesign.js';
import { readDataset } from '../../hw-targets/predictor/dataset.js';
import { LatencyPredictor, METHODS } from '../../hw-targets/predictor/predictor.js';
import { predictorFor } from '../../hw-targets/predictor/target.js';
import { openTarget } from '../../hw-targets/targets/open.js';
import { profiledModel } from '../../cli/commands/profile.js';
import type { BoardInfo, CodesignRunDetail, CodesignRunInfo, GraphNode, JobEvent, JobInfo, JobRequest, JobResult, LatencyComparison, LatencyDatasetInfo, ModelGraph, PortInfo, ProjectInfo, TandemApi } from '../api/types.js';
import { ApiInputError, SAFE_NAME } from '../api/validate.js';
import { JobRunner, profileTarget } from './jobs.js';
import { compareProfile, type ProfiledRun, type ProfileOutput } from './latency-profile.js';

/** Repository root (dist/ui/server -> ../../..): the CLI, bench/latency datasets. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface BackendOptions {
  /** Jobs and uploads live here. */
  readonly workspace: string;
  /** The run store the co-design view lists and the default job writes. */
  readonly store: string;
}

/** A request the backend understood but cannot serve (unknown job, model without weights, ...): HTTP 404/409. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** Profile jobs whose timed graph and input latencyComparison rebuilt (one PTQ each), kept for the next call. */
const PROFILED_KEPT = 4;

export class Backend implements TandemApi {
  readonly jobs: JobRunner;
  private readonly uploads: string;
  private readonly profiled = new Map<string, Promise<ProfiledRun>>();

  constructor(readonly o: BackendOptions) {
    this.uploads = path.join(o.workspace, 'uploads');
    this.jobs = new JobRunner({ dir: path.join(o.workspace, 'jobs'), cli: path.join(ROOT, 'dist', 'cli', 'main.js'), modelPath: (ref) => this.modelPath(ref), store: o.store });
  }

  onJobEvent(listener: (e: JobEvent) => void): () => void {
    this.jobs.on('event', listener);
    return () => this.jobs.off('event', listener);
  }

  /** ModelRef -> what the CLI takes as <model>. Checks that it exists. */
  modelPath(ref: string): string {
    const [kind, a, b] = ref.split(':');
    if (b === undefined && a === undefined) {
      if (!(kind in REFERENCE_MODELS)) throw new NotFoundError(`model ${ref}: not a built-in model (built-in: ${Object.keys(REFERENCE_MODELS).join(', ')})`);
      return kind;
    }
    if (kind === 'upload') {
      const file = path.join(this.uploads, a);
      if (!existsSync(file)) throw new NotFoundError(`model ${ref}: no uploaded file ${a}`);
      return file;
    }
    if (kind === 'job') {
      const dir = path.join(this.jobs.dirOf(a), 'out');
      if (!existsSync(path.join(dir, 'graph.json'))) throw new NotFoundError(`model ${ref}: job ${a} wrote no model (it is a ${this.jobs.get(a).kind} job, state ${this.jobs.get(a).state})`);
      return dir;
    }
    if (kind === 'candidate') {
      const c = this.withStore((s) => s.codesign().candidates(Number(a)).find((x) => `c${x.ordinal}` === b));
      if (!c?.modelHash) throw new NotFoundError(`model ${ref}: run ${a} has no candidate ${b} with a stored model`);
      return path.join(path.dirname(this.o.store), 'models', c.modelHash);
    }
    throw new ApiInputError(`model ${ref}: unknown kind ${kind}`);
  }

  private withStore<T>(fn: (s: RunStore) => T): T | undefined {
    if (!existsSync(this.o.store)) return undefined;
    const s = RunStore.open(this.o.store, { mustExist: true });
    try {
      return fn(s);
    } finally {
      s.close();
    }
  }

  async project(): Promise<ProjectInfo> {
    const pkg = readJson<{ version: string }>(path.join(ROOT, 'package.json'));
    const models = [
      ...Object.keys(REFERENCE_MODELS).map((name) => ({ ref: name, label: `${name} (built-in)`, trained: existsSync(path.join(refsDir(), name, 'graph.json')) })),
      ...(existsSync(this.uploads) ? readdirSync(this.uploads).filter((f) => SAFE_NAME.test(f)).map((f) => ({ ref: `upload:${f}`, label: `${f} (opened file)`, trained: true })) : []),
      ...this.jobs
        .list()
        .filter((j) => j.state === 'done' && existsSync(path.join(this.jobs.dirOf(j.id), 'out', 'graph.json')))
        .map((j) => ({ ref: `job:${j.id}`, label: `${j.kind} job ${j.id} (${'model' in j.request ? j.request.model : ''})`, trained: true })),
    ];
    const dataDir = [process.env.TANDEM_DATA, DEBIAN_DATA_DIR, defaultCacheDir()].find((d) => d && Object.values(FASHION_MNIST_FILES).every((f) => existsSync(path.join(d, f.name)) || existsSync(path.join(d, `${f.name}.gz`)))) ?? null;
    return {
      version: pkg.version,
      workspace: this.o.workspace,
      models,
      dataset: { name: 'Fashion-MNIST', dir: dataDir, train: 60000, test: 10000 },
      accelerators: presetNames().map((name) => {
        const s = PRESETS[name];
        return { name, summary: `${s.crossbar.rows}×${s.crossbar.cols} crossbars, ${s.crossbar.cellBits}-bit cells, ${s.adc.bits}-bit ADC` };
      }),
      targets: [
        { name: 'host', kind: 'host', note: 'the integer executor on this machine' },
        { name: 'qemu', kind: 'serial', note: 'the Tandem firmware on an emulated Cortex-M4 (QEMU mps2-an386)' },
        { name: 'serial:<port>', kind: 'serial', note: 'a board running the Tandem firmware (Devices)' },
        { name: 'adb:<serial>', kind: 'adb', note: 'an arm64 Android phone over adb' },
        ...presetNames().map((n) => ({ name: `sim:${n}`, kind: 'sim', note: 'the CIM simulator cost model' })),
      ],
      runs: this.runs(),
      jobs: this.jobs.list(),
    };
  }

  private runs(): CodesignRunInfo[] {
    return this.withStore((s) => runInfos(s.codesign())) ?? [];
  }

  async openModel(req: { readonly model: string }): Promise<ModelGraph> {
    const where = this.modelPath(req.model);
    // a built-in without trained weights still shows its structure
    const { graph } = await resolveModel(where, { allowUntrained: !req.model.includes(':') });
    const stats = graphStats(graph);
    const decisions = this.decisions(req.model);
    // mixed precision: each layer's weight bits are a decision too (uniform bits are the model's, not a layer's)
    const bits = new Set(graph.nodes.flatMap((n) => (n.quant?.weightBits === undefined ? [] : [n.quant.weightBits])));
    const nodes: GraphNode[] = graph.nodes.map((n, i) => {
      const s = stats.nodes[i];
      const d = [decisions.get(n.origin), bits.size > 1 && n.quant?.weightBits !== undefined ? `${n.quant.weightBits}-bit weights` : ''].filter(Boolean).join(', ');
      return { id: n.id, op: n.op, origin: n.origin, inputs: n.inputs, outputShape: s.outputShape, params: s.params, macs: s.macs, ...(d ? { decision: d } : {}) };
    });
    return {
      ref: req.model,
      name: graph.name ?? req.model,
      inputs: graph.inputs.map((x) => ({ id: x.id, shape: x.shape })),
      outputs: graph.outputs,
      nodes,
      totals: { params: stats.totalParams, macs: stats.totalMacs },
    };
  }

  /** Per original layer: the decisions of the plans that made this model (a candidate's; a job's plan.json
   * after those of the model the job started from). */
  private decisions(ref: string): Map<string, string> {
    const out = new Map<string, string>();
    const [kind, a, b] = ref.split(':');
    if (kind === 'candidate') {
      const c = this.withStore((s) => s.codesign().candidates(Number(a)).find((x) => `c${x.ordinal}` === b));
      for (const l of c?.layers ?? []) if (l.decision !== 'original') out.set(l.layer, l.decision);
    } else if (kind === 'job') {
      const req = this.jobs.get(a).request;
      if ('model' in req) for (const [l, d] of this.decisions(req.model)) out.set(l, d);
      const file = path.join(this.jobs.dirOf(a), 'out', 'plan.json');
      if (existsSync(file)) for (const l of Object.values(readJson<Plan>(file).layers)) out.set(l.layer, [out.get(l.layer), planText(l)].filter(Boolean).join(', then '));
    }
    return out;
  }

  async uploadModel(req: { readonly name: string; readonly base64: string }): Promise<{ readonly model: string }> {
    const file = path.join(this.uploads, req.name);
    writeFileAtomicSync(file, Buffer.from(req.base64, 'base64'));
    try {
      await importModel(file);
    } catch (e) {
      rmSync(file, { force: true }); // nothing half-usable stays behind
      throw new ApiInputError(`uploadModel: ${req.name} is not a model Tandem can read: ${(e as Error).message}`);
    }
    return { model: `upload:${req.name}` };
  }

  async startJob(req: Parameters<TandemApi['startJob']>[0]) {
    if ('model' in req) this.modelPath(req.model); // a missing model fails here, not in the child
    if ('accel' in req && !presetNames().includes(req.accel)) throw new ApiInputError(`startJob: field accel: expected one of ${presetNames().join(', ')}, got ${JSON.stringify(req.accel)}`);
    return this.jobs.start(req);
  }

  async cancelJob(req: { readonly jobId: string }) {
    return this.jobs.cancel(this.known(req.jobId));
  }

  private known(id: string): string {
    try {
      return this.jobs.get(id).id;
    } catch (e) {
      throw new NotFoundError((e as Error).message);
    }
  }

  async jobResult(req: { readonly jobId: string }): Promise<JobResult> {
    const job = this.jobs.get(this.known(req.jobId));
    const dir = this.jobs.dirOf(job.id);
    if (job.state !== 'done') return { job, output: null };
    const text = readFileSync(path.join(dir, 'stdout.json'), 'utf8').trim();
    const output: unknown = text ? JSON.parse(text.split('\n').at(-1)!) : null;
    const model = existsSync(path.join(dir, 'out', 'graph.json')) ? `job:${job.id}` : undefined;
    const report = (output as { report?: Report } | null)?.report;
    return { job, output, ...(model ? { model } : {}), ...(report?.rows ? { report } : {}) };
  }

  async schedule(req: { readonly jobId: string }): Promise<Schedule> {
    const file = path.join(this.jobs.dirOf(this.known(req.jobId)), 'out', 'schedule.json');
    if (!existsSync(file)) throw new NotFoundError(`job ${req.jobId} has no schedule.json (only a finished compile job writes one)`);
    return readJson<Schedule>(file);
  }

  private datasetFiles(): Map<string, string> {
    const dirs = [path.join(ROOT, 'bench', 'latency'), path.join(this.o.workspace, 'latency')];
    const out = new Map<string, string>();
    for (const d of dirs) if (existsSync(d)) for (const f of readdirSync(d)) if (f.endsWith('.json') && SAFE_NAME.test(f) && statSync(path.join(d, f)).isFile()) out.set(f.replace(/\.json$/, ''), path.join(d, f));
    return out;
  }

  async latencyDatasets(): Promise<readonly LatencyDatasetInfo[]> {
    return [...this.datasetFiles()].map(([name, file]) => {
      const ds = readDataset(file);
      return { name, target: ds.target.name, models: ds.variants.length, modelIds: ds.variants.map((v) => v.id) };
    });
  }

  /** A dataset variant's measured per-layer times against each predictor fitted on the dataset. The dataset
   * keeps one statistic per layer (its measure.statistic over the repeats): that is the one sample. With
   * `profile`, the measured side is that profile job's raw samples instead (latency-profile.ts). */
  async latencyComparison(req: { readonly dataset: string; readonly model?: string; readonly profile?: string }): Promise<LatencyComparison> {
    const file = this.datasetFiles().get(req.dataset);
    if (!file) throw new NotFoundError(`latencyComparison: no dataset ${req.dataset} (have: ${[...this.datasetFiles().keys()].join(', ')})`);
    if (req.profile !== undefined) return this.profileComparison(req.dataset, file, req.profile);
    const ds = readDataset(file);
    const v = req.model ? ds.variants.find((x) => x.id === req.model) : ds.variants[0];
    if (!v) throw new NotFoundError(`latencyComparison: dataset ${req.dataset} has no model ${req.model}`);
    const predictor = new LatencyPredictor(predictorFor(file));
    const layers = v.layers.map((l) => ({ op: l.op, f: l.f }));
    const predicted = Object.fromEntries(METHODS.map((m) => [m, predictor.layers(m, layers)]));
    const toS = (t: number) => (ds.unit === 'cycles' ? t / (ds.clockHz ?? 1) : t);
    return {
      dataset: req.dataset,
      target: ds.target.name,
      model: v.id,
      unit: 's',
      layers: v.layers.map((l, i) => ({ layer: l.node, samples: [toS(l.t)], predicted: Object.fromEntries(METHODS.map((m) => [m, toS(predicted[m][i])])) })),
    };
  }

  private async profileComparison(dataset: string, file: string, jobId: string): Promise<LatencyComparison> {
    let job: JobInfo;
    try {
      job = this.jobs.get(jobId);
    } catch (e) {
      throw new NotFoundError(`latencyComparison: profile: ${(e as Error).message}`);
    }
    const req = job.request;
    if (req.kind !== 'profile') throw new ApiInputError(`latencyComparison: field profile: job ${jobId} is a ${job.kind} job, expected a profile job`);
    if (job.state !== 'done') throw new NotFoundError(`latencyComparison: profile job ${jobId} is ${job.state}${job.error ? ` (${job.error})` : ''}, expected a finished one`);
    const { output, report } = await this.jobResult({ jobId });
    const out = output as Partial<ProfileOutput> | null;
    if (!report || !out?.target) throw new NotFoundError(`latencyComparison: profile job ${jobId} wrote no per-layer Report (its stdout.json has no report and target)`);
    const ran = await this.profiledRun(jobId, req, out.images ?? 1);
    return compareProfile({ dataset, file, ds: readDataset(file), predictor: new LatencyPredictor(predictorFor(file)), jobId, model: req.model, jobTarget: profileTarget(req), output: { target: out.target, images: out.images ?? 1, report }, ran });
  }

  /** The graph and input a profile job timed, rebuilt as the job's command built them (kept for a few jobs). */
  private profiledRun(jobId: string, req: Extract<JobRequest, { kind: 'profile' }>, images: number): Promise<ProfiledRun> {
    let p = this.profiled.get(jobId);
    if (!p) {
      // only the graph and input are kept, not the dataset splits
      p = profiledModel(this.modelPath(req.model), { images, ...(req.calib !== undefined ? { calib: req.calib } : {}) }).then(({ graph, x, n }) => ({ graph, x, n }));
      this.profiled.set(jobId, p);
      p.catch(() => this.profiled.delete(jobId)); // a failure is not kept: the next call tries again
      if (this.profiled.size > PROFILED_KEPT) this.profiled.delete(this.profiled.keys().next().value!);
    }
    return p;
  }

  async ports(): Promise<readonly PortInfo[]> {
    // SerialPort.list() needs udev; without it (containers) it finds nothing: a port path can still be typed in
    const listed = await SerialPort.list().catch(() => []);
    return listed.map((p) => ({ path: p.path, ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}) }));
  }

  async boardInfo(req: { readonly port: string }): Promise<BoardInfo> {
    const target = await openTarget({ kind: 'serial', port: req.port });
    try {
      const d = target.describe();
      return { port: req.port, info: Object.fromEntries(Object.entries(d).filter(([, x]) => typeof x === 'string' || typeof x === 'number')) as Record<string, string | number> };
    } finally {
      await target.close();
    }
  }

  async codesignRun(req: { readonly run: number }): Promise<CodesignRunDetail> {
    const detail = this.withStore((s) => {
      const cs = s.codesign();
      const row = cs.getRun(req.run);
      if (!row) return undefined;
      const problem = validateProblem(row.problem, `${this.o.store} run ${req.run}`);
      const cands = cs.candidates(req.run);
      const info = runInfos(cs).find((r) => r.id === req.run)!;
      if (cands.length === 0) return { ...info, objectives: ['accuracy'], candidatesDetail: [] };
      const result = assembleResult(problem, cands, { run: req.run, store: this.o.store, command: '', seconds: row.seconds });
      return {
        ...info,
        objectives: result.objectives,
        candidatesDetail: result.candidates.map((c) => ({ id: c.id, strategy: c.strategy, metrics: c.metrics, decisions: c.layers.filter((l) => l.decision !== 'original').map((l) => ({ layer: l.layer, text: l.decision })), seconds: c.seconds, feasible: c.feasible, onFront: c.onFront })),
      };
    });
    if (!detail) throw new NotFoundError(`codesignRun: no run ${req.run} in ${this.o.store}`);
    return detail;
  }
}

/** The run list of a store, with each run's model, strategy and cost from its problem. */
function runInfos(cs: CodesignStore): CodesignRunInfo[] {
  return cs.listRuns().map((r) => {
    const p = cs.getRun(r.id)!.problem as { model?: string; search?: { strategy?: string; cost?: string } };
    return { id: r.id, status: r.status, createdAt: r.createdAt, model: p.model ?? '?', strategy: p.search?.strategy ?? '?', cost: p.search?.cost ?? '?', candidates: r.candidates };
  });
}

function planText(l: LayerPlan): string {
  const d = l.decomposition;
  const parts = [d ? (d.kind === 'tucker2' ? `tucker2 ${d.ranks.join('x')}` : `${d.kind} ${d.rank}`) : '', l.keptChannels ? `${l.keptChannels.length} channels kept` : '', l.bits ? `w${l.bits.weights}/a${l.bits.activations}` : ''];
  return parts.filter(Boolean).join(', ') || 'unchanged';
}
