// `tandem compare-fronts <a/front.json> <b/front.json>`: how two co-design runs of one problem (e.g. MACs-only
// against hardware-aware allocation) compare on each objective: the best feasible value of each (the same
// accuracy constraint), B's change against A, and per objective in the (accuracy, objective) plane the share
// of each front the other dominates (Zitzler's C) and both hypervolumes against one reference point.
import { readFileSync } from 'node:fs';
import { DataError } from '../../compiler/data/errors.js';
import { compareFronts, type Direction } from '../../codesign/pareto.js';
import type { CodesignResult } from '../../codesign/result.js';
import { table } from '../table.js';

function readResult(file: string): CodesignResult {
  let r: CodesignResult;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as CodesignResult;
  } catch (e) {
    throw new DataError(`${file}: cannot read a co-design result (${(e as Error).message})`);
  }
  if (r.format !== 'tandem-codesign-result') throw new DataError(`${file}: field format: expected "tandem-codesign-result", got ${JSON.stringify(r.format)}`);
  return r;
}

export interface CompareRow {
  readonly objective: string;
  readonly unit: string;
  readonly bestA?: { id: string; value: number; accuracy: number };
  readonly bestB?: { id: string; value: number; accuracy: number };
  /** (B − A) / A of the best feasible values. */
  readonly change?: number;
  /** Shares of the other's feasible points in the (accuracy, objective) plane that each weakly dominates. */
  readonly aCoversB?: number;
  readonly bCoversA?: number;
  readonly hypervolumeA?: number;
  readonly hypervolumeB?: number;
}

export function compareResults(a: CodesignResult, b: CodesignResult): CompareRow[] {
  const keys = a.objectives.filter((k) => k !== 'accuracy' && b.objectives.includes(k));
  return keys.map((key) => {
    const info = a.metrics.find((m) => m.key === key)!;
    const best = (r: CodesignResult) => {
      const f = r.candidates.filter((c) => c.feasible && c.metrics[key] !== undefined);
      const sign = info.direction === 'min' ? 1 : -1;
      const c = [...f].sort((x, y) => sign * (x.metrics[key] - y.metrics[key]) || y.metrics.accuracy - x.metrics.accuracy)[0];
      return c ? { id: c.id, value: c.metrics[key], accuracy: c.metrics.accuracy } : undefined;
    };
    const bestA = best(a);
    const bestB = best(b);
    const pts = (r: CodesignResult) => r.candidates.filter((c) => c.feasible).map((c) => [c.metrics.accuracy, c.metrics[key]]);
    const pa = pts(a);
    const pb = pts(b);
    const dirs: Direction[] = ['max', info.direction];
    const cmp = pa.length && pb.length ? compareFronts(pa, pb, dirs) : undefined;
    return {
      objective: key,
      unit: info.unit,
      ...(bestA ? { bestA } : {}),
      ...(bestB ? { bestB } : {}),
      ...(bestA && bestB ? { change: (bestB.value - bestA.value) / bestA.value } : {}),
      ...(cmp ? { aCoversB: cmp.aCoversB, bCoversA: cmp.bCoversA, hypervolumeA: cmp.hypervolumeA, hypervolumeB: cmp.hypervolumeB } : {}),
    };
  });
}

export function compareFrontsCommand(fileA: string, fileB: string, f: { json?: boolean }): void {
  const a = readResult(fileA);
  const b = readResult(fileB);
  if (JSON.stringify(a.baseline) !== JSON.stringify(b.baseline)) process.stderr.write(`note: the two runs' baselines differ (${fileA} vs ${fileB}): different problems or seeds\n`);
  const rows = compareResults(a, b);
  if (f.json) {
    process.stdout.write(JSON.stringify({ a: fileA, b: fileB, rows }) + '\n');
    return;
  }
  const g = (x?: number) => (x === undefined ? '-' : String(Number(x.toPrecision(4))));
  const pc = (x?: number) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
  const best = (x?: { id: string; value: number; accuracy: number }) => (x ? `${g(x.value)} (${x.id}, ${x.accuracy.toFixed(2)}%)` : 'none feasible');
  process.stdout.write(
    [
      `A = ${fileA} (${a.candidates[1]?.strategy ?? a.candidates[0]?.strategy}), B = ${fileB} (${b.candidates[1]?.strategy ?? b.candidates[0]?.strategy}); feasible = each run's accuracy constraint and budgets`,
      table(
        ['objective', 'best A', 'best B', 'B vs A', 'A covers B', 'B covers A', 'hypervolume A', 'hypervolume B'],
        rows.map((r) => [`${r.objective} (${r.unit})`, best(r.bestA), best(r.bestB), r.change === undefined ? '-' : `${r.change >= 0 ? '+' : ''}${(100 * r.change).toFixed(1)}%`, pc(r.aCoversB), pc(r.bCoversA), g(r.hypervolumeA), g(r.hypervolumeB)]),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    ].join('\n') + '\n',
  );
}
