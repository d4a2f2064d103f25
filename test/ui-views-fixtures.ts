// Test harness for the chart-heavy views: the fixtures (real CLI outputs kept in test/fixtures/ui, see
// make-fixtures.sh; co-design results from bench/codesign/results) and `fixtureBridge`, a stand-in for the
// API server that answers from them. It is not the product: it runs jobs by replaying a few progress events
// and handing back the fixture that matches the request, and refuses requests it has no fixture for.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readDataset } from '../hw-targets/predictor/dataset.js';
import { PRESETS } from '../sim/spec/presets.js';
import type { CodesignRunDetail, CodesignRunInfo, JobEvent, JobInfo, JobRequest, JobResult, LatencyComparison, LatencyDatasetInfo, ProjectInfo, TandemApi } from '../ui/api/types.js';
import type { SimulateReport } from '../cli/commands/simulate.js';
import { ROOT } from './ui-browser.js';

export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'ui');
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** A fixture is `tandem simulate --json` output. */
export type SimFixture = SimulateReport;

/** The ADC sweep's fixtures: rram-128, exact mode, 20 images. */
export const ADC_BITS = [3, 4, 5, 6, 8] as const;
/** The drift fixture's accelerator (PCM is the one that drifts). */
export const DRIFT_ACCEL = 'pcm-256';
export const simFixture = (name: string): SimFixture => readJson<SimFixture>(path.join(FIXTURES, `simulate-${name}.json`));
/** latency-<dataset>-<model>.json: a dataset's model; latency-profile-<dataset>.json: PROFILE_JOB against a dataset. */
export const latencyFixture = (name: string): LatencyComparison => readJson<LatencyComparison>(path.join(FIXTURES, `latency-${name}.json`));

/** The finished profile job the profile fixtures came from (make-fixtures.sh), and two others a workspace may
 * hold: an older finished profile job (no fixture) and a failed one (not offered). */
export const PROFILE_JOB = 'j7-fixture';
const profileJob = (id: string, startedAt: string, state: JobInfo['state']): JobInfo => ({
  id,
  kind: 'profile',
  request: { kind: 'profile', model: 'fmnist-vgg', target: 'host', repeats: 7 },
  state,
  startedAt,
  endedAt: startedAt,
  command: 'tandem profile fmnist-vgg --target host --repeats 7 --no-store --json',
});
export const FINISHED_JOBS: readonly JobInfo[] = [profileJob('j5-fixture', '2026-12-01T10:00:00.000Z', 'done'), profileJob(PROFILE_JOB, '2026-12-02T10:00:00.000Z', 'done'), profileJob('j6-fixture', '2026-12-03T10:00:00.000Z', 'failed')];

const datasetIds = new Map<string, readonly string[]>();
/** The variant ids of bench/latency/<name>.json, the real dataset the fixtures were made from. */
export function datasetModelIds(name: string): readonly string[] {
  if (!datasetIds.has(name)) datasetIds.set(name, readDataset(path.join(ROOT, 'bench', 'latency', `${name}.json`)).variants.map((v) => v.id));
  return datasetIds.get(name)!;
}

interface ResultLayer {
  readonly layer: string;
  readonly decision: string;
}
interface CodesignResultFile {
  readonly run: number;
  readonly createdAt: string;
  readonly problem: { readonly model: string; readonly search: { readonly strategy: string; readonly cost: string } };
  readonly objectives: readonly string[];
  readonly candidates: readonly (Omit<CodesignRunDetail['candidatesDetail'][number], 'decisions'> & { readonly layers: readonly ResultLayer[] })[];
}

/** A committed `tandem codesign` result as the API's run detail (as the server maps the run store's). */
export function codesignFixture(name: 'greedy-macs' | 'greedy-energy' | 'greedy-latency'): CodesignRunDetail {
  const r = readJson<CodesignResultFile>(path.join(ROOT, 'bench', 'codesign', 'results', `${name}.json`));
  return {
    id: r.run,
    status: 'done',
    createdAt: r.createdAt,
    model: r.problem.model,
    strategy: r.problem.search.strategy,
    cost: r.problem.search.cost,
    candidates: r.candidates.length,
    objectives: r.objectives,
    candidatesDetail: r.candidates.map((c) => ({
      id: c.id,
      strategy: c.strategy,
      metrics: c.metrics,
      decisions: c.layers.filter((l) => l.decision !== 'original').map((l) => ({ layer: l.layer, text: l.decision })),
      seconds: c.seconds,
      feasible: c.feasible,
      onFront: c.onFront,
    })),
  };
}

const info = (d: CodesignRunDetail): CodesignRunInfo => ({ id: d.id, status: d.status, createdAt: d.createdAt, model: d.model, strategy: d.strategy, cost: d.cost, candidates: d.candidates });

export interface Call {
  readonly method: string;
  readonly payload: unknown;
}

/** The fixture API. `emit` delivers job events to the page; with `hold`, jobs stop after their first
 * progress event until cancelled. */
export class FixtureBridge implements TandemApi {
  readonly calls: Call[] = [];
  hold = false;
  emit: (e: JobEvent) => Promise<void> = async () => {};
  private readonly jobs = new Map<string, { job: JobInfo; result: () => JobResult }>();
  private readonly runs: CodesignRunDetail[] = [codesignFixture('greedy-macs'), codesignFixture('greedy-energy')];
  /** The run a co-design job "writes". */
  readonly nextRun = codesignFixture('greedy-latency');
  private readonly latency = [latencyFixture('qemu-vgg-0'), latencyFixture('host-vgg-0')];
  private readonly profiles = [latencyFixture('profile-qemu'), latencyFixture('profile-host')];

  private log(method: string, payload: unknown): void {
    this.calls.push({ method, payload });
  }

  callsOf(method: string): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.payload);
  }

  async project(): Promise<ProjectInfo> {
    this.log('project', {});
    return {
      version: '0.1.0',
      workspace: '/fixture/workspace',
      models: [{ ref: 'fmnist-vgg', label: 'fmnist-vgg', trained: true }],
      dataset: { name: 'fashion-mnist', dir: null, train: 60000, test: 10000 },
      accelerators: Object.values(PRESETS).map((s) => ({ name: s.name, summary: s.description })),
      targets: [],
      runs: this.runs.map(info),
      jobs: [...FINISHED_JOBS, ...[...this.jobs.values()].map((j) => j.job)],
    };
  }

  async openModel(req: { readonly model: string }): Promise<never> {
    this.log('openModel', req);
    throw new Error(`fixtureBridge: no graph fixture for ${req.model}`);
  }

  async uploadModel(): Promise<never> {
    throw new Error('fixtureBridge: no uploads');
  }

  async startJob(req: JobRequest): Promise<JobInfo> {
    this.log('startJob', req);
    const result = this.resultFor(req);
    const job: JobInfo = { id: `job-${this.jobs.size + 1}`, kind: req.kind, request: req, state: 'running', startedAt: new Date().toISOString(), command: `tandem ${req.kind} (fixture)` };
    this.jobs.set(job.id, { job, result: () => ({ ...result(), job: this.jobs.get(job.id)!.job }) });
    setTimeout(() => void this.play(job.id), 0);
    return job;
  }

  async cancelJob(req: { readonly jobId: string }): Promise<JobInfo> {
    this.log('cancelJob', req);
    const j = this.jobs.get(req.jobId);
    if (!j) throw new Error(`fixtureBridge: no job ${req.jobId}`);
    if (j.job.state === 'running') await this.finish(req.jobId, 'cancelled');
    return this.jobs.get(req.jobId)!.job;
  }

  async jobResult(req: { readonly jobId: string }): Promise<JobResult> {
    this.log('jobResult', req);
    const j = this.jobs.get(req.jobId);
    if (!j || j.job.state !== 'done') throw new Error(`fixtureBridge: job ${req.jobId} has no result`);
    return j.result();
  }

  async schedule(): Promise<never> {
    throw new Error('fixtureBridge: no schedules');
  }

  async latencyDatasets(): Promise<readonly LatencyDatasetInfo[]> {
    this.log('latencyDatasets', {});
    return this.latency.map((c) => {
      const modelIds = datasetModelIds(c.dataset);
      return { name: c.dataset, target: c.target, models: modelIds.length, modelIds };
    });
  }

  async latencyComparison(req: { readonly dataset: string; readonly model?: string; readonly profile?: string }): Promise<LatencyComparison> {
    this.log('latencyComparison', req);
    const c =
      req.profile !== undefined
        ? this.profiles.find((x) => x.dataset === req.dataset && x.profile?.jobId === req.profile)
        : this.latency.find((x) => x.dataset === req.dataset && (req.model === undefined || x.model === req.model));
    if (!c) throw new Error(`fixtureBridge: no latency fixture for ${req.dataset} ${req.profile ?? req.model ?? ''}`);
    return c;
  }

  async ports(): Promise<readonly []> {
    return [];
  }

  async boardInfo(): Promise<never> {
    throw new Error('fixtureBridge: no boards');
  }

  async codesignRun(req: { readonly run: number }): Promise<CodesignRunDetail> {
    this.log('codesignRun', req);
    const d = this.runs.find((r) => r.id === req.run);
    if (!d) throw new Error(`fixtureBridge: no run ${req.run}`);
    return d;
  }

  /** The fixture a request gets; throws for one there is none for (as the server's validation would). */
  private resultFor(req: JobRequest): () => Omit<JobResult, 'job'> {
    if (req.kind === 'codesign') return () => ({ output: this.nextRun });
    // the fixtures ran on 20 images with seed 1
    if (req.kind !== 'simulate' || req.model !== 'fmnist-vgg' || req.limit !== 20 || (req.seed ?? 1) !== 1) throw new Error(`fixtureBridge: no fixture for ${JSON.stringify(req)}`);
    const bits = req.set?.['adc.bits'];
    const name = req.drift
      ? req.accel === DRIFT_ACCEL && req.mode === 'analog' && req.drift.join(',') === '0,1h,1d,1mo,1y' && 'drift'
      : bits !== undefined
        ? req.accel === 'rram-128' && req.mode === 'exact' && (ADC_BITS as readonly number[]).includes(Number(bits)) && `adc${bits}`
        : req.accel === 'rram-128' && req.mode === 'exact' && 'exact';
    if (!name) throw new Error(`fixtureBridge: no simulate fixture for ${JSON.stringify(req)}`);
    const out = simFixture(name);
    return () => ({ output: out, report: out.report });
  }

  private async play(id: string): Promise<void> {
    const total = 3;
    for (let done = 1; done <= total; done++) {
      await new Promise((r) => setTimeout(r, 40));
      const j = this.jobs.get(id)!;
      if (j.job.state !== 'running') return;
      await this.emit({ type: 'progress', jobId: id, phase: j.job.kind, done, total, message: 'fixture' });
      if (this.hold) return;
    }
    if (this.jobs.get(id)!.job.kind === 'codesign') this.runs.push(this.nextRun);
    await this.finish(id, 'done');
  }

  private async finish(id: string, state: 'done' | 'cancelled'): Promise<void> {
    const j = this.jobs.get(id)!;
    j.job = { ...j.job, state, endedAt: new Date().toISOString() };
    await this.emit({ type: 'state', job: j.job });
  }
}
