// Per-layer lookup table (LETI's "sum of block times", nn-Meter's kernel table): the mean measured time of each
// layer configuration (op + shapes: configKey) seen in training. An unseen configuration takes its nearest
// neighbour of the same op (Euclidean distance on log(1 + feature), so a channel count of 8 vs 16 weighs like 64
// vs 128) and scales that neighbour's time by the ratio of the work (MACs, else bytes moved): a layer with
// twice the MACs of its neighbour is predicted twice as slow. An op never seen at all is predicted 0 and
// counted in `unseenOps`, as nothing better is known about it.
import { configKey, work } from './features.js';

export interface LutEntry {
  readonly op: string;
  readonly f: readonly number[];
  readonly t: number;
  readonly n: number;
}

export interface LutModel {
  readonly kind: 'lut';
  readonly entries: readonly LutEntry[];
}

export interface Layer {
  readonly op: string;
  readonly f: readonly number[];
}

export function fitLut(layers: readonly (Layer & { readonly t: number })[]): LutModel {
  const m = new Map<string, { op: string; f: readonly number[]; sum: number; n: number }>();
  for (const l of layers) {
    const k = configKey(l.op, l.f);
    const e = m.get(k);
    if (e) {
      e.sum += l.t;
      e.n++;
    } else m.set(k, { op: l.op, f: l.f, sum: l.t, n: 1 });
  }
  return { kind: 'lut', entries: [...m.values()].map((e) => ({ op: e.op, f: e.f, t: e.sum / e.n, n: e.n })) };
}

/** Lookups with an index built once per model. */
export class Lut {
  private readonly exact = new Map<string, LutEntry>();
  private readonly byOp = new Map<string, { e: LutEntry; z: number[] }[]>();
  /** Predictions that fell back to a neighbour / found no entry of their op. */
  neighbours = 0;
  unseenOps = 0;

  constructor(readonly model: LutModel) {
    for (const e of model.entries) {
      this.exact.set(configKey(e.op, e.f), e);
      const list = this.byOp.get(e.op) ?? [];
      list.push({ e, z: e.f.map((v) => Math.log1p(v)) });
      this.byOp.set(e.op, list);
    }
  }

  predict(l: Layer): number {
    const hit = this.exact.get(configKey(l.op, l.f));
    if (hit) return hit.t;
    const list = this.byOp.get(l.op);
    if (!list) {
      this.unseenOps++;
      return 0;
    }
    this.neighbours++;
    const z = l.f.map((v) => Math.log1p(v));
    let best = list[0];
    let bd = Infinity;
    for (const c of list) {
      let d = 0;
      for (let i = 0; i < z.length; i++) d += (z[i] - c.z[i]) ** 2;
      if (d < bd) [bd, best] = [d, c];
    }
    const w0 = work(best.e.f);
    return w0 > 0 ? (best.e.t * work(l.f)) / w0 : best.e.t;
  }
}
