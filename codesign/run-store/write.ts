// Writing a run: the run row and all its layer rows in ONE IMMEDIATE transaction, so a process killed midway
// leaves nothing (SQLite rolls the uncommitted WAL frames back on the next open) and readers never see half a run.
import type { LatencySamples, LayerReport } from '../../compiler/contracts/report.js';
import { summarize } from '../../hw-targets/targets/stats.js';
import { encodeSamples } from './samples.js';
import { type Db, guard } from './schema.js';
import type { RunRecord } from './types.js';

export interface SaveOptions {
  /** Test seam: called inside the transaction after each layer row is inserted (the kill test stops here). */
  readonly afterLayer?: (index: number) => void;
}

/** The latency columns of a row: samples, unit, clock and the derived order statistics. */
function latencyColumns(l: LatencySamples | undefined) {
  if (!l) return { unit: null, clock_hz: null, samples: null, n: null, median: null, iqr: null, min: null };
  const s = l.samples.length ? summarize(l.samples) : undefined;
  return { unit: l.unit, clock_hz: l.clockHz ?? null, samples: encodeSamples(l.samples), n: l.samples.length, median: s?.median ?? null, iqr: s?.iqr ?? null, min: s?.min ?? null };
}

/** JSON that also takes a bigint (as its decimal string): target details come from boards and may hold one. */
const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/** JSON of what the columns do not hold, or null when nothing is left. */
function extra(o: object): string | null {
  const rest = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return Object.keys(rest).length ? json(rest) : null;
}

const int = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function saveRun(db: Db, file: string, rec: RunRecord, o: SaveOptions = {}): number {
  const r = rec.report;
  const insRun = db.prepare(`INSERT INTO runs (status, created_at, stored_at, command, argv, model_name, graph_name, model_hash, run_hash,
      target_spec, target_id, target_kind, target_name, target, executor, warmup, repeats, images, seed, report_seed, options, notes,
      total_unit, total_clock_hz, total_samples, total_n, total_median, total_iqr, total_min, total_extra)
    VALUES ('complete', @created_at, @stored_at, @command, @argv, @model_name, @graph_name, @model_hash, @run_hash,
      @target_spec, @target_id, @target_kind, @target_name, @target, @executor, @warmup, @repeats, @images, @seed, @report_seed, @options, @notes,
      @unit, @clock_hz, @samples, @n, @median, @iqr, @min, @total_extra)`);
  const insLayer = db.prepare(`INSERT INTO run_layers (run_id, ordinal, layer, executor, nodes, macs, params, unit, clock_hz, samples, n, median, iqr, min, extra)
    VALUES (@run_id, @ordinal, @layer, @executor, @nodes, @macs, @params, @unit, @clock_hz, @samples, @n, @median, @iqr, @min, @extra)`);
  const write = db.transaction(() => {
    const { latency, ...totalRest } = r.total ?? {};
    const id = insRun.run({
      created_at: r.createdAt,
      stored_at: new Date().toISOString(),
      command: rec.command,
      argv: JSON.stringify(rec.argv),
      model_name: rec.model.name,
      graph_name: r.model,
      model_hash: rec.model.hash,
      run_hash: rec.model.runHash,
      target_spec: rec.targetSpec,
      target_id: rec.target.id,
      target_kind: rec.target.kind,
      target_name: rec.target.name,
      target: json(rec.target),
      executor: r.executor,
      warmup: int(rec.options.warmup),
      repeats: int(rec.options.repeats),
      images: int(rec.options.images),
      seed: int(rec.options.seed),
      report_seed: r.seed ?? null,
      options: json(rec.options),
      notes: JSON.stringify(rec.notes ?? []),
      ...latencyColumns(latency),
      // '{}' rather than NULL when the Report has a total without anything but latency: the round trip keeps it
      total_extra: r.total ? (extra(totalRest) ?? '{}') : null,
    }).lastInsertRowid;
    r.rows.forEach((row: LayerReport, i) => {
      const { layer, executor, nodes, macs, params, latency, ...rest } = row;
      insLayer.run({ run_id: id, ordinal: i, layer, executor, nodes: nodes ? JSON.stringify(nodes) : null, macs: macs ?? null, params: params ?? null, ...latencyColumns(latency), extra: extra(rest) });
      o.afterLayer?.(i);
    });
    return Number(id);
  });
  // IMMEDIATE: take the write lock at BEGIN, so a concurrent writer waits (busy timeout) instead of failing
  // on a read-to-write lock upgrade.
  return guard(file, () => write.immediate());
}
