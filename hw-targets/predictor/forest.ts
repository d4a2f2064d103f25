// Random forest regression on layer features (ml-random-forest, on ml-cart CART trees), one forest per op as
// nn-Meter fits one predictor per kernel type (each op is its own kernel in the runtime). A forest predicts
// log(time / work) (work: MACs, else bytes moved, features.ts), then time = work · exp(prediction): the log makes
// errors relative, as the ±10% metric counts them, and the division by work lets a tree, whose leaves are
// constants, extrapolate to layers larger than any it saw (the time per MAC of a conv varies far less than its
// time). Training rows are the distinct configurations (configKey) with their mean time: ml-cart's split search
// is quadratic in the rows, and repeats of one configuration add no information.
import { RandomForestRegression } from 'ml-random-forest';
import { configKey, work } from './features.js';
import type { Layer } from './lut.js';

export interface ForestOptions {
  readonly seed: number;
  readonly trees?: number;
  readonly maxDepth?: number;
}

/** An op with fewer distinct configurations than this gets the median time per work instead of a forest. */
const MIN_ROWS = 8;

export interface OpModel {
  /** RandomForestRegression.toJSON(), or absent for a constant. */
  readonly forest?: unknown;
  /** log(time / work) when there is no forest. */
  readonly constant?: number;
  readonly rows: number;
}

export interface ForestModel {
  readonly kind: 'forest';
  readonly options: { readonly seed: number; readonly trees: number; readonly maxDepth: number };
  /** Times per work below this are clamped before the log (half the smallest positive training value). */
  readonly floor: number;
  readonly ops: Readonly<Record<string, OpModel>>;
}

const perWork = (l: Layer & { t: number }) => l.t / Math.max(work(l.f), 1);

export function fitForest(layers: readonly (Layer & { readonly t: number })[], o: ForestOptions): ForestModel {
  const options = { seed: o.seed, trees: o.trees ?? 40, maxDepth: o.maxDepth ?? 16 };
  const pos = layers.map(perWork).filter((t) => t > 0);
  const floor = pos.length ? Math.min(...pos) / 2 : 1e-12;
  const groups = new Map<string, Map<string, { f: readonly number[]; sum: number; n: number }>>();
  for (const l of layers) {
    const g = groups.get(l.op) ?? new Map<string, { f: readonly number[]; sum: number; n: number }>();
    groups.set(l.op, g);
    const k = configKey(l.op, l.f);
    const e = g.get(k);
    if (e) {
      e.sum += l.t;
      e.n++;
    } else g.set(k, { f: l.f, sum: l.t, n: 1 });
  }
  const ops: Record<string, OpModel> = {};
  for (const [op, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const rows = [...g.values()];
    const y = rows.map((r) => Math.log(Math.max(perWork({ op, f: r.f, t: r.sum / r.n }), floor)));
    if (rows.length < MIN_ROWS) {
      ops[op] = { constant: [...y].sort((a, b) => a - b)[(y.length - 1) >> 1], rows: rows.length };
      continue;
    }
    const rf = new RandomForestRegression({
      seed: options.seed,
      nEstimators: options.trees,
      // every tree sees every feature (ml-random-forest bags features per tree, not per split: a tree without
      // MACs would be useless); the randomness is in the bootstrap samples
      maxFeatures: 1.0,
      replacement: false,
      useSampleBagging: true,
      noOOB: true,
      treeOptions: { maxDepth: options.maxDepth, minNumSamples: 2 },
    });
    rf.train(
      rows.map((r) => [...r.f]),
      y,
    );
    ops[op] = { forest: rf.toJSON(), rows: rows.length };
  }
  return { kind: 'forest', options, floor, ops };
}

export class Forest {
  private readonly forests = new Map<string, RandomForestRegression>();
  /** Predictions for an op the training set never had (predicted 0). */
  unseenOps = 0;

  constructor(readonly model: ForestModel) {
    for (const [op, m] of Object.entries(model.ops)) if (m.forest) this.forests.set(op, RandomForestRegression.load(m.forest as Parameters<typeof RandomForestRegression.load>[0]));
  }

  predictMany(layers: readonly Layer[]): number[] {
    const out = new Array<number>(layers.length).fill(0);
    const byOp = new Map<string, number[]>();
    layers.forEach((l, i) => byOp.set(l.op, [...(byOp.get(l.op) ?? []), i]));
    for (const [op, idx] of byOp) {
      const m = this.model.ops[op];
      if (!m) {
        this.unseenOps += idx.length;
        continue;
      }
      const rf = this.forests.get(op);
      const logs = rf ? rf.predict(idx.map((i) => [...layers[i].f])) : idx.map(() => m.constant!);
      idx.forEach((i, k) => (out[i] = Math.max(work(layers[i].f), 1) * Math.exp(logs[k])));
    }
    return out;
  }
}
