// The co-design loop: a strategy proposes genomes; each becomes a Plan, a compressed and briefly fine-tuned
// model, an int8 model, and a row of metrics (accuracy, simulated and measured costs), committed to the run
// store in one transaction. A candidate whose Plan is already in the run's store is not evaluated again but
// read back: so `--resume` replays the deterministic strategy against the stored results and continues
// where the killed process stopped, losing at most the candidate in flight.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { graphHash } from './run-store.js';
import { saveGraph } from '../compiler/ir/serialize.js';
import type { Graph } from '../compiler/ir/types.js';
import { finetune } from '../compiler/passes/compress/finetune.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import type { Dataset } from '../compiler/train/dataset.js';
import { evaluate } from '../compiler/train/evaluate.js';
import { writeDirAtomic } from '../compiler/util/atomic.js';
import { type ProgressFn, throwIfAborted, yieldToEventLoop } from '../compiler/util/progress.js';
import { ACCURACY_INFO, measureMetrics, metricInfo, type MetricSources, type MetricValue } from './metrics.js';
import { paretoFront } from './pareto.js';
import { costKey, metricKey, type MetricRef, type Problem } from './problem.js';
import type { Profile } from './profile.js';
import type { Candidate, CodesignResult, LayerDecision, MetricInfo } from './result.js';
import type { CodesignStore, Measurement, StoredCandidate } from './run-store/codesign.js';
import { planKey } from './run-store/codesign.js';
import { applyGenome, decisionText, type Genome, type LayerSpace } from './space.js';

/** What a strategy learns of an evaluated candidate. */
export interface Evaluated extends Pick<Candidate, 'id' | 'plan' | 'metrics' | 'layers'> {
  readonly ordinal: number;
  /** Whether this evaluation was read back from the store (a resumed run). */
  readonly replayed: boolean;
}

export interface SearchContext {
  readonly problem: Problem;
  readonly space: readonly LayerSpace[];
  readonly profile: Profile;
  /** The profile key the strategy allocates by ('macs', 'energy:rram-128', 'latency:qemu' ...). */
  readonly costKey: string;
  readonly baseline: Evaluated;
  /** Evaluates a genome (or reads it back); undefined once the candidate or time budget is spent. */
  evaluate(genome: Genome, strategy: string, why?: ReadonlyMap<string, string>): Promise<Evaluated | undefined>;
  readonly signal?: AbortSignal;
  log(line: string): void;
}

export type Strategy = (ctx: SearchContext) => Promise<void>;

export interface LoopEnv {
  readonly problem: Problem;
  /** The base (float) model. */
  readonly base: Graph;
  readonly space: readonly LayerSpace[];
  readonly profile: Profile;
  readonly sources: MetricSources;
  /** PTQ calibration images (problem.calib of them). */
  readonly calib: { readonly x: Float32Array; readonly n: number };
  readonly train: Dataset;
  /** The validation images accuracy is measured on. */
  readonly val: Dataset;
  readonly store: CodesignStore;
  readonly runId: number;
  /** Where int8 models go, by content hash. */
  readonly modelsDir: string;
  /** Seconds already spent by earlier sessions of this run. */
  readonly spentBefore: number;
  readonly workers?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  readonly log: (line: string) => void;
}

/** Every metric measured on a candidate: MACs and params (free, and the classic cost), objectives, budgets. */
export function problemMetrics(p: Problem): MetricRef[] {
  const refs = new Map<string, MetricRef>([
    ['macs', { metric: 'macs' }],
    ['params', { metric: 'params' }],
  ]);
  for (const m of [...p.objectives, ...p.budgets]) refs.set(metricKey(m), { metric: m.metric, ...(m.on ? { on: m.on } : {}) });
  return [...refs.values()];
}

function measurementsOf(values: ReadonlyMap<string, MetricValue>, refs: readonly MetricRef[]): Measurement[] {
  const out: Measurement[] = [];
  for (const r of refs) {
    const rep = values.get(metricKey(r))?.report;
    if (!rep || !r.on) continue;
    const total = rep.total?.latency;
    if (total) out.push({ target: r.on, layer: '(total)', unit: total.unit, ...(total.clockHz ? { clockHz: total.clockHz } : {}), samples: total.samples });
    for (const row of rep.rows)
      if (row.latency) out.push({ target: r.on, layer: row.layer, unit: row.latency.unit, ...((row.latency.clockHz ?? total?.clockHz) ? { clockHz: row.latency.clockHz ?? total?.clockHz } : {}), samples: row.latency.samples });
  }
  return out;
}

/** Runs the strategy; returns every candidate of the run (baseline first) as stored. */
export async function runLoop(env: LoopEnv, strategy: Strategy, strategyName: string): Promise<StoredCandidate[]> {
  const { problem: p } = env;
  const refs = problemMetrics(p);
  const stored = new Map(env.store.candidates(env.runId).map((c) => [c.planKey, c]));
  let next = stored.size;
  let spent = env.spentBefore;
  const limit = p.limits.candidates + 1; // + the baseline
  const asEvaluated = (c: StoredCandidate, replayed: boolean): Evaluated => ({ id: `c${c.ordinal}`, ordinal: c.ordinal, plan: c.plan, metrics: c.metrics, layers: c.layers, replayed });

  const evaluateGenome = async (genome: Genome, strategyLabel: string, why?: ReadonlyMap<string, string>): Promise<Evaluated | undefined> => {
    await yieldToEventLoop();
    throwIfAborted(env.signal);
    const applied = applyGenome(env.base, env.space, genome, p.seed, (l) => why?.get(l) ?? '');
    const key = planKey(applied.plan);
    const have = stored.get(key);
    if (have) return asEvaluated(have, true);
    if (next >= limit) return undefined;
    if (p.limits.minutes !== undefined && spent >= p.limits.minutes * 60) return undefined;
    const t0 = performance.now();
    const ordinal = next;
    env.onProgress?.({ phase: 'candidate', done: Math.min(ordinal, limit - 1), total: limit - 1, message: `c${ordinal} ${strategyLabel}` });
    env.log(`c${ordinal} (${strategyLabel}): ${env.space.map((s, i) => (genome[i] ? `${s.layer} ${decisionText(env.base, applied.plan, s.layer)}` : '')).filter(Boolean).join(', ') || 'the base model'}`);
    const empty = Object.keys(applied.plan.layers).length === 0;
    const tuned =
      empty || p.finetune.images === 0
        ? applied.graph
        : await finetune(applied.graph, { task: 'classification', train: env.train, epochs: Math.min(1, p.finetune.images / env.train.size), seed: p.seed, lr: p.finetune.lr, workers: env.workers, signal: env.signal });
    const int8 = quantizeGraph(tuned, env.calib, DEFAULT_QUANTIZE).graph;
    await yieldToEventLoop();
    throwIfAborted(env.signal);
    const q = await evaluate(int8, env.val, 'classification', { workers: env.workers, signal: env.signal });
    if (q.task !== 'classification') throw new Error('unreachable: classification quality expected');
    await yieldToEventLoop();
    throwIfAborted(env.signal);
    const values = await measureMetrics(int8, refs, env.sources);
    const metrics: Record<string, number> = { accuracy: 100 * q.accuracy };
    for (const [k, v] of values) metrics[k] = v.value;
    const layers: LayerDecision[] = env.space.map((s) => ({
      layer: s.layer,
      decision: decisionText(env.base, applied.plan, s.layer),
      reason: applied.plan.layers[s.layer]?.reason || (applied.plan.layers[s.layer] ? '' : 'left as it is'),
      cost: Object.fromEntries([...values].filter(([, v]) => v.perLayer.has(s.layer)).map(([k, v]) => [k, v.perLayer.get(s.layer)!])),
    }));
    const modelHash = graphHash(int8);
    const dir = path.join(env.modelsDir, modelHash);
    if (!existsSync(dir)) await writeDirAtomic(dir, (tmp) => saveGraph(tmp, int8));
    const c: StoredCandidate = { ordinal, planKey: key, strategy: strategyLabel, plan: applied.plan, seed: p.seed, metrics, layers, modelHash, seconds: (performance.now() - t0) / 1000 };
    throwIfAborted(env.signal); // a cancel during the last step must not commit a candidate measured half-way
    env.store.addCandidate(env.runId, c, measurementsOf(values, refs));
    stored.set(key, c);
    next++;
    spent += c.seconds;
    env.log(`c${ordinal}: ${Object.entries(metrics).map(([k, v]) => `${k} ${Number(v.toPrecision(5))}`).join(', ')} (${c.seconds.toFixed(1)} s)`);
    return asEvaluated(c, false);
  };

  const baseline = await evaluateGenome(env.space.map(() => 0), 'baseline');
  if (!baseline) throw new Error('no budget left for the baseline');
  await strategy({
    problem: p,
    space: env.space,
    profile: env.profile,
    costKey: costKey(p),
    baseline,
    evaluate: evaluateGenome,
    signal: env.signal,
    log: env.log,
  });
  env.log(`${strategyName}: ${stored.size} candidates`);
  return [...stored.values()].sort((a, b) => a.ordinal - b.ordinal);
}

/** Metric infos: accuracy, the objectives, then budget-only metrics. */
export function resultMetrics(p: Problem): MetricInfo[] {
  const infos = [ACCURACY_INFO, ...p.objectives.map((o) => metricInfo(o, o.surrogate))];
  for (const b of [...p.budgets, { metric: 'macs' as const }, { metric: 'params' as const }]) if (!infos.some((i) => i.key === metricKey(b))) infos.push(metricInfo(b));
  return infos;
}

/** Feasibility, the Pareto front over accuracy and the objectives, and the chosen candidate. */
export function assembleResult(
  p: Problem,
  cands: readonly StoredCandidate[],
  o: { run: number; store: string; command: string; seconds: number; createdAt?: string },
): CodesignResult {
  const base = cands.find((c) => c.ordinal === 0);
  if (!base) throw new Error('the run has no baseline candidate');
  const floor = base.metrics.accuracy - p.accuracy.maxDropPp;
  const objectives = ['accuracy', ...p.objectives.map(metricKey)];
  const infos = resultMetrics(p);
  const dirs = objectives.map((k) => infos.find((i) => i.key === k)!.direction);
  const checked = cands.map((c) => {
    const violations: string[] = [];
    if (c.metrics.accuracy < floor) violations.push(`accuracy ${c.metrics.accuracy.toFixed(2)}% < ${floor.toFixed(2)}% (base ${base.metrics.accuracy.toFixed(2)}% − ${p.accuracy.maxDropPp} pp)`);
    for (const b of p.budgets) {
      const v = c.metrics[metricKey(b)];
      if (v > b.max) violations.push(`${metricKey(b)} ${Number(v.toPrecision(5))} > ${b.max}`);
    }
    return { c, violations };
  });
  const feasible = checked.filter((x) => x.violations.length === 0);
  const front = new Set(paretoFront(feasible.map((x) => objectives.map((k) => x.c.metrics[k])), dirs).map((i) => feasible[i].c.ordinal));
  // the answer: best on the first hardware objective among the feasible; ties to the more accurate
  const first = objectives[1];
  const chosen = [...feasible].sort((a, b) => a.c.metrics[first] - b.c.metrics[first] || b.c.metrics.accuracy - a.c.metrics.accuracy || a.c.ordinal - b.c.ordinal)[0];
  const candidates: Candidate[] = checked.map(({ c, violations }) => ({
    id: `c${c.ordinal}`,
    strategy: c.strategy,
    plan: c.plan,
    metrics: c.metrics,
    layers: c.layers,
    feasible: violations.length === 0,
    violations,
    onFront: front.has(c.ordinal),
    ...(c.modelHash ? { modelHash: c.modelHash } : {}),
    seconds: c.seconds,
  }));
  return {
    format: 'tandem-codesign-result',
    version: 1,
    createdAt: o.createdAt ?? new Date().toISOString(),
    run: o.run,
    store: o.store,
    command: o.command,
    seed: p.seed,
    problem: p,
    baseline: base.metrics,
    metrics: infos,
    objectives,
    candidates,
    ...(chosen ? { chosen: `c${chosen.c.ordinal}` } : {}),
    seconds: o.seconds,
  };
}
