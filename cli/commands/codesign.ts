// `tandem codesign [problem.(json|yaml)]`: the co-design loop. Validates the problem, opens the store, the
// accelerators and targets, profiles every layer option, checks that each hard budget is reachable at all,
// then runs the strategy, recording each candidate as it is evaluated; writes front.json, front.csv,
// report.html and the chosen model (ONNX, board blob, Schedule, Plan) to the output folder atomically.
// `--resume <run>` continues a killed or cancelled run from its store.
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { assembleResult, problemMetrics, runLoop, type Strategy } from '../../codesign/loop.js';
import { measureMetrics, type MetricSources } from '../../codesign/metrics.js';
import { costKey, metricKey, type MetricRef, type Problem, ProblemError, readProblem, validateProblem } from '../../codesign/problem.js';
import { type Profile, profileOptions } from '../../codesign/profile.js';
import { resultCsv } from '../../codesign/report/csv.js';
import { resultHtml } from '../../codesign/report/html.js';
import type { CodesignResult } from '../../codesign/result.js';
import { RunStore, storePath } from '../../codesign/run-store.js';
import { canonicalJson, sha256 } from '../../codesign/run-store/codesign.js';
import { applyGenome, decisionText, searchSpace } from '../../codesign/space.js';
import { greedy } from '../../codesign/strategies/greedy.js';
import { musco } from '../../codesign/strategies/musco.js';
import { nsga2 } from '../../codesign/strategies/nsga2.js';
import type { Target } from '../../compiler/contracts/target.js';
import { loadGraph, saveGraph } from '../../compiler/ir/serialize.js';
import { resolveModel } from '../../compiler/models/registry.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../../compiler/passes/quantize/quantize.js';
import { writeDirAtomic } from '../../compiler/util/atomic.js';
import { exportOnnx } from '../../compiler/export/onnx.js';
import { writeBlob } from '../../hw-targets/blob/write.js';
import { openTarget, parseTarget } from '../../hw-targets/targets/open.js';
import { scheduleFor } from '../../sim/schedule-for.js';
import { loadSpec } from '../../sim/spec/validate.js';
import { num, table } from '../table.js';
import type { DataOptions } from './data.js';
import { startModelRun } from './model-run.js';

export interface CodesignFlags extends DataOptions {
  readonly out?: string;
  readonly store?: string;
  readonly resume?: number;
  readonly model?: string;
  readonly objective?: readonly string[];
  readonly budget?: readonly string[];
  readonly strategy?: string;
  readonly cost?: string;
  readonly candidates?: number;
  readonly minutes?: number;
  readonly maxDrop?: number;
  readonly seed?: number;
  readonly workers?: number;
  readonly json?: boolean;
}

const STRATEGY_FNS: Readonly<Record<string, Strategy>> = { greedy, musco, nsga2 };

/** 'energy:rram-128' | 'latency:qemu' | 'params' -> MetricRef (validated with the rest of the problem). */
function refOf(s: string): { metric: string; on?: string } {
  const i = s.indexOf(':');
  return i < 0 ? { metric: s } : { metric: s.slice(0, i), on: s.slice(i + 1) };
}

/** The problem from a file and/or flags; flags override the file's fields. */
export function problemFrom(file: string | undefined, f: CodesignFlags): Problem {
  const raw: Record<string, unknown> = file ? { ...(readProblem(file) as unknown as Record<string, unknown>) } : {};
  if (f.model) raw.model = f.model;
  if (f.objective?.length) raw.objectives = f.objective.map(refOf);
  if (f.budget?.length)
    raw.budgets = f.budget.map((b) => {
      const m = /^(.+?)<=(.+)$/.exec(b);
      if (!m) throw new ProblemError(`--budget ${b}: expected <metric>[:<on>]<=<max>, e.g. arrays:rram-128<=64 or latency:qemu<=5`);
      return { ...refOf(m[1]), max: Number(m[2]) };
    });
  const search = { ...((raw.search as object) ?? {}), ...(f.strategy ? { strategy: f.strategy } : {}), ...(f.cost ? { cost: f.cost } : {}) };
  if (Object.keys(search).length) raw.search = search;
  const limits = { ...((raw.limits as object) ?? {}), ...(f.candidates !== undefined ? { candidates: f.candidates } : {}), ...(f.minutes !== undefined ? { minutes: f.minutes } : {}) };
  if (Object.keys(limits).length) raw.limits = limits;
  if (f.maxDrop !== undefined) raw.accuracy = { ...((raw.accuracy as object) ?? {}), maxDropPp: f.maxDrop };
  if (f.seed !== undefined) raw.seed = f.seed;
  return validateProblem(raw, file ? `${file}${f.model || f.objective || f.budget || f.strategy || f.cost ? ' (with command-line flags)' : ''}` : 'command line');
}

/** Which metric stands in for each profiled key: an objective's surrogate, else the metric itself. */
function profiledMetrics(p: Problem): Map<string, MetricRef> {
  const m = new Map<string, MetricRef>([
    ['macs', { metric: 'macs' }],
    ['params', { metric: 'params' }],
  ]);
  for (const o of p.objectives) m.set(metricKey(o), o.surrogate ? { metric: 'latency', on: o.surrogate } : o);
  for (const b of p.budgets) if (!m.has(metricKey(b))) m.set(metricKey(b), b);
  return m;
}

async function openSources(p: Problem, calib: MetricSources['calib'], input: Float32Array, signal: AbortSignal): Promise<{ sources: MetricSources; close(): Promise<void> }> {
  const accels = new Map<string, ReturnType<typeof loadSpec>>();
  const targets = new Map<string, Target>();
  const close = async () => {
    for (const t of targets.values()) await t.close().catch(() => {});
  };
  try {
    for (const r of [...problemMetrics(p), ...[...profiledMetrics(p).values()]]) {
      if (!r.on) continue;
      const accel = r.metric !== 'latency' ? r.on : r.on.startsWith('sim:') ? r.on.slice(4) : undefined;
      if (accel !== undefined) {
        if (!accels.has(accel)) accels.set(accel, loadSpec(accel));
      } else if (!targets.has(r.on)) {
        const spec = parseTarget(r.on);
        if (spec.kind === 'sim') throw new ProblemError(`latency on ${r.on}: write sim:<accel> for the accelerator's cost model`);
        const t = await openTarget(spec, { signal });
        targets.set(r.on, t);
        await t.describe(); // a missing port or board fails here, before anything is stored
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { sources: { accels, targets, calib, input, signal }, close };
}

function summaryText(r: CodesignResult): string {
  const cols = r.metrics.map((m) => m.key);
  const rows = r.candidates.map((c) => [
    c.id + (c.id === r.chosen ? ' *' : ''),
    c.strategy,
    ...cols.map((k) => (c.metrics[k] === undefined ? '' : k === 'accuracy' ? c.metrics[k].toFixed(2) : num(Number(c.metrics[k].toPrecision(4))))),
    c.feasible ? (c.onFront ? 'front' : 'yes') : 'no',
  ]);
  const lines = [table(['id', 'strategy', ...r.metrics.map((m) => `${m.key} (${m.unit})`), 'feasible'], rows, ['l', 'l', ...cols.map(() => 'r' as const), 'l'])];
  const ch = r.candidates.find((c) => c.id === r.chosen);
  if (ch) {
    lines.push(`chosen ${ch.id}: ${ch.layers.filter((l) => l.decision !== 'original').map((l) => `${l.layer} ${l.decision}`).join(', ') || 'the base model'}`);
  } else lines.push('no candidate meets the accuracy constraint and the budgets');
  return lines.join('\n') + '\n';
}

export async function codesignCommand(file: string | undefined, f: CodesignFlags, embedded?: Problem): Promise<CodesignResult> {
  const t0 = performance.now();
  const storeFile = storePath(f.store);
  let problem: Problem;
  let store: RunStore | undefined;
  let runId: number | undefined;
  if (f.resume !== undefined) {
    store = RunStore.open(storeFile, { mustExist: true });
    const run = store.codesign().getRun(f.resume);
    if (!run) throw new ProblemError(`--resume ${f.resume}: no co-design run ${f.resume} in ${storeFile}`);
    problem = validateProblem(run.problem, `run ${f.resume} in ${storeFile}`);
    if (file || f.model || f.objective || f.budget) {
      const given = problemFrom(file, f);
      if (sha256(canonicalJson(given)) !== run.problemHash) throw new ProblemError(`--resume ${f.resume}: the problem given differs from the run's; resume without a problem file or flags`);
    }
    runId = f.resume;
  } else {
    problem = embedded ?? problemFrom(file, f);
    // An existing store is checked now (a corrupt one fails before any work); a new one is created only when
    // the run is, so a problem that fails its checks leaves no store behind.
    if (existsSync(storeFile)) store = RunStore.open(storeFile);
  }
  const out = path.resolve(f.out ?? `codesign-out`);
  const strategy = STRATEGY_FNS[problem.search.strategy];
  if (!strategy) throw new ProblemError(`search.strategy ${problem.search.strategy}: not available yet (available: ${Object.keys(STRATEGY_FNS).join(', ')})`);
  const m = await resolveModel(problem.model);
  if (m.task !== 'classification') throw new ProblemError(`model ${problem.model}: the co-design loop takes a classifier (task ${m.task})`);
  const run = await startModelRun(m, { ...f, calib: problem.calib, json: f.json });
  const { data, calib, signal, log } = run;
  const per = data.test.inputShape.reduce((a, b) => a * b, 1);
  const input = new Float32Array(per);
  data.test.fill([0], input, new Float32Array(data.test.targetSize));
  const val = { ...data.val, size: Math.min(problem.accuracy.images, data.val.size) };
  const { sources, close } = await openSources(problem, calib, input, signal);
  try {
    const space = searchSpace(m.graph, problem.space);
    const stored = runId !== undefined ? store!.codesign().getRun(runId) : undefined;
    let profile = stored?.profile as Profile | undefined;
    const profileCalib = { x: calib.x.subarray(0, Math.min(64, calib.n) * per), n: Math.min(64, calib.n) };
    // The profile depends on the model, space, metrics, calibration and seed, not on the strategy or its cost:
    // a run of another strategy on the same problem reuses it.
    const profileKey = (q: Problem) => canonicalJson({ model: q.model, dataset: q.dataset, objectives: q.objectives, budgets: q.budgets, space: q.space, calib: q.calib, seed: q.seed });
    if (!profile && store) {
      const same = store.codesign().findProfile((q) => {
        try {
          return profileKey(validateProblem(q, 'stored run')) === profileKey(problem);
        } catch {
          return false;
        }
      });
      if (same) {
        profile = same.profile as Profile;
        log(`option profile reused from run ${same.id} (same model, space, metrics, calibration and seed)`);
      }
    }
    const tProfile = performance.now();
    if (!profile) {
      log(`profiling ${space.reduce((a, s) => a + s.options.length - 1, 0)} options of ${space.length} layers (each alone; sensitivity on ${profileCalib.n} images)`);
      profile = await profileOptions(m.graph, space, { calib: profileCalib, sources, metrics: profiledMetrics(problem), seed: problem.seed, signal, onProgress: run.progress });
      // Each budget must be reachable: the plan cheapest on that budget's metric, measured for real.
      for (const b of problem.budgets) {
        const key = metricKey(b);
        const genome = profile.layers.map((l) => l.options.reduce((bi, o, i, os) => (o.cost[key] < os[bi].cost[key] ? i : bi), 0));
        const { graph: g, plan } = applyGenome(m.graph, space, genome, problem.seed);
        const v = (await measureMetrics(quantizeGraph(g, calib, DEFAULT_QUANTIZE).graph, [b], sources)).get(key)!.value;
        if (v > b.max) {
          throw new ProblemError(
            `budget ${key} <= ${b.max} is impossible: the cheapest plan in the search space (${space.map((s) => `${s.layer} ${decisionText(m.graph, plan, s.layer)}`).join(', ')}) still needs ${Number(v.toPrecision(5))}; widen space.ranks / space.prune or raise the budget`,
          );
        }
      }
    }
    if (runId === undefined) {
      store ??= RunStore.open(storeFile);
      runId = store.codesign().createRun(problem, problem.seed, process.argv.slice(2), profile, (performance.now() - tProfile) / 1000);
      log(`co-design run ${runId} in ${storeFile} (resume with: tandem codesign --resume ${runId} --store ${storeFile})`);
    }
    const id = runId!;
    const cs = store!.codesign();
    const cands = await runLoop(
      {
        problem,
        base: m.graph,
        space,
        profile,
        sources,
        calib,
        train: data.train,
        val,
        store: cs,
        runId: id,
        modelsDir: path.join(path.dirname(storeFile), 'models'),
        spentBefore: cs.getRun(id)!.seconds,
        workers: f.workers,
        signal,
        onProgress: run.progress,
        log,
      },
      strategy,
      `${problem.search.strategy}:${costKey(problem)}`,
    );
    // the store as the user named it (--store as given), so a result carries no path of this machine's
    const result = assembleResult(problem, cands, { run: id, store: f.store ?? storeFile, command: `tandem ${process.argv.slice(2).join(' ')}`, seconds: cs.getRun(id)!.seconds });
    await writeOutputs(out, result, problem, path.join(path.dirname(storeFile), 'models'), calib);
    cs.complete(id, result);
    run.stop();
    if (f.json) process.stdout.write(JSON.stringify({ run: id, out, chosen: result.chosen, candidates: result.candidates.length, seconds: (performance.now() - t0) / 1000 }) + '\n');
    else process.stdout.write(summaryText(result) + `written to ${out} (front.json, front.csv, report.html${result.chosen ? ', chosen/' : ''}) in ${((performance.now() - t0) / 1000).toFixed(0)} s; run ${id} in ${storeFile}\n`);
    return result;
  } finally {
    await close();
    store?.close();
  }
}

async function writeOutputs(out: string, r: CodesignResult, p: Problem, modelsDir: string, calib: { x: Float32Array; n: number }): Promise<void> {
  const chosen = r.candidates.find((c) => c.id === r.chosen);
  await writeDirAtomic(out, async (tmp) => {
    await fs.writeFile(path.join(tmp, 'front.json'), JSON.stringify(r, null, 1));
    await fs.writeFile(path.join(tmp, 'front.csv'), resultCsv(r));
    await fs.writeFile(path.join(tmp, 'report.html'), resultHtml(r));
    if (!chosen?.modelHash) return;
    const int8 = await loadGraph(path.join(modelsDir, chosen.modelHash));
    const dir = path.join(tmp, 'chosen');
    await saveGraph(dir, int8);
    await exportOnnx(int8, path.join(dir, 'model.onnx'));
    await fs.writeFile(path.join(dir, 'plan.json'), JSON.stringify(chosen.plan, null, 1));
    await fs.writeFile(path.join(dir, 'model.blob'), writeBlob(int8));
    const accel = p.objectives.concat(p.budgets).find((o) => o.metric === 'energy' || o.metric === 'arrays' || o.on?.startsWith('sim:'));
    if (accel?.on) {
      const { schedule } = scheduleFor(int8, loadSpec(accel.on.replace(/^sim:/, '')), calib);
      await fs.writeFile(path.join(dir, 'schedule.json'), JSON.stringify(schedule));
    }
  });
}
