// The latency dataset: per variant, per node, the features (features.ts) and the measured time (median or minimum of the repeats), plus
// the model's total, with the target, seeds and measuring options that produced it. JSON, written atomically
// (temp file + rename) so a crash or Ctrl-C never leaves half a file; read back with every field checked, and
// an error that names the file and the field.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { FEATURE_NAMES } from './features.js';
import type { Statistic } from './measure.js';

export const DATASET_FORMAT = 'tandem-latency-dataset';

export interface DatasetLayer {
  readonly node: string;
  readonly origin: string;
  readonly op: string;
  /** FEATURE_NAMES order. */
  readonly f: readonly number[];
  /** The statistic (measure.statistic) of the timed repeats, in the dataset's unit. */
  readonly t: number;
}

export interface DatasetVariant {
  readonly id: string;
  readonly family: string;
  readonly seed: number;
  readonly knobs: unknown;
  readonly blobBytes?: number;
  /** End-to-end time of one inference (same statistic) (includes what lies between the nodes). */
  readonly total: number;
  readonly layers: readonly DatasetLayer[];
}

export interface Dataset {
  readonly format: typeof DATASET_FORMAT;
  readonly version: 1;
  readonly createdAt: string;
  readonly command: string;
  /** Population seed (variants.ts). */
  readonly seed: number;
  readonly target: { readonly spec: string; readonly id: string; readonly name: string; readonly runtime?: string };
  readonly unit: 'cycles' | 's';
  readonly clockHz?: number;
  readonly measure: { readonly warmup: number; readonly repeats: number; readonly calibImages: number; readonly input: string; readonly maxBlobBytes?: number;
    /** Absent in files from before the choice existed: median. */
    readonly statistic?: Statistic };
  readonly featureNames: readonly string[];
  /** Variants drawn but not measured, and why (e.g. a blob over the size cap). */
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
  /** false while a measurement is still running (the file is rewritten every few variants). */
  readonly complete: boolean;
  readonly variants: readonly DatasetVariant[];
}

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** Writes JSON to `file` through a temp file in the same folder and a rename (atomic on POSIX). */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value) + '\n');
  renameSync(tmp, file);
}

/** Reads and parses a JSON file; errors name it. */
export function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DatasetError(`${what} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`${what} ${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Field checks that name the file and the path of the field. */
export class Checker {
  constructor(private readonly file: string) {}

  /** The top level of a Tandem latency file: its format, version 1 and a time unit. */
  header(v: unknown, format: string): Record<string, unknown> {
    const o = this.obj(v, '(top level)');
    if (o.format !== format) this.fail('format', `"${format}"`, o.format);
    if (o.version !== 1) this.fail('version', '1', o.version);
    if (o.unit !== 'cycles' && o.unit !== 's') this.fail('unit', '"cycles" or "s"', o.unit);
    return o;
  }

  fail(path: string, want: string, got: unknown): never {
    const shown = got === undefined ? 'missing' : JSON.stringify(got)?.slice(0, 60);
    throw new DatasetError(`${this.file}: field ${path}: expected ${want}, got ${shown}`);
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as Record<string, unknown>;
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'an array', v);
    return v;
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string' || !v) this.fail(path, 'a non-empty string', v);
    return v;
  }
  num(v: unknown, path: string, min = -Infinity): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) this.fail(path, min === -Infinity ? 'a finite number' : `a finite number >= ${min}`, v);
    return v;
  }
}

/** Reads a dataset written by `tandem latency measure`, checking every field used by the fits. */
export function readDataset(file: string): Dataset {
  const c = new Checker(file);
  const d = c.header(readJson(file, 'latency dataset'), DATASET_FORMAT);
  c.num(d.seed, 'seed');
  c.str(c.obj(d.target, 'target').id, 'target.id');
  const names = c.arr(d.featureNames, 'featureNames');
  if (names.join() !== FEATURE_NAMES.join()) c.fail('featureNames', `[${FEATURE_NAMES.join(', ')}] (this Tandem's features)`, names);
  const vs = c.arr(d.variants, 'variants');
  if (vs.length === 0) c.fail('variants', 'at least one variant', vs);
  vs.forEach((v, i) => {
    const o = c.obj(v, `variants[${i}]`);
    c.str(o.id, `variants[${i}].id`);
    c.num(o.total, `variants[${i}].total`, 0);
    const ls = c.arr(o.layers, `variants[${i}].layers`);
    if (ls.length === 0) c.fail(`variants[${i}].layers`, 'at least one layer', ls);
    ls.forEach((l, j) => {
      const p = `variants[${i}].layers[${j}]`;
      const lo = c.obj(l, p);
      c.str(lo.node, `${p}.node`);
      c.str(lo.op, `${p}.op`);
      c.num(lo.t, `${p}.t`, 0);
      const f = c.arr(lo.f, `${p}.f`);
      if (f.length !== FEATURE_NAMES.length) c.fail(`${p}.f`, `${FEATURE_NAMES.length} numbers`, f);
      f.forEach((x, k) => c.num(x, `${p}.f[${k}] (${FEATURE_NAMES[k]})`, 0));
    });
  });
  return d as unknown as Dataset;
}
