// The co-design loop's tables (schema v2): a run row written when the loop starts, one transaction per
// evaluated candidate (its Plan, metrics, decisions and raw per-layer latency samples), the option profile
// once computed, and the result at the end. A killed loop loses at most the candidate it was evaluating.
import { createHash } from 'node:crypto';
import type { Plan } from '../../compiler/contracts/plan.js';
import type { LayerDecision } from '../result.js';
import { decodeSamples, encodeSamples } from './samples.js';
import { type Db, guard, RunStoreError } from './schema.js';

export interface StoredCandidate {
  readonly ordinal: number;
  readonly planKey: string;
  readonly strategy: string;
  readonly plan: Plan;
  readonly seed: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly layers: readonly LayerDecision[];
  readonly modelHash?: string;
  readonly seconds: number;
}

export interface Measurement {
  readonly target: string;
  /** Original layer id or '(total)'. */
  readonly layer: string;
  readonly unit: 's' | 'cycles';
  readonly clockHz?: number;
  readonly samples: readonly number[];
}

export interface CodesignRunRow {
  readonly id: number;
  readonly status: 'running' | 'complete';
  readonly createdAt: string;
  readonly problem: unknown;
  readonly problemHash: string;
  readonly seed: number;
  readonly seconds: number;
  readonly profile?: unknown;
  readonly result?: unknown;
}

/** Canonical JSON (keys sorted at every level): equal values, equal text, equal hash. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A Plan's identity for the store: what it does, not why (the reasons are text for humans). */
export function planKey(p: Plan): string {
  const layers = Object.fromEntries(Object.entries(p.layers).map(([k, l]) => [k, { ...l, reason: undefined }]));
  return sha256(canonicalJson({ ...p, layers }));
}

interface RunDbRow {
  id: number;
  status: string;
  created_at: string;
  problem: string;
  problem_hash: string;
  seed: number;
  seconds: number;
  profile: string | null;
  result: string | null;
}

interface CandDbRow {
  ordinal: number;
  plan_key: string;
  strategy: string;
  plan: string;
  seed: number;
  metrics: string;
  layers: string;
  model_hash: string | null;
  seconds: number;
}

export class CodesignStore {
  constructor(
    private readonly db: Db,
    readonly file: string,
  ) {}

  private g<T>(fn: () => T): T {
    return guard(this.file, fn);
  }

  /** The run row with its option profile, in one statement: a run never exists without its profile. */
  createRun(problem: unknown, seed: number, argv: readonly string[], profile: unknown, profileSeconds: number): number {
    return this.g(() => {
      const now = new Date().toISOString();
      const text = canonicalJson(problem);
      const r = this.db
        .prepare("INSERT INTO codesign_runs (status, created_at, updated_at, argv, problem, problem_hash, seed, profile, seconds) VALUES ('running', ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(now, now, JSON.stringify(argv), text, sha256(text), seed, JSON.stringify(profile), profileSeconds);
      return Number(r.lastInsertRowid);
    });
  }

  getRun(id: number): CodesignRunRow | undefined {
    return this.g(() => {
      const r = this.db.prepare('SELECT * FROM codesign_runs WHERE id = ?').get(id) as RunDbRow | undefined;
      if (!r) return undefined;
      const parse = (s: string, what: string): unknown => {
        try {
          return JSON.parse(s);
        } catch (e) {
          throw new RunStoreError(`run store ${this.file}: co-design run ${id}: ${what} is not JSON (${(e as Error).message})`);
        }
      };
      return {
        id: r.id,
        status: r.status as 'running' | 'complete',
        createdAt: r.created_at,
        problem: parse(r.problem, 'problem'),
        problemHash: r.problem_hash,
        seed: r.seed,
        seconds: r.seconds,
        ...(r.profile !== null ? { profile: parse(r.profile, 'profile') } : {}),
        ...(r.result !== null ? { result: parse(r.result, 'result') } : {}),
      };
    });
  }

  /** The newest run whose problem satisfies `match`, with its profile (e.g. to reuse the profile). */
  findProfile(match: (problem: unknown) => boolean): { id: number; profile: unknown } | undefined {
    return this.g(() => {
      const rows = this.db.prepare('SELECT id, problem, profile FROM codesign_runs WHERE profile IS NOT NULL ORDER BY id DESC').all() as { id: number; problem: string; profile: string }[];
      for (const r of rows) {
        let problem: unknown;
        try {
          problem = JSON.parse(r.problem);
        } catch {
          continue;
        }
        if (match(problem)) return { id: r.id, profile: JSON.parse(r.profile) as unknown };
      }
      return undefined;
    });
  }

  listRuns(): { id: number; status: string; createdAt: string; candidates: number; seconds: number }[] {
    return this.g(() =>
      (
        this.db
          .prepare('SELECT r.id, r.status, r.created_at, r.seconds, (SELECT count(*) FROM codesign_candidates c WHERE c.run_id = r.id) AS n FROM codesign_runs r ORDER BY r.id')
          .all() as { id: number; status: string; created_at: string; seconds: number; n: number }[]
      ).map((r) => ({ id: r.id, status: r.status, createdAt: r.created_at, candidates: r.n, seconds: r.seconds })),
    );
  }

  /** One transaction: the candidate, its raw measurements, and the run's time spent. */
  addCandidate(id: number, c: StoredCandidate, measurements: readonly Measurement[]): void {
    this.g(() =>
      this.db.transaction(() => {
        const now = new Date().toISOString();
        this.db
          .prepare('INSERT INTO codesign_candidates (run_id, ordinal, plan_key, strategy, plan, seed, metrics, layers, model_hash, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(id, c.ordinal, c.planKey, c.strategy, JSON.stringify(c.plan), c.seed, JSON.stringify(c.metrics), JSON.stringify(c.layers), c.modelHash ?? null, c.seconds, now);
        const ins = this.db.prepare('INSERT INTO codesign_measurements (run_id, ordinal, target, layer, unit, clock_hz, samples) VALUES (?, ?, ?, ?, ?, ?, ?)');
        for (const m of measurements) ins.run(id, c.ordinal, m.target, m.layer, m.unit, m.clockHz ?? null, encodeSamples(m.samples));
        this.db.prepare('UPDATE codesign_runs SET seconds = seconds + ?, updated_at = ? WHERE id = ?').run(c.seconds, now, id);
      }).immediate(),
    );
  }

  candidates(id: number): StoredCandidate[] {
    return this.g(() =>
      (this.db.prepare('SELECT * FROM codesign_candidates WHERE run_id = ? ORDER BY ordinal').all(id) as CandDbRow[]).map((r) => ({
        ordinal: r.ordinal,
        planKey: r.plan_key,
        strategy: r.strategy,
        plan: JSON.parse(r.plan) as Plan,
        seed: r.seed,
        metrics: JSON.parse(r.metrics) as Record<string, number>,
        layers: JSON.parse(r.layers) as LayerDecision[],
        ...(r.model_hash ? { modelHash: r.model_hash } : {}),
        seconds: r.seconds,
      })),
    );
  }

  measurements(id: number, ordinal: number): Measurement[] {
    return this.g(() =>
      (this.db.prepare('SELECT * FROM codesign_measurements WHERE run_id = ? AND ordinal = ? ORDER BY target, layer').all(id, ordinal) as { target: string; layer: string; unit: string; clock_hz: number | null; samples: Uint8Array }[]).map((r) => ({
        target: r.target,
        layer: r.layer,
        unit: r.unit as 's' | 'cycles',
        ...(r.clock_hz !== null ? { clockHz: r.clock_hz } : {}),
        samples: decodeSamples(r.samples, `co-design run ${id} candidate ${ordinal} ${r.target} ${r.layer}`),
      })),
    );
  }

  complete(id: number, result: unknown): void {
    this.g(() => this.db.prepare("UPDATE codesign_runs SET status = 'complete', result = ?, updated_at = ? WHERE id = ?").run(JSON.stringify(result), new Date().toISOString(), id));
  }
}
