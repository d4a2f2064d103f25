// The co-design problem statement: what to compress, how much accuracy may go, what to optimise (and on
// which accelerator or target), hard budgets, the per-layer search space, the strategy and the time budget.
// Read from JSON or YAML (or built from CLI flags), validated field by field: unknown fields are errors (a
// typo must not fall back to a default silently), and every error names the file and the field.
import { Fields, type Obj } from '../compiler/util/fields.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DataError } from '../compiler/data/errors.js';

export type MetricKind = 'energy' | 'latency' | 'arrays' | 'params' | 'macs';
export const METRIC_KINDS: readonly MetricKind[] = ['energy', 'latency', 'arrays', 'params', 'macs'];

/**
 * A hardware or size metric. `on` says where it is taken: an accelerator (a preset name or spec file, or
 * `sim:<accel>`) for energy and arrays; for latency a target as `--target` takes it (qemu, host,
 * serial:<port>, predictor:<file>) or `sim:<accel>` (the accelerator's cost model); nothing for params/macs.
 */
export interface MetricRef {
  readonly metric: MetricKind;
  readonly on?: string;
}

export interface Objective extends MetricRef {
  /** Latency on a target: a cheaper stand-in used to rank options and steer the search (predictor:<file>). */
  readonly surrogate?: string;
}

export interface Budget extends MetricRef {
  /** Upper bound in the metric's unit (energy µJ, latency ms, arrays, params, MACs). */
  readonly max: number;
}

export type StrategyKind = 'greedy' | 'musco' | 'nsga2';
export const STRATEGIES: readonly StrategyKind[] = ['greedy', 'musco', 'nsga2'];
export type DecompKind = 'svd' | 'tucker2' | 'cp';

export interface Problem {
  /** Built-in model name or a model folder/file (as every command takes it). */
  readonly model: string;
  readonly dataset: 'fashion-mnist';
  readonly accuracy: {
    /** Allowed drop in percentage points against the base model's int8 accuracy on the same images. */
    readonly maxDropPp: number;
    /** Validation images the accuracy is measured on (held out from training, never the test set). */
    readonly images: number;
  };
  /** At least one; accuracy is always an objective as well. */
  readonly objectives: readonly Objective[];
  readonly budgets: readonly Budget[];
  readonly space: {
    /** Original layer ids; empty = every layer that can be decomposed or pruned. */
    readonly layers: readonly string[];
    readonly decompositions: readonly DecompKind[];
    /** Rank as a fraction of the layer's full rank. */
    readonly ranks: readonly number[];
    /** Share of output channels removed. */
    readonly prune: readonly number[];
  };
  readonly search: {
    readonly strategy: StrategyKind;
    /** What a layer's cost is when the strategy allocates: 'macs' (the classic baseline) or a metric key of an objective ('energy:rram-128', 'latency:qemu'); 'hardware' = the first objective. */
    readonly cost: string;
  };
  readonly finetune: { readonly images: number; readonly lr: number };
  /** Training images for PTQ calibration, ADC calibration and sensitivities. */
  readonly calib: number;
  /** candidates: evaluated besides the baseline; minutes: of profiling and evaluation, after which no new candidate starts. */
  readonly limits: { readonly candidates: number; readonly minutes?: number };
  readonly seed: number;
}

export const DEFAULT_PROBLEM: Omit<Problem, 'model' | 'objectives'> = {
  dataset: 'fashion-mnist',
  accuracy: { maxDropPp: 0.5, images: 2000 },
  budgets: [],
  space: { layers: [], decompositions: ['tucker2', 'cp', 'svd'], ranks: [0.5, 0.25, 0.125], prune: [0.25, 0.5] },
  search: { strategy: 'greedy', cost: 'hardware' },
  finetune: { images: 2048, lr: 0.005 },
  calib: 256,
  limits: { candidates: 12 },
  seed: 1,
};

/** The key a metric's numbers go under: 'energy:rram-128', 'latency:qemu', 'params'. */
export const metricKey = (m: MetricRef): string => (m.on ? `${m.metric}:${m.on}` : m.metric);

export class ProblemError extends DataError {
  constructor(message: string) {
    super(message);
    this.name = 'ProblemError';
  }
}

function metricRef(c: Fields, v: Obj, path: string): MetricRef {
  const metric = c.oneOf(v.metric, `${path}.metric`, METRIC_KINDS);
  if (metric === 'params' || metric === 'macs') {
    if (v.on !== undefined) c.fail(`${path}.on`, `nothing (${metric} do not depend on hardware)`, v.on);
    return { metric };
  }
  const on = c.str(v.on, `${path}.on`);
  if (metric !== 'latency' && !on.startsWith('sim:') && /^(qemu|host|serial:|adb:|predictor:)/.test(on))
    c.fail(`${path}.on`, `an accelerator (preset name, spec file or sim:<accel>) for ${metric}`, on);
  // energy/arrays on 'rram-128' and on 'sim:rram-128' are the same metric: one key
  return { metric, on: metric === 'latency' || !on.startsWith('sim:') ? on : on.slice(4) };
}

/** Validates a parsed problem (defaults filled in); `source` names the file or 'command line' in errors. */
export function validateProblem(raw: unknown, source: string): Problem {
  const c = new Fields(source, (m) => new ProblemError(m));
  const d = DEFAULT_PROBLEM;
  const top = c.obj(raw, '(top level)', ['model', 'dataset', 'accuracy', 'objectives', 'budgets', 'space', 'search', 'finetune', 'calib', 'limits', 'seed']);
  const model = c.str(top.model, 'model');
  const dataset = c.oneOf(top.dataset ?? d.dataset, 'dataset', ['fashion-mnist'] as const);
  const acc = c.obj(top.accuracy ?? {}, 'accuracy', ['maxDropPp', 'images']);
  const accuracy = {
    maxDropPp: c.num(acc.maxDropPp ?? d.accuracy.maxDropPp, 'accuracy.maxDropPp', 0, 100),
    images: c.num(acc.images ?? d.accuracy.images, 'accuracy.images', 1, 60000, { int: true }),
  };
  const objectives = c.arr(top.objectives, 'objectives', 1).map((o, i) => {
    const p = `objectives[${i}]`;
    const v = c.obj(o, p, ['metric', 'on', 'surrogate']);
    const ref = metricRef(c, v, p);
    if (v.surrogate === undefined) return ref;
    if (ref.metric !== 'latency') c.fail(`${p}.surrogate`, 'nothing (a surrogate stands in for a measured latency only)', v.surrogate);
    const s = c.str(v.surrogate, `${p}.surrogate`);
    if (!s.startsWith('predictor:')) c.fail(`${p}.surrogate`, 'predictor:<file> (a fitted latency predictor)', s);
    return { ...ref, surrogate: s } as Objective;
  });
  const keys = objectives.map(metricKey);
  keys.forEach((k, i) => keys.indexOf(k) !== i && c.fail(`objectives[${i}]`, 'each objective once', k));
  const budgets = c.arr(top.budgets ?? [], 'budgets').map((b, i) => {
    const p = `budgets[${i}]`;
    const v = c.obj(b, p, ['metric', 'on', 'max']);
    return { ...metricRef(c, v, p), max: c.num(v.max, `${p}.max`, 0, Number.MAX_VALUE, { openLo: true }) };
  });
  const sp = c.obj(top.space ?? {}, 'space', ['layers', 'decompositions', 'ranks', 'prune']);
  const space = {
    layers: c.arr(sp.layers ?? d.space.layers, 'space.layers').map((l, i) => c.str(l, `space.layers[${i}]`)),
    decompositions: c.arr(sp.decompositions ?? d.space.decompositions, 'space.decompositions').map((k, i) => c.oneOf(k, `space.decompositions[${i}]`, ['svd', 'tucker2', 'cp'] as const)),
    ranks: c.arr(sp.ranks ?? d.space.ranks, 'space.ranks').map((r, i) => c.num(r, `space.ranks[${i}]`, 0, 1, { openLo: true })),
    prune: c.arr(sp.prune ?? d.space.prune, 'space.prune').map((r, i) => c.num(r, `space.prune[${i}]`, 0, 0.95, { openLo: true })),
  };
  if (space.ranks.length === 0 && space.prune.length === 0) c.fail('space', 'at least one rank or pruning ratio (nothing to search)', sp);
  if (space.decompositions.length === 0 && space.prune.length === 0) c.fail('space', 'a decomposition kind or a pruning ratio (nothing to search)', sp);
  const se = c.obj(top.search ?? {}, 'search', ['strategy', 'cost']);
  const strategy = c.oneOf(se.strategy ?? d.search.strategy, 'search.strategy', STRATEGIES);
  const cost = c.str(se.cost ?? d.search.cost, 'search.cost');
  if (cost !== 'macs' && cost !== 'params' && cost !== 'hardware' && !keys.includes(cost)) c.fail('search.cost', `macs, params, hardware or an objective's key (${keys.join(', ')})`, cost);
  const ft = c.obj(top.finetune ?? {}, 'finetune', ['images', 'lr']);
  const finetune = { images: c.num(ft.images ?? d.finetune.images, 'finetune.images', 0, 1e7, { int: true }), lr: c.num(ft.lr ?? d.finetune.lr, 'finetune.lr', 0, 10, { openLo: true }) };
  const calib = c.num(top.calib ?? d.calib, 'calib', 1, 60000, { int: true });
  const li = c.obj(top.limits ?? {}, 'limits', ['candidates', 'minutes']);
  const limits = {
    candidates: c.num(li.candidates ?? d.limits.candidates, 'limits.candidates', 1, 100000, { int: true }),
    ...(li.minutes !== undefined ? { minutes: c.num(li.minutes, 'limits.minutes', 0, 1e6, { openLo: true }) } : {}),
  };
  const seed = c.num(top.seed ?? d.seed, 'seed', 0, 2 ** 31 - 1, { int: true });
  return { model, dataset, accuracy, objectives, budgets, space, search: { strategy, cost }, finetune, calib, limits, seed };
}

/** Reads a problem file (.json, .yaml or .yml). */
export function readProblem(file: string): Problem {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ProblemError(`problem file ${file}: cannot read it (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ProblemError(`problem file ${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} (${(e as Error).message})`);
  }
  return validateProblem(raw, file);
}

/** The cost the strategy allocates with, resolved: 'macs', 'params' or an objective key. */
export function costKey(p: Problem): string {
  return p.search.cost === 'hardware' ? metricKey(p.objectives[0]) : p.search.cost;
}
