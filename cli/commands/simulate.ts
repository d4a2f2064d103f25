// `tandem simulate <model|compiled dir> --accel <preset|file>`: the test set through the simulated CIM
// accelerator (exact or analog, Monte-Carlo seeds, drift times): accuracy (mean ± std over seeds),
// per-layer error against float and exact int8, latency, energy; a table per drift time.
import { DataError } from '../../compiler/data/errors.js';
import type { Report } from '../../compiler/contracts/report.js';
import { costOf, type CostReport } from '../../sim/cost/model.js';
import { evaluateOnAccelerator, type SimEvaluation } from '../../sim/evaluate.js';
import type { SimMode } from '../../sim/simulate.js';
import { writeDirAtomic } from '../../compiler/util/atomic.js';
import { cliProgress, interruptSignal } from '../progress.js';
import { table } from '../table.js';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { type AccelFlags, prepare } from './accel.js';
import { costText } from './compile.js';

export interface SimulateFlags extends AccelFlags {
  readonly mode?: SimMode;
  readonly mc?: number;
  readonly seed?: number;
  readonly drift?: string;
  readonly driftCompensation?: boolean;
  readonly limit?: number;
  readonly batch?: number;
  readonly digits?: boolean;
  readonly out?: string;
}

const UNITS: Record<string, number> = { s: 1, min: 60, h: 3600, d: 86400, w: 604800, mo: 2629800, y: 31557600 };

/** '1d' -> 86400; '0' -> 0; a plain number is seconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e[+-]?\d+)?)(s|min|h|d|w|mo|y)?$/i.exec(s.trim());
  if (!m) throw new DataError(`--drift ${s}: expected a time such as 0, 1s, 10min, 1h, 1d, 1w, 1mo, 1y`);
  return Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: readonly number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const pm = (xs: readonly number[], f: (x: number) => string) => (xs.length > 1 ? `${f(mean(xs))} ± ${f(std(xs))}` : f(xs[0]));
const db = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'exact');

interface DriftRun {
  readonly timeS: number;
  readonly label: string;
  readonly result: SimEvaluation;
}

export interface SimulateReport {
  readonly model: { readonly name: string; readonly hash: string };
  readonly accelerator: string;
  readonly command: string;
  readonly mode: SimMode;
  readonly seeds: readonly number[];
  readonly notes: readonly string[];
  readonly runs: readonly DriftRun[];
  readonly cost: CostReport;
  /** The shared per-layer Report schema (first drift time), for the UI and the co-design loop. */
  readonly report: Report;
}

function runText(r: DriftRun, mode: SimMode): string {
  const e = r.result;
  const rows = e.layers.map((l) => [
    l.layer,
    pm(
      l.vsFloat.map((m) => m.sqnrDb!),
      db,
    ),
    pm(
      l.vsExact.map((m) => m.sqnrDb!),
      db,
    ),
    mean(l.vsExact.map((m) => m.relativeError!)).toExponential(2),
    mean(l.vsExact.map((m) => m.cosine!)).toFixed(5),
  ]);
  return [
    `${mode === 'analog' ? `t = ${r.label} after programming: ` : ''}accuracy ${pm(e.accuracy, pct)} on ${e.images} test images (${e.seeds.length} seed${e.seeds.length > 1 ? 's' : ''}); exact int8 ${pct(e.exactInt8Accuracy)}, float ${pct(e.floatAccuracy)}`,
    ...(e.vsInt8 ? [`against the integer-only executor: ${e.vsInt8.differing} of ${e.vsInt8.codes} codes differ, ${e.vsInt8.top1Differing} of ${e.images} top-1 differ${e.vsInt8.differing ? ' (the ADC rounds or clips)' : ' (bit for bit)'}`] : []),
    table(['layer', 'SQNR vs float dB', 'SQNR vs int8 dB', 'rel L2 vs int8', 'cosine vs int8'], rows, ['l', 'r', 'r', 'r', 'r']),
  ].join('\n');
}

export async function simulateCommand(model: string, f: SimulateFlags): Promise<void> {
  const progress = cliProgress({ quiet: !!f.json });
  const signal = interruptSignal();
  const mode = f.mode ?? 'analog';
  const mc = f.mc ?? 1;
  if (!Number.isInteger(mc) || mc < 1) throw new DataError(`--mc ${mc}: expected at least 1 Monte-Carlo seed`);
  const seed = f.seed ?? 1;
  const seeds = Array.from({ length: mode === 'exact' ? 1 : mc }, (_, i) => seed + i);
  const drifts = (f.drift ?? '0').split(',').map((s) => ({ label: s.trim(), timeS: parseDuration(s) }));
  const p = await prepare(model, f, progress.update, signal);
  const test = p.data.test;
  const n = Math.min(f.limit ?? test.size, test.size);
  const per = test.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * per);
  const labels = new Float32Array(n);
  test.fill(
    Array.from({ length: n }, (_, i) => i),
    x,
    labels,
  );
  const reference = p.graph === p.model.graph ? undefined : p.model.graph;
  const runs: DriftRun[] = [];
  for (const d of mode === 'exact' ? drifts.slice(0, 1) : drifts) {
    const result = await evaluateOnAccelerator(p.graph, p.schedule, x, labels, n, { mode, seeds, timeS: d.timeS, driftCompensation: f.driftCompensation, reference, batch: f.batch, digits: f.digits, signal, onProgress: progress.update });
    runs.push({ ...d, result });
  }
  const cost = costOf(p.schedule);
  const command = ['tandem simulate', model, `--accel ${f.accel}`, ...(f.set ?? []).map((s) => `--set ${s}`), `--mode ${mode}`, mode === 'analog' ? `--mc ${mc} --seed ${seed} --drift ${drifts.map((d) => d.label).join(',')}` : '', f.driftCompensation === false ? '--no-drift-compensation' : '', f.limit ? `--limit ${f.limit}` : '', f.digits ? '--digits' : ''].filter(Boolean).join(' ');
  const executor = `sim:${p.spec.name}${mode === 'exact' ? ':exact' : ''}`;
  const first = runs[0].result;
  const costBy = new Map(cost.layers.map((l) => [l.layer, l]));
  const report: Report = {
    model: p.graph.name,
    executor,
    createdAt: new Date().toISOString(),
    seed,
    rows: first.layers.map((l) => {
      const c = costBy.get(l.layer)!;
      return { layer: l.origin, executor, nodes: [l.layer], macs: c.macs, error: l.vsFloat[0], latency: { unit: 's', samples: [c.timeNs * 1e-9] }, energy: { joules: Object.values(c.energyPj).reduce((a, b) => a + b, 0) * 1e-12, breakdown: Object.fromEntries(Object.entries(c.energyPj).map(([k, v]) => [k, v * 1e-12])) } };
    }),
    total: { accuracy: mean(first.accuracy), macs: cost.macs, latency: { unit: 's', samples: [cost.latencyNs * 1e-9] }, energy: { joules: cost.energyPerInferencePj * 1e-12 } },
  };
  const out: SimulateReport = { model: p.schedule.model, accelerator: p.spec.name, command, mode, seeds, notes: [...p.notes, ...p.schedule.notes], runs, cost, report };
  const curve = runs.length > 1 ? table(['time after programming', 'accuracy'], runs.map((r) => [r.label, pm(r.result.accuracy, pct)]), ['l', 'r']) : '';
  const text = [`${p.graph.name} on ${p.spec.name} (${mode})`, ...out.notes.map((s) => `note: ${s}`), ...runs.map((r) => runText(r, mode)), curve, costText(cost), `reproduce: ${command}`].filter(Boolean).join('\n') + '\n';
  if (f.out) {
    await writeDirAtomic(f.out, async (tmp) => {
      await fs.writeFile(path.join(tmp, 'simulation.json'), JSON.stringify(out, null, 1) + '\n');
      await fs.writeFile(path.join(tmp, 'simulation.txt'), text);
    });
  }
  progress.stop();
  process.stdout.write(f.json ? JSON.stringify(out) + '\n' : text);
}
