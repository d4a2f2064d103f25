// Rank choice per layer, each with the reason: EVBMF extreme ranks, weakened ranks (MUSCO, SEEDS §5),
// ranks that meet a target MAC/param reduction using the exact cost formulas (SEEDS §1, §2), fixed ranks.
// The sensitivity-budgeted rule needs to run the network and lives in ../compress/budget.ts.
import { graphStats, inferShapes } from '../../ir/graph.js';
import { type Graph, IrError, OpKind, type Shape } from '../../ir/types.js';
import { type Cost, decomposedCost, originalCost } from './cost.js';
import { kindsFor } from './decompose.js';
import { evbmf } from './evbmf.js';
import { type DecompositionKind, type LayerForm, type LayerGeometry, layerForm, layerIds, notDecomposable } from './layers.js';

export type Method = 'svd' | 'tucker2' | 'cp';

export type RankRule =
  | { readonly kind: 'evbmf' }
  | { readonly kind: 'weakened'; readonly w: number }
  | { readonly kind: 'ratio'; readonly of: 'macs' | 'params'; readonly factor: number; readonly perLayer: boolean }
  | { readonly kind: 'budget'; readonly of: 'macs' | 'params'; readonly fraction: number }
  | { readonly kind: 'fixed'; readonly ranks: Readonly<Record<string, readonly number[]>> };

export interface RankOptions {
  /** evbmf/weakened: layers whose current rank is below this are skipped (default 21). */
  readonly minRank?: number;
  /** Only these original layers (default: every decomposable layer). Naming a layer makes a mismatch an error. */
  readonly layers?: readonly string[];
}

export interface LayerChoice {
  readonly layer: string;
  readonly kind: DecompositionKind;
  readonly ranks: readonly number[];
  readonly reason: string;
  readonly before: Cost;
  readonly after: Cost;
}
export interface LayerSkip {
  readonly layer: string;
  readonly reason: string;
}
export interface RankChoice {
  readonly chosen: readonly LayerChoice[];
  readonly skipped: readonly LayerSkip[];
}

/** Parses --ranks: evbmf | weakened:0.7 | ratio:3x | ratio:params=3x | layer-ratio:3x | budget:macs=0.25 | conv2=8x8,fc1=16. */
export function parseRankRule(s: string): RankRule {
  const bad = (why: string) => new Error(`--ranks '${s}': ${why} (expected evbmf, weakened:W with 0 <= W <= 1, ratio:Nx, ratio:params=Nx, layer-ratio:Nx, budget:macs=F, budget:params=F with 0 < F < 1, or LAYER=R[xR],...)`);
  if (s === 'evbmf') return { kind: 'evbmf' };
  let m = /^weakened:([0-9.]+)$/.exec(s);
  if (m) {
    const w = Number(m[1]);
    if (!(w >= 0 && w <= 1)) throw bad(`weakening ${m[1]} is outside [0, 1]`);
    return { kind: 'weakened', w };
  }
  m = /^(layer-)?ratio:(?:(macs|params)=)?([0-9.]+)x?$/.exec(s);
  if (m) {
    const factor = Number(m[3]);
    if (!(factor > 1)) throw bad(`reduction ${m[3]} must be > 1`);
    return { kind: 'ratio', of: (m[2] as 'macs' | 'params' | undefined) ?? 'macs', factor, perLayer: !!m[1] };
  }
  m = /^budget:(macs|params)=([0-9.]+)$/.exec(s);
  if (m) {
    const fraction = Number(m[2]);
    if (!(fraction > 0 && fraction < 1)) throw bad(`budget fraction ${m[2]} must be in (0, 1)`);
    return { kind: 'budget', of: m[1] as 'macs' | 'params', fraction };
  }
  if (/^[^=,]+=[0-9x]+(,[^=,]+=[0-9x]+)*$/.test(s)) {
    const ranks: Record<string, number[]> = {};
    for (const part of s.split(',')) {
      const [layer, r] = part.split('=');
      ranks[layer] = r.split('x').map(Number);
      if (ranks[layer].some((v) => !Number.isInteger(v))) throw bad(`rank '${r}' of layer '${layer}' is not an integer`);
    }
    return { kind: 'fixed', ranks };
  }
  throw bad('unknown rule');
}

/** The decomposition kind a method uses on a layer: tucker2/cp on k×k convs, svd on dense and 1×1 convs. */
export function kindFor(method: Method, g: LayerGeometry): DecompositionKind | undefined {
  const kinds = kindsFor(g);
  if (method === 'svd') return kinds.includes('svd') ? 'svd' : undefined;
  return kinds.includes('svd') ? 'svd' : method;
}

/** Rank(s) the layer has now: the full rank of an original layer, the current ranks of a decomposed one. */
export function currentRanks(form: LayerForm, kind: DecompositionKind): number[] {
  const g = form.geometry;
  if (form.kind !== 'original') return [...form.ranks];
  if (kind === 'tucker2') return [g.S, g.T];
  if (kind === 'svd') return [Math.min(g.S, g.T)];
  return [Math.max(g.S, g.T)]; // CP: a starting rank with no exact meaning; see docs/compress.md
}

/**
 * The largest ranks a cost target may use: the current ranks, except for a CP decomposition of an
 * original layer, whose rank may exceed max(S, T): up to where CP stops being cheaper than the layer
 * (capped at the generic rank bound kh·kw·S·T / max(kh, kw, S, T)). Without this, CP could not be asked
 * for a mild reduction: at rank max(S, T) a 3×3 conv already costs ~4× less.
 */
export function rankCeiling(form: LayerForm, kind: DecompositionKind, of: 'macs' | 'params'): number[] {
  const full = currentRanks(form, kind);
  if (kind !== 'cp' || form.kind !== 'original') return full;
  const g = form.geometry;
  const before = of === 'macs' ? form.geometry.Ho * form.geometry.Wo * g.kh * g.kw * g.S * g.T : g.kh * g.kw * g.S * g.T + (g.useBias ? g.T : 0);
  const c1 = decomposedCost(g, 'cp', [1])[of];
  const c2 = decomposedCost(g, 'cp', [2])[of];
  const evenAt = Math.floor((before - (c1 - (c2 - c1))) / (c2 - c1));
  const bound = Math.floor((g.kh * g.kw * g.S * g.T) / Math.max(g.kh, g.kw, g.S, g.T));
  return [Math.max(full[0], Math.min(evenAt, bound))];
}

/** Channel-mode unfoldings of a [kh, kw, S, T] kernel (column order is irrelevant to singular values). */
function channelUnfoldings(k: Float32Array, kh: number, kw: number, S: number, T: number): { modeS: Float64Array; modeT: Float64Array } {
  const sp = kh * kw;
  const modeS = new Float64Array(S * sp * T);
  const modeT = new Float64Array(T * sp * S);
  for (let p = 0; p < sp; p++) {
    for (let s = 0; s < S; s++) {
      for (let t = 0; t < T; t++) {
        const v = k[(p * S + s) * T + t];
        modeS[s * sp * T + p * T + t] = v;
        modeT[t * sp * S + p * S + s] = v;
      }
    }
  }
  return { modeS, modeT };
}

/** EVBMF extreme ranks of the layer's current kernel (the core, for a decomposed layer). */
export function extremeRanks(form: LayerForm, kind: DecompositionKind): number[] {
  const g = form.geometry;
  if (form.kind === 'original') {
    const k = form.node.weights.kernel.data as Float32Array;
    if (kind === 'svd') return [Math.max(1, evbmf(k, g.S, g.T).rank)];
    const { modeS, modeT } = channelUnfoldings(k, g.kh, g.kw, g.S, g.T);
    const r3 = Math.max(1, evbmf(modeS, g.S, g.kh * g.kw * g.T).rank);
    const r4 = Math.max(1, evbmf(modeT, g.T, g.kh * g.kw * g.S).rank);
    return kind === 'tucker2' ? [r3, r4] : [Math.max(r3, r4)];
  }
  if (form.kind === 'tucker2') {
    const [r3, r4] = form.ranks;
    const core = form.nodes[1].weights.kernel.data as Float32Array;
    const { modeS, modeT } = channelUnfoldings(core, g.kh, g.kw, r3, r4);
    return [Math.max(1, evbmf(modeS, r3, g.kh * g.kw * r4).rank), Math.max(1, evbmf(modeT, r4, g.kh * g.kw * r3).rank)];
  }
  if (form.kind === 'svd') {
    const a = form.nodes[0].weights.kernel.data as Float32Array;
    const b = form.nodes[1].weights.kernel.data as Float32Array;
    const r0 = form.ranks[0];
    const prod = new Float64Array(g.S * g.T);
    for (let i = 0; i < g.S; i++) for (let p = 0; p < r0; p++) for (let j = 0; j < g.T; j++) prod[i * g.T + j] += a[i * r0 + p] * b[p * g.T + j];
    return [Math.max(1, evbmf(prod, g.S, g.T).rank)];
  }
  // CP: EVBMF on the channel factors' span has no clear meaning; use the output factor matrix (T × R).
  const out = form.nodes[3].weights.kernel.data as Float32Array;
  return [Math.max(1, evbmf(out, form.ranks[0], g.T).rank)];
}

/** Ranks scaled by a keep-fraction rho (Tucker-2 keeps R3:R4 in proportion), at least 1 each. */
const scaled = (full: readonly number[], rho: number): number[] => full.map((r) => Math.max(1, Math.min(r, Math.round(rho * r))));

/** The largest ranks (by keep-fraction) whose cost is at most `target`; undefined if even rank 1 exceeds it. */
function ranksForCost(g: LayerGeometry, kind: DecompositionKind, full: readonly number[], of: 'macs' | 'params', target: number): number[] | undefined {
  const cost = (r: readonly number[]) => decomposedCost(g, kind, r)[of];
  if (cost(scaled(full, 0)) > target) return undefined;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (cost(scaled(full, mid)) <= target) lo = mid;
    else hi = mid;
  }
  return scaled(full, lo);
}

interface Candidate {
  readonly layer: string;
  readonly form: LayerForm;
  readonly kind: DecompositionKind;
}

/** The layers a rule may touch, with their kinds; the rest are skipped with a reason. */
export function candidates(graph: Graph, method: Method, opts: RankOptions = {}): { cands: Candidate[]; skipped: LayerSkip[] } {
  const shapes = inferShapes(graph);
  const named = opts.layers;
  const ids = named ?? layerIds(graph);
  const cands: Candidate[] = [];
  const skipped: LayerSkip[] = [];
  for (const layer of ids) {
    if (named) {
      const form = layerForm(graph, layer, shapes); // throws for unknown / undecomposable layers
      const kind = kindFor(method, form.geometry);
      if (!kind || (method === 'cp' && kind !== 'cp') || (method === 'tucker2' && kind !== 'tucker2')) {
        const g = form.geometry;
        const what = g.op === OpKind.Dense ? 'a dense layer' : `a ${g.kh}×${g.kw} conv`;
        throw new IrError(`layer '${layer}' is ${what}; --method ${method} needs ${method === 'svd' ? 'a dense or 1×1 conv layer' : 'a conv2d with a kernel larger than 1×1'}`);
      }
      cands.push({ layer, form, kind });
      continue;
    }
    const nodes = graph.nodes.filter((n) => n.origin === layer);
    if (nodes.length === 1 && notDecomposable(nodes[0], shapes.get(nodes[0].inputs[0]) as Shape)) continue; // no weights to decompose: not a candidate
    const form = layerForm(graph, layer, shapes);
    const kind = kindFor(method, form.geometry);
    if (!kind) {
      skipped.push({ layer, reason: `${method} applies to dense and 1×1 conv layers` });
      continue;
    }
    if (form.kind !== 'original' && form.kind !== kind) {
      skipped.push({ layer, reason: `already ${form.kind}-decomposed` });
      continue;
    }
    const g = form.geometry;
    if (Math.min(g.S, g.T) === 1) {
      skipped.push({ layer, reason: `${g.S === 1 ? 'one input' : 'one output'} channel: left alone (SEEDS §2)` });
      continue;
    }
    cands.push({ layer, form, kind });
  }
  return { cands, skipped };
}

function costOf(form: LayerForm): Cost {
  return form.kind === 'original' ? originalCost(form.geometry) : decomposedCost(form.geometry, form.kind, form.ranks);
}

/** Choose ranks for every candidate layer by a rule (all but 'budget'). */
export function chooseRanks(graph: Graph, method: Method, rule: Exclude<RankRule, { kind: 'budget' }>, opts: RankOptions = {}): RankChoice {
  const layers = rule.kind === 'fixed' ? (opts.layers ?? Object.keys(rule.ranks)) : opts.layers;
  const { cands, skipped } = candidates(graph, method, { ...opts, layers });
  const chosen: LayerChoice[] = [];
  const minRank = opts.minRank ?? 21;
  const choose = (c: Candidate, ranks: number[], reason: string) => chosen.push({ layer: c.layer, kind: c.kind, ranks, reason, before: costOf(c.form), after: decomposedCost(c.form.geometry, c.kind, ranks) });
  if (rule.kind === 'fixed') {
    for (const c of cands) {
      const r = rule.ranks[c.layer];
      if (!r) throw new IrError(`--ranks names no rank for layer '${c.layer}'`);
      choose(c, [...r], 'given');
    }
    return { chosen, skipped };
  }
  if (rule.kind === 'evbmf' || rule.kind === 'weakened') {
    for (const c of cands) {
      const init = currentRanks(c.form, c.kind);
      if (Math.min(...init) < minRank) {
        skipped.push({ layer: c.layer, reason: `rank ${init.join('x')} is below the threshold ${minRank}` });
        continue;
      }
      const extreme = extremeRanks(c.form, c.kind);
      const w = rule.kind === 'evbmf' ? 1 : rule.w;
      const ranks = init.map((r0, i) => Math.max(1, Math.min(r0, Math.ceil(r0 - w * (r0 - extreme[i])))));
      const reason = rule.kind === 'evbmf' ? `EVBMF extreme rank ${extreme.join('x')}` : `weakened: ${init.join('x')} - ${w} x (${init.join('x')} - EVBMF ${extreme.join('x')})`;
      if (decomposedCost(c.form.geometry, c.kind, ranks).macs >= costOf(c.form).macs) {
        skipped.push({ layer: c.layer, reason: `${reason} -> ${ranks.join('x')} would not reduce MACs` });
        continue;
      }
      choose(c, ranks, reason);
    }
    return { chosen, skipped };
  }
  // Target reduction: every candidate layer is reduced by the same factor f; for a whole-network target,
  // f is found by bisection so the network total meets it (untouched layers keep their cost).
  const of = rule.of;
  // For a network target, a layer that cannot reach before/f even at rank 1 goes to rank 1 (as far as it can).
  const ranksAt = (c: Candidate, f: number): number[] | undefined => {
    const full = rankCeiling(c.form, c.kind, of);
    const r = ranksForCost(c.form.geometry, c.kind, full, of, costOf(c.form)[of] / f);
    if (r || rule.perLayer) return r;
    const lowest = scaled(full, 0);
    return decomposedCost(c.form.geometry, c.kind, lowest)[of] < costOf(c.form)[of] ? lowest : undefined;
  };
  const total = (graphTotal: number, f: number) => {
    let sum = graphTotal;
    for (const c of cands) {
      const before = costOf(c.form)[of];
      const r = ranksAt(c, f);
      sum += (r ? decomposedCost(c.form.geometry, c.kind, r)[of] : before) - before;
    }
    return sum;
  };
  const netBefore = networkCost(graph, of);
  let f = rule.factor;
  if (!rule.perLayer) {
    const target = netBefore / rule.factor;
    if (total(netBefore, 1e9) > target) {
      throw new IrError(`${of} reduction ${rule.factor}x is unreachable with ${method}: every candidate layer at rank 1 still leaves ${Math.round(total(netBefore, 1e9))} of ${netBefore} ${of} (${(netBefore / total(netBefore, 1e9)).toFixed(2)}x)`);
    }
    let lo = 1;
    let hi = 1e9;
    for (let i = 0; i < 200 && hi / lo > 1 + 1e-9; i++) {
      const mid = Math.sqrt(lo * hi);
      if (total(netBefore, mid) <= target) hi = mid;
      else lo = mid;
    }
    f = hi;
  }
  const picked = cands.map((c) => ranksAt(c, f));
  if (!rule.perLayer) {
    // Ranks are integers: spend the slack left under the target one rank step at a time, cheapest first.
    const target = netBefore / rule.factor;
    const cost = (i: number, r: readonly number[]) => decomposedCost(cands[i].form.geometry, cands[i].kind, r)[of];
    let sum = netBefore + picked.reduce((a, r, i) => a + (r ? cost(i, r) - costOf(cands[i].form)[of] : 0), 0);
    for (;;) {
      let best: { i: number; r: number[]; add: number } | undefined;
      picked.forEach((r, i) => {
        if (!r) return;
        const full = rankCeiling(cands[i].form, cands[i].kind, of);
        r.forEach((v, k) => {
          if (v >= full[k]) return;
          const up = r.map((x, j) => (j === k ? x + 1 : x));
          const add = cost(i, up) - cost(i, r);
          if (sum + add <= target && cost(i, up) < costOf(cands[i].form)[of] && (!best || add < best.add)) best = { i, r: up, add };
        });
      });
      if (!best) break;
      picked[best.i] = best.r;
      sum += best.add;
    }
  }
  cands.forEach((c, i) => {
    const r = picked[i];
    if (!r) {
      skipped.push({ layer: c.layer, reason: `cannot reach ${of} / ${f.toFixed(2)} even at rank 1` });
      return;
    }
    choose(c, r, rule.perLayer ? `layer ${of} / ${rule.factor}` : `network ${of} / ${rule.factor}: each layer's ${of} / ${f.toFixed(2)}, then rank steps into the slack`);
  });
  return { chosen, skipped };
}

/** Total params or MACs of a graph (the IR's own count). */
export function networkCost(graph: Graph, of: 'macs' | 'params'): number {
  const st = graphStats(graph);
  return of === 'macs' ? st.totalMacs : st.totalParams;
}
