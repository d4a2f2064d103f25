// Budgeted greedy allocation (seed 000's rank selection, with any cost): every option's sensitivity and cost
// come from the profile (each option applied alone). From the base model, repeatedly take the move — one
// layer to a cheaper option — with the least added error per unit of cost saved, down to the cheapest
// options. Along this descent, bisection finds the cheapest state that still meets the accuracy constraint,
// and the remaining candidates fill in the front. With cost = MACs this is the classic MACs-only allocation;
// with cost = simulated energy or (predicted) latency it is hardware-aware.
import type { Profile } from '../profile.js';
import type { SearchContext } from '../loop.js';

export interface Allocation {
  readonly genome: number[];
  /** Estimated cost (base + the sum of the chosen options' deltas). */
  readonly cost: number;
  /** Why each changed layer got its option. */
  readonly why: Map<string, string>;
}

const fmt = (x: number) => Number(x.toPrecision(3));

/**
 * The greedy descent from the base model to the cheapest options: after each move, the state (a genome, its
 * estimated cost, and why each changed layer has its option). Deterministic: ties by layer, then option.
 */
export function descent(profile: Profile, key: string): Allocation[] {
  const base = profile.base[key];
  const delta = profile.layers.map((l) => l.options.map((o) => o.cost[key] - base));
  const err = profile.layers.map((l) => l.options.map((o) => o.error));
  const genome = profile.layers.map(() => 0);
  const why = new Map<string, string>();
  let cost = base;
  const states: Allocation[] = [{ genome: [...genome], cost, why: new Map(why) }];
  for (;;) {
    let best: { l: number; o: number; score: number; saved: number; added: number } | undefined;
    delta.forEach((ds, l) =>
      ds.forEach((d, o) => {
        const saved = delta[l][genome[l]] - d;
        if (saved <= 0) return;
        const added = err[l][o] - err[l][genome[l]];
        const score = added / saved;
        if (!best || score < best.score) best = { l, o, score, saved, added };
      }),
    );
    if (!best) return states;
    const b: { l: number; o: number; score: number; saved: number; added: number } = best;
    genome[b.l] = b.o;
    cost -= b.saved;
    const l = profile.layers[b.l];
    why.set(l.layer, `least error per ${key} saved: ${l.options[b.o].text} adds ${fmt(b.added)} logits error for ${fmt(b.saved)} less (${fmt(b.score)} per unit)`);
    states.push({ genome: [...genome], cost, why: new Map(why) });
  }
}

/** The first state of the descent that meets `target` (or the cheapest one). */
export function allocate(profile: Profile, key: string, target: number): Allocation {
  const states = descent(profile, key);
  return states.find((s) => s.cost <= target) ?? states[states.length - 1];
}

/**
 * The cheapest state of the descent that still meets the accuracy constraint, found by bisection over the
 * states (accuracy falls along the descent), then the remaining candidates at states spaced evenly between
 * the base and it, which fill in the front. Every step is decided by evaluated (fine-tuned, measured)
 * candidates; the profile only orders the moves.
 */
export async function greedy(ctx: SearchContext): Promise<void> {
  const key = ctx.costKey;
  const states = descent(ctx.profile, key);
  const floor = ctx.baseline.metrics.accuracy - ctx.problem.accuracy.maxDropPp;
  const tried = new Map<number, boolean>([[0, true]]);
  const evalState = async (i: number, why: string): Promise<boolean | undefined> => {
    ctx.log(`greedy: ${why}: move ${i} of ${states.length - 1}, estimated ${key} ${fmt(states[i].cost)}`);
    const e = await ctx.evaluate(states[i].genome, `greedy:${key}`, states[i].why);
    if (!e) return undefined;
    const ok = e.metrics.accuracy >= floor;
    tried.set(i, ok);
    return ok;
  };
  // bisection: lo meets the constraint, hi does not (hi = states.length: beyond the cheapest state)
  let lo = 0;
  let hi = states.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const ok = await evalState(mid, `bisection between moves ${lo} and ${hi}`);
    if (ok === undefined) return;
    if (ok) lo = mid;
    else hi = mid;
  }
  // the rest: evenly between the base and the cheapest feasible state, then beyond it
  const spread = [...Array.from({ length: lo }, (_, j) => j + 1), ...Array.from({ length: states.length - 1 - lo }, (_, j) => lo + 1 + j)].filter((i) => !tried.has(i));
  const want = ctx.problem.limits.candidates;
  const picks = spread.length <= want ? spread : Array.from({ length: want }, (_, k) => spread[Math.round(((k + 0.5) * spread.length) / want - 0.5)]);
  for (const i of [...new Set(picks)]) if ((await evalState(i, 'filling in the front')) === undefined) return;
}
