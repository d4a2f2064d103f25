// Budgeted greedy allocation (seed 000's rank selection, with any cost): every option's sensitivity and cost
// come from the profile (each option applied alone). For a cost target, start from the base model and
// repeatedly take the move — one layer to a cheaper option — with the least added error per unit of cost
// saved, until the target is met. Targets sweep the reachable range of the cost in equal steps, one
// candidate each, so the candidates trace an accuracy–cost curve. With cost = MACs this is the classic
// MACs-only allocation; with cost = simulated energy or (predicted) latency it is hardware-aware.
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
 * `limits.candidates` distinct states of the descent, at cost targets spaced evenly between the base and the
 * cheapest reachable cost (a target whose state was already taken takes the next state down).
 */
export async function greedy(ctx: SearchContext): Promise<void> {
  const key = ctx.costKey;
  const states = descent(ctx.profile, key).slice(1);
  if (states.length === 0) return;
  const base = ctx.profile.base[key];
  const floor = states[states.length - 1].cost;
  const n = Math.min(ctx.problem.limits.candidates, states.length);
  let from = 0;
  for (let k = 1; k <= n && from < states.length; k++) {
    const target = base - ((base - floor) * k) / n;
    let i = states.findIndex((s, j) => j >= from && s.cost <= target + 1e-12 * Math.abs(base));
    if (i < 0) i = states.length - 1;
    i = Math.max(i, from);
    from = i + 1;
    ctx.log(`greedy: ${key} target ${fmt(target)} (${k}/${n}): move ${i + 1} of ${states.length}, estimated ${fmt(states[i].cost)}`);
    if (!(await ctx.evaluate(states[i].genome, `greedy:${key}`, states[i].why))) return;
  }
}
