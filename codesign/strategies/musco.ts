// Hardware-aware MUSCO (SEEDS §5): multi-stage rank reduction where each stage's per-layer weakening factor is
// set by the layer's share of the cost in the previous stage's evaluated model — simulated energy, measured
// latency, or MACs for the classic version — so the costliest layers are compressed first and hardest.
//
// Each layer keeps one decomposition kind through the stages (re-compression lowers ranks of the same kind):
// the kind whose middle rung saves the most cost per unit of added error in the option profile. That is where
// the hardware shows: CP's depthwise factors are cheap in MACs but map poorly onto crossbars.
// A stage moves layer l down round(w_l · step) rungs of the space's rank ladder (w_l = its share / the largest
// share; step = 1, or 2 once every layer with w >= 0.5 is at the bottom), and stops at the first candidate
// that misses the accuracy constraint or when nothing moves. Each stage's candidate is the base model with
// that stage's ranks, fine-tuned (so compressed Graph = apply(base, Plan) holds for every candidate).
import type { SearchContext } from '../loop.js';
import type { LayerSpace } from '../space.js';

const fmt = (x: number) => Number(x.toPrecision(3));

/** Per layer: its ladder of option indices for the chosen kind, highest rank first (index 0 = original). */
export function muscoLadders(ctx: Pick<SearchContext, 'space' | 'profile' | 'costKey'>): { ladder: number[]; kind: string; why: string }[] {
  const { space, profile, costKey: key } = ctx;
  return space.map((s: LayerSpace, l) => {
    const kinds = [...new Set(s.options.flatMap((o) => (o.kind === 'decompose' ? [o.method] : [])))];
    const prof = profile.layers[l].options;
    const base = prof[0].cost[key];
    let best: { kind: string; ladder: number[]; score: number; saved: number; added: number } | undefined;
    for (const kind of kinds) {
      const idx = s.options.map((o, i) => ({ o, i })).filter(({ o }) => o.kind === 'decompose' && o.method === kind);
      idx.sort((a, b) => (b.o.kind === 'decompose' ? b.o.fraction : 0) - (a.o.kind === 'decompose' ? a.o.fraction : 0));
      const mid = idx[Math.floor((idx.length - 1) / 2)].i;
      const saved = base - prof[mid].cost[key];
      const added = prof[mid].error;
      // cost saved per unit of error; an option that saves nothing ranks last
      const score = saved > 0 ? saved / Math.max(added, 1e-9) : -Infinity;
      if (!best || score > best.score) best = { kind, ladder: [0, ...idx.map((x) => x.i)], score, saved, added };
    }
    if (!best) return { ladder: [0], kind: 'none', why: 'no decomposition in the space' };
    return { ladder: best.ladder, kind: best.kind, why: `${best.kind}: its middle rank saves ${fmt(best.saved)} ${key} for ${fmt(best.added)} logits error` };
  });
}

export async function musco(ctx: SearchContext): Promise<void> {
  const key = ctx.costKey;
  const ladders = muscoLadders(ctx);
  const rung = ladders.map(() => 0);
  const floor = ctx.baseline.metrics.accuracy - ctx.problem.accuracy.maxDropPp;
  let last = ctx.baseline;
  for (let stage = 1; ; stage++) {
    // shares of the cost among the searchable layers, in the model evaluated last
    const cost = ctx.space.map((s) => last.layers.find((d) => d.layer === s.layer)?.cost?.[key] ?? 0);
    const top = Math.max(...cost);
    if (!(top > 0)) {
      ctx.log(`musco: no per-layer ${key} in the last candidate; stopping`);
      return;
    }
    const w = cost.map((c) => c / top);
    const heavyDone = ladders.every((L, l) => w[l] < 0.5 || rung[l] === L.ladder.length - 1);
    const step = heavyDone ? 2 : 1;
    const why = new Map<string, string>();
    let moved = false;
    ladders.forEach((L, l) => {
      const to = Math.min(L.ladder.length - 1, rung[l] + Math.round(w[l] * step));
      if (to !== rung[l]) moved = true;
      rung[l] = to;
      if (to > 0) why.set(ctx.space[l].layer, `stage ${stage}: ${key} share ${(100 * cost[l] / cost.reduce((a, b) => a + b, 0)).toFixed(1)}% -> weakening ${fmt(w[l])}, rung ${to} of ${L.ladder.length - 1}; ${L.why}`);
    });
    if (!moved) {
      ctx.log(`musco: stage ${stage}: every layer is at the bottom of its ladder`);
      return;
    }
    const genome = ladders.map((L, l) => L.ladder[rung[l]]);
    ctx.log(`musco: stage ${stage}: ${ctx.space.map((s, l) => `${s.layer} w=${fmt(w[l])}`).join(', ')}`);
    const e = await ctx.evaluate(genome, `musco:${key}`, why);
    if (!e) return;
    if (e.metrics.accuracy < floor) {
      ctx.log(`musco: stage ${stage} misses the accuracy constraint (${e.metrics.accuracy.toFixed(2)}% < ${floor.toFixed(2)}%); stopping`);
      return;
    }
    last = e;
  }
}
