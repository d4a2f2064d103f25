// `tandem runs` (list the stored runs, filtered by model and target) and `tandem runs show <id>` (one run's
// per-layer table) over the run store (codesign/run-store.ts).
import { RunStore, RunStoreError, type RunSummary, type StoredRun, storePath } from '../../codesign/run-store.js';
import { num, table } from '../table.js';

export interface RunsFlags {
  readonly store?: string;
  readonly model?: string;
  readonly target?: string;
  readonly limit?: number;
  readonly json?: boolean;
}

/** A value in the row's unit: cycles as an integer count, seconds as µs. */
function fmt(v: number | undefined, unit: string | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  return unit === 's' ? `${(v * 1e6).toFixed(1)} us` : num(Math.round(v));
}

function withStore<T>(flag: string | undefined, fn: (s: RunStore) => T): T {
  // mustExist: a mistyped --store is an error, not an empty list in a new file
  const s = RunStore.open(storePath(flag), { mustExist: true });
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

function listText(file: string, runs: readonly RunSummary[]): string {
  if (!runs.length) return `no runs in ${file}\n`;
  const rows = runs.map((r) => [
    r.id,
    r.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    r.command,
    r.model.name,
    r.model.hash.slice(0, 10),
    r.targetSpec,
    r.images !== undefined && r.repeats !== undefined ? `${r.images}x${r.repeats}` : '',
    r.layers,
    fmt(r.total?.median, r.total?.unit),
    fmt(r.total?.iqr, r.total?.unit),
  ]);
  return `${file}\n${table(['id', 'created', 'command', 'model', 'model hash', 'target', 'images x repeats', 'layers', 'total median', 'IQR'], rows, ['r', 'l', 'l', 'l', 'l', 'l', 'r', 'r', 'r', 'r'])}\n`;
}

export function runsCommand(f: RunsFlags): void {
  withStore(f.store, (s) => {
    const runs = s.list({ model: f.model, target: f.target, limit: f.limit });
    process.stdout.write(f.json ? JSON.stringify({ store: s.file, runs }) + '\n' : listText(s.file, runs));
  });
}

function showText(file: string, r: StoredRun): string {
  const rep = r.report;
  const head = [
    `run ${r.id} in ${file}: ${r.command} ${r.model.name} (graph ${rep.model}, sha256 ${r.model.hash.slice(0, 16)}) on ${r.target.name}`,
    `created ${r.report.createdAt}; target ${r.targetSpec}; executor ${rep.executor}; options ${JSON.stringify(r.options)}`,
    ...(r.notes ?? []).map((n) => `note: ${n}`),
  ];
  const rows = rep.rows.map((l, i) => {
    const st = r.layerStats[i];
    const u = l.latency?.unit;
    return [l.layer, l.macs !== undefined ? num(l.macs) : '', u ?? '', st ? String(st.n) : '', fmt(st?.median, u), fmt(st?.iqr, u), fmt(st?.min, u)];
  });
  const t = r.totalStats;
  const tu = rep.total?.latency?.unit;
  rows.push(['total', rep.total?.macs !== undefined ? num(rep.total.macs) : '', tu ?? '', t ? String(t.n) : '', fmt(t?.median, tu), fmt(t?.iqr, tu), fmt(t?.min, tu)]);
  return [...head, table(['layer', 'MACs', 'unit', 'samples', 'median', 'IQR', 'min'], rows, ['l', 'r', 'l', 'r', 'r', 'r', 'r'])].join('\n') + '\n';
}

export function runsShowCommand(id: string, f: { store?: string; json?: boolean }): void {
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1) throw new RunStoreError(`run id must be a positive integer, got '${id}'`);
  withStore(f.store, (s) => {
    const r = s.get(n);
    if (!r) throw new RunStoreError(`no run ${n} in ${s.file} (\`tandem runs\` lists them)`);
    process.stdout.write(f.json ? JSON.stringify({ store: s.file, ...r }) + '\n' : showText(s.file, r));
  });
}
