// Reading runs back: only status 'complete' is ever visible. A stored run comes back as the Report that was
// written (samples bit for bit) plus the derived statistics.
import type { LatencySamples, LayerReport, Report } from '../../compiler/contracts/report.js';
import type { TargetDescription } from '../../compiler/contracts/target.js';
import { decodeSamples } from './samples.js';
import { type Db, guard } from './schema.js';
import type { RunQuery, RunSummary, StoredRun, StoredStats } from './types.js';

interface LatencyCols {
  unit: string | null;
  clock_hz: number | null;
  samples: Buffer | null;
  n: number | null;
  median: number | null;
  iqr: number | null;
  min: number | null;
}

interface RunRow {
  id: number;
  status: 'complete';
  created_at: string;
  stored_at: string;
  command: string;
  argv: string;
  model_name: string;
  graph_name: string;
  model_hash: string;
  run_hash: string;
  target_spec: string;
  target_id: string;
  target_name: string;
  target: string;
  executor: string;
  warmup: number | null;
  repeats: number | null;
  images: number | null;
  seed: number | null;
  report_seed: number | null;
  options: string;
  notes: string;
  total_unit: string | null;
  total_clock_hz: number | null;
  total_samples: Buffer | null;
  total_n: number | null;
  total_median: number | null;
  total_iqr: number | null;
  total_min: number | null;
  total_extra: string | null;
  layers?: number;
}

interface LayerRow extends LatencyCols {
  ordinal: number;
  layer: string;
  executor: string;
  nodes: string | null;
  macs: number | null;
  params: number | null;
  extra: string | null;
}

const opt = <K extends string, V>(k: K, v: V | null | undefined): { [P in K]?: V } => (v === null || v === undefined ? {} : ({ [k]: v } as { [P in K]: V }));

function latency(c: LatencyCols, where: string): LatencySamples | undefined {
  if (c.unit === null) return undefined;
  return { unit: c.unit as LatencySamples['unit'], samples: c.samples ? decodeSamples(c.samples, where) : [], ...opt('clockHz', c.clock_hz) };
}

const stats = (c: LatencyCols): StoredStats | undefined => (c.n && c.median !== null ? { n: c.n, median: c.median, iqr: c.iqr!, min: c.min! } : undefined);

const totalCols = (r: RunRow): LatencyCols => ({ unit: r.total_unit, clock_hz: r.total_clock_hz, samples: r.total_samples, n: r.total_n, median: r.total_median, iqr: r.total_iqr, min: r.total_min });

function where(q: RunQuery): { sql: string; args: unknown[] } {
  const parts = ["status = 'complete'"];
  const args: unknown[] = [];
  if (q.model !== undefined) {
    parts.push('(model_name = ? OR graph_name = ? OR (length(?) >= 6 AND (substr(model_hash, 1, length(?)) = ? OR substr(run_hash, 1, length(?)) = ?)))');
    const m = q.model.toLowerCase();
    args.push(q.model, q.model, m, m, m, m, m);
  }
  if (q.target !== undefined) {
    parts.push("? IN (target_spec, target_id, target_kind, json_extract(target, '$.details.boardId'))");
    args.push(q.target);
  }
  return { sql: parts.join(' AND '), args };
}

export function listRuns(db: Db, file: string, q: RunQuery = {}): RunSummary[] {
  const w = where(q);
  const limit = q.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(q.limit))}` : '';
  return guard(file, () => {
    // newest first for LIMIT, then back to id order
    const rows = db
      .prepare(`SELECT r.*, (SELECT count(*) FROM run_layers l WHERE l.run_id = r.id) AS layers FROM runs r WHERE ${w.sql} ORDER BY id DESC ${limit}`)
      .all(...w.args) as RunRow[];
    return rows.reverse().map((r) => {
      const t = stats(totalCols(r));
      return {
        id: r.id,
        createdAt: r.created_at,
        command: r.command,
        model: { name: r.model_name, graph: r.graph_name, hash: r.model_hash, runHash: r.run_hash },
        targetSpec: r.target_spec,
        targetId: r.target_id,
        targetName: r.target_name,
        executor: r.executor,
        ...opt('warmup', r.warmup),
        ...opt('repeats', r.repeats),
        ...opt('images', r.images),
        ...opt('seed', r.seed),
        layers: r.layers ?? 0,
        ...(t && r.total_unit ? { total: { ...t, unit: r.total_unit, ...opt('clockHz', r.total_clock_hz) } } : {}),
      };
    });
  });
}

export function getRun(db: Db, file: string, id: number): StoredRun | undefined {
  return guard(file, () => {
    const r = db.prepare("SELECT * FROM runs WHERE id = ? AND status = 'complete'").get(id) as RunRow | undefined;
    if (!r) return undefined;
    const layers = db.prepare('SELECT * FROM run_layers WHERE run_id = ? ORDER BY ordinal').all(id) as LayerRow[];
    const rows: LayerReport[] = layers.map((l) => {
      const lat = latency(l, `${file} run ${id} layer ${l.layer}`);
      return {
        layer: l.layer,
        executor: l.executor,
        ...opt('nodes', l.nodes === null ? null : (JSON.parse(l.nodes) as string[])),
        ...opt('macs', l.macs),
        ...opt('params', l.params),
        ...(l.extra ? (JSON.parse(l.extra) as object) : {}),
        ...opt('latency', lat),
      };
    });
    let total: Report['total'];
    if (r.total_extra !== null) {
      const lat = latency(totalCols(r), `${file} run ${id} total`);
      total = { ...(JSON.parse(r.total_extra) as object), ...opt('latency', lat) };
    }
    const report: Report = { model: r.graph_name, executor: r.executor, createdAt: r.created_at, ...opt('seed', r.report_seed), rows, ...opt('total', total) };
    return {
      id: r.id,
      status: r.status,
      storedAt: r.stored_at,
      command: r.command,
      argv: JSON.parse(r.argv) as string[],
      model: { name: r.model_name, hash: r.model_hash, runHash: r.run_hash },
      targetSpec: r.target_spec,
      target: JSON.parse(r.target) as TargetDescription,
      options: JSON.parse(r.options) as StoredRun['options'],
      notes: JSON.parse(r.notes) as string[],
      report,
      layerStats: layers.map(stats),
      ...opt('totalStats', stats(totalCols(r))),
    };
  });
}
