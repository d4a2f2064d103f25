// The run store's SQLite schema and its migrations. schema_version holds one row; MIGRATIONS[i] takes a store
// from version i to i + 1, each in its own IMMEDIATE transaction (so two processes opening a fresh file at
// once do not both create the tables). A store written by a newer Tandem is refused, never "fixed".
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** The version this code writes and reads. */
export const SCHEMA_VERSION = 2;

/** Marks the file as a Tandem run store (SQLite's application_id header field): 'TNDM'. */
export const APPLICATION_ID = 0x544e444d;

export class RunStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunStoreError';
  }
}

const MIGRATIONS: readonly string[] = [
  // v0 -> v1
  `
  CREATE TABLE runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused, even after deletes
    -- 'complete' is the only status written today (a run is written in one transaction at its end); a later
    -- version recording started runs must give them another status: every query filters on 'complete'.
    status         TEXT NOT NULL DEFAULT 'complete',
    created_at     TEXT NOT NULL,                      -- ISO 8601 (the Report's createdAt)
    stored_at      TEXT NOT NULL,
    command        TEXT NOT NULL,                      -- e.g. 'profile'
    argv           TEXT NOT NULL,                      -- JSON array: the command line as given
    model_name     TEXT NOT NULL,                      -- as the user named it (built-in name or path)
    graph_name     TEXT NOT NULL,                      -- the Report's model (Graph name)
    model_hash     TEXT NOT NULL,                      -- sha256 of the model's canonical graph.json (holds the weights' sha256)
    run_hash       TEXT NOT NULL,                      -- same, of the graph that ran (after PTQ of a float model)
    target_spec    TEXT NOT NULL,                      -- --target as given (qemu, host, serial:<port>)
    target_id      TEXT NOT NULL,
    target_kind    TEXT NOT NULL,
    target_name    TEXT NOT NULL,
    target         TEXT NOT NULL,                      -- JSON: TargetDescription
    executor       TEXT NOT NULL,
    warmup         INTEGER,
    repeats        INTEGER,
    images         INTEGER,
    seed           INTEGER,                            -- options.seed
    report_seed    INTEGER,                            -- the Report's seed
    options        TEXT NOT NULL,                      -- JSON: every option (also the ones in columns)
    notes          TEXT NOT NULL,                      -- JSON array of strings
    total_unit     TEXT,
    total_clock_hz REAL,
    total_samples  BLOB,                               -- float64 little-endian, one per timed inference
    total_n        INTEGER,
    total_median   REAL,
    total_iqr      REAL,
    total_min      REAL,
    total_extra    TEXT                                -- JSON: the rest of Report.total (macs, error, energy, accuracy ...)
  );
  CREATE INDEX runs_model ON runs (model_hash, status);
  CREATE INDEX runs_target ON runs (target_id, status);

  CREATE TABLE run_layers (
    run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    ordinal   INTEGER NOT NULL,                        -- the Report's row order
    layer     TEXT NOT NULL,
    executor  TEXT NOT NULL,
    nodes     TEXT,                                    -- JSON array of IR node ids
    macs      INTEGER,
    params    INTEGER,
    unit      TEXT,                                    -- 'cycles' | 's'; NULL when the row has no latency
    clock_hz  REAL,
    samples   BLOB,                                    -- float64 little-endian
    n         INTEGER,
    median    REAL,
    iqr       REAL,
    min       REAL,
    extra     TEXT,                                    -- JSON: error, energy (anything else of the LayerReport)
    PRIMARY KEY (run_id, ordinal)
  ) WITHOUT ROWID;
  CREATE INDEX run_layers_layer ON run_layers (layer);
  `,
  // v1 -> v2: the co-design loop (codesign/store.ts). A run is written as it goes, a candidate per transaction,
  // so a killed loop resumes from its last committed candidate.
  `
  CREATE TABLE codesign_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    status       TEXT NOT NULL,                        -- 'running' | 'complete'
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    argv         TEXT NOT NULL,                        -- JSON array: the command line that started it
    problem      TEXT NOT NULL,                        -- JSON: the validated problem statement
    problem_hash TEXT NOT NULL,                        -- sha256 of that JSON: --resume checks it
    seed         INTEGER NOT NULL,
    seconds      REAL NOT NULL DEFAULT 0,              -- time spent profiling and evaluating, summed over resumes
    profile      TEXT,                                 -- JSON: per-layer option sensitivities and costs (written with the run)
    result       TEXT                                  -- JSON: the CodesignResult, when complete
  );

  CREATE TABLE codesign_candidates (
    run_id     INTEGER NOT NULL REFERENCES codesign_runs (id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,                       -- evaluation order: candidate id 'c<ordinal>'
    plan_key   TEXT NOT NULL,                          -- sha256 of the canonical Plan JSON
    strategy   TEXT NOT NULL,
    plan       TEXT NOT NULL,                          -- JSON: Plan
    seed       INTEGER NOT NULL,
    metrics    TEXT NOT NULL,                          -- JSON: key -> value (accuracy in %)
    layers     TEXT NOT NULL,                          -- JSON: LayerDecision[]
    model_hash TEXT,                                   -- sha256 of the int8 graph (models/<hash>/ next to the store)
    seconds    REAL NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, ordinal),
    UNIQUE (run_id, plan_key)
  ) WITHOUT ROWID;

  CREATE TABLE codesign_measurements (
    run_id   INTEGER NOT NULL,
    ordinal  INTEGER NOT NULL,
    target   TEXT NOT NULL,                            -- the metric's 'on' (qemu, host, predictor:...)
    layer    TEXT NOT NULL,                            -- original layer id, or '(total)'
    unit     TEXT NOT NULL,                            -- 'cycles' | 's'
    clock_hz REAL,
    samples  BLOB NOT NULL,                            -- float64 little-endian, raw
    PRIMARY KEY (run_id, ordinal, target, layer),
    FOREIGN KEY (run_id, ordinal) REFERENCES codesign_candidates (run_id, ordinal) ON DELETE CASCADE
  ) WITHOUT ROWID;
  `,
];

const describeErr = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** SQLite's answer for a file that is not a database or is damaged. */
export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

function corruptError(file: string, e: unknown): RunStoreError {
  return new RunStoreError(`run store ${file} is not a SQLite database or is corrupt (${describeErr(e)}); move it away or pass another --store`);
}

/** Runs fn, turning SQLite's corruption errors into one that names the file. */
export function guard<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw isCorruption(e) ? corruptError(file, e) : e;
  }
}

function storedVersion(db: Db, file: string): number {
  const t = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'").get();
  if (!t) {
    const other = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").get() as { n: number };
    // A SQLite file with tables of its own is someone else's database: never write into it.
    if (other.n > 0) throw new RunStoreError(`${file} is a SQLite database but not a Tandem run store (no schema_version table)`);
    return 0;
  }
  const rows = db.prepare('SELECT version FROM schema_version').all() as { version: unknown }[];
  if (rows.length !== 1 || !Number.isInteger(rows[0].version)) throw new RunStoreError(`run store ${file}: schema_version must hold one integer row, found ${JSON.stringify(rows)}`);
  return rows[0].version as number;
}

function newerError(file: string, v: number): RunStoreError {
  return new RunStoreError(`run store ${file} has schema version ${v}, newer than this Tandem understands (version ${SCHEMA_VERSION}): upgrade Tandem or use another --store`);
}

/** Opens (creating when missing) a run store: WAL, busy timeout, migrated to SCHEMA_VERSION. */
export function openDb(file: string, o: { readonly mustExist?: boolean; readonly busyTimeoutMs?: number } = {}): Db {
  let db: Db;
  try {
    db = new Database(file, { fileMustExist: !!o.mustExist, timeout: o.busyTimeoutMs ?? 10_000 });
  } catch (e) {
    if (isCorruption(e)) throw corruptError(file, e);
    throw new RunStoreError(`cannot open run store ${file}: ${describeErr(e)}${o.mustExist ? ' (`tandem profile` creates it)' : ''}`);
  }
  try {
    guard(file, () => {
      // WAL: readers never block the writer and a killed writer's uncommitted frames are ignored on the next open.
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      let v = storedVersion(db, file);
      if (v > SCHEMA_VERSION) throw newerError(file, v);
      if (v < SCHEMA_VERSION) {
        db.transaction(() => {
          v = storedVersion(db, file); // again, under the write lock: another process may have migrated meanwhile
          if (v > SCHEMA_VERSION) throw newerError(file, v);
          if (v === 0) {
            db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
            db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
            db.pragma(`application_id = ${APPLICATION_ID}`);
          }
          for (; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
          db.prepare('UPDATE schema_version SET version = ?').run(v);
        }).immediate();
      }
    });
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
