// The run store: every completed run (today `tandem profile`; later the co-design loop's evaluations) in one
// SQLite file, so runs can be compared across models, targets and time. Default
// $XDG_CACHE_HOME/tandem/runs.sqlite (~/.cache/tandem/runs.sqlite), else --store <path> or $TANDEM_STORE.
// Modules: run-store/schema.ts (tables, migrations, open), write.ts (one transaction per run), read.ts.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serializeGraph } from '../compiler/ir/serialize.js';
import type { Graph } from '../compiler/ir/types.js';
import { CodesignStore } from './run-store/codesign.js';
import { getRun, listRuns } from './run-store/read.js';
import { type Db, openDb, RunStoreError } from './run-store/schema.js';
import type { RunQuery, RunRecord, RunSummary, StoredRun } from './run-store/types.js';
import { type SaveOptions, saveRun } from './run-store/write.js';

export { RunStoreError, SCHEMA_VERSION } from './run-store/schema.js';
export type * from './run-store/types.js';
export type { SaveOptions } from './run-store/write.js';

/** --store, else $TANDEM_STORE, else the cache folder. */
export function storePath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.TANDEM_STORE) return path.resolve(env.TANDEM_STORE);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tandem', 'runs.sqlite');
}

/**
 * sha256 of the Graph's canonical graph.json (which holds the weights' sha256) without its name and meta: what
 * computes (inputs, nodes, attributes, quantization, weights), not where it came from (meta holds the import
 * path, training time and history). The same model hashes the same from any file, path or format.
 */
export function graphHash(g: Graph): string {
  return createHash('sha256').update(serializeGraph({ ...g, name: '', meta: undefined }).json).digest('hex');
}

export class RunStore {
  private constructor(
    readonly file: string,
    private readonly db: Db,
  ) {}

  /** Opens the store; creates it (and its folder) unless mustExist. */
  static open(file: string, o: { readonly mustExist?: boolean; readonly busyTimeoutMs?: number } = {}): RunStore {
    if (o.mustExist && !existsSync(file)) throw new RunStoreError(`run store ${file} does not exist (\`tandem profile\` creates it; --store or $TANDEM_STORE picks another)`);
    if (!o.mustExist) mkdirSync(path.dirname(file), { recursive: true });
    return new RunStore(file, openDb(file, o));
  }

  /** Writes the whole run in one transaction; returns its id. */
  save(rec: RunRecord, o?: SaveOptions): number {
    return saveRun(this.db, this.file, rec, o);
  }

  list(q?: RunQuery): RunSummary[] {
    return listRuns(this.db, this.file, q);
  }

  get(id: number): StoredRun | undefined {
    return getRun(this.db, this.file, id);
  }

  /** The co-design loop's runs and candidates (same file). */
  codesign(): CodesignStore {
    return new CodesignStore(this.db, this.file);
  }

  close(): void {
    this.db.close();
  }
}
