// Multi-objective evolutionary search (NSGA-II) with a surrogate, in rounds. The surrogate estimates a genome
// from the option profile: error = the sum of its options' logits errors, each objective = the base value
// plus the sum of its options' cost changes (a target's latency comes from its latency predictor there).
// Each round evolves a population on the surrogate (cheap: no model is built), takes genomes spread along
// the surrogate's front that it predicts feasible (the first round, with no accuracy yet to fit, spreads
// over the whole front), and evaluates them for real (fine-tune, int8, simulate,
// measure). After each round the surrogate is refit to the real results: per objective a least-squares line
// from estimate to measured value (accuracy from the summed error), so later rounds aim with corrected numbers.
import { Nsga2 } from '../nsga2.js';
import type { Direction } from '../pareto.js';
import { metricKey } from '../problem.js';
import type { Evaluated, SearchContext } from '../loop.js';

/** Real evaluations per round. */
const BATCH = 4;
const POP = 40;
const GENERATIONS = 40;

interface Line {
  readonly a: number;
  readonly b: number;
}

/** Least-squares y = a + b·x; with fewer than 3 points or no spread in x, a shift of the identity (b = 1) or of the mean. */
export function fitLine(xs: readonly number[], ys: readonly number[], slope1 = true): Line {
  const n = xs.length;
  if (n === 0) return { a: 0, b: 1 };
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  if (n < 3 || sxx <= 1e-12 * Math.max(1, mx * mx)) return slope1 ? { a: my - mx, b: 1 } : { a: my, b: 0 };
  const b = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / sxx;
  return { a: my - b * mx, b };
}

export async function nsga2(ctx: SearchContext): Promise<void> {
  const p = ctx.problem;
  const prof = ctx.profile;
  const keys = p.objectives.map(metricKey);
  const floor = ctx.baseline.metrics.accuracy - p.accuracy.maxDropPp;
  const estimate = (g: readonly number[]) => {
    const err = g.reduce((s, o, l) => s + prof.layers[l].options[o].error, 0);
    const cost = keys.map((k) => prof.base[k] + g.reduce((s, o, l) => s + prof.layers[l].options[o].cost[k] - prof.base[k], 0));
    const budgets = p.budgets.map((b) => {
      const k = metricKey(b);
      return k in prof.base ? prof.base[k] + g.reduce((s, o, l) => s + prof.layers[l].options[o].cost[k] - prof.base[k], 0) : NaN;
    });
    return { err, cost, budgets };
  };
  const seen: { genome: number[]; e: Evaluated }[] = [];
  const dirs: Direction[] = ['max', ...keys.map(() => 'min' as const)];
  let initial: number[][] = [ctx.space.map(() => 0)];
  for (let round = 0; ; round++) {
    // refit the surrogate to everything evaluated so far (the baseline is the first point)
    const pts = [{ genome: ctx.space.map(() => 0), e: ctx.baseline }, ...seen];
    const est = pts.map((x) => estimate(x.genome));
    const accLine = fitLine(
      est.map((x) => x.err),
      pts.map((x) => x.e.metrics.accuracy),
      false,
    );
    const costLines = keys.map((k, j) =>
      fitLine(
        est.map((x) => x.cost[j]),
        pts.map((x) => x.e.metrics[k]),
      ),
    );
    const budgetLines = p.budgets.map((b, j) =>
      fitLine(
        est.map((x) => x.budgets[j]),
        pts.map((x) => x.e.metrics[metricKey(b)]),
      ),
    );
    // Until there are real accuracies to fit (the first round), nothing is known of how the summed error maps to
    // accuracy: the first round explores the whole surrogate front, mild to aggressive, without the constraint.
    const fitted = pts.length >= 3;
    const acc = (err: number) => (fitted ? accLine.a + accLine.b * err : ctx.baseline.metrics.accuracy - err);
    const corrected = (g: readonly number[]) => {
      const x = estimate(g);
      const objectives = [acc(x.err), ...x.cost.map((c, j) => costLines[j].a + costLines[j].b * c)];
      const over = p.budgets.reduce((s, b, j) => s + Math.max(0, (budgetLines[j].a + budgetLines[j].b * x.budgets[j] - b.max) / b.max), 0);
      const violation = (fitted ? Math.max(0, floor - objectives[0]) : 0) + over;
      return { objectives, violation };
    };
    const ga = new Nsga2({ domains: ctx.space.map((s) => s.options.length), popSize: POP, seed: p.seed * 1000 + round, dirs, initial });
    for (let gen = 0; gen < GENERATIONS; gen++) {
      const asked = ga.ask();
      if (asked.length === 0) break;
      const ev = asked.map(corrected);
      ga.tell(
        asked,
        ev.map((x) => x.objectives),
        ev.map((x) => x.violation),
      );
    }
    const done = new Set(pts.map((x) => x.genome.join()));
    const front = ga.population.filter((m) => m.rank === 0 && m.violation === 0 && !done.has(m.genome.join()));
    if (front.length === 0) {
      ctx.log(`nsga2: round ${round + 1}: the surrogate front has no new feasible genome; stopping`);
      return;
    }
    // spread along the front: sorted by the first hardware objective, evenly spaced picks
    front.sort((a, b) => a.objectives[1] - b.objectives[1] || a.genome.join().localeCompare(b.genome.join()));
    const picks = [...new Set(Array.from({ length: Math.min(BATCH, front.length) }, (_, i) => Math.round((i * (front.length - 1)) / Math.max(1, Math.min(BATCH, front.length) - 1))))].map((i) => front[i]);
    ctx.log(`nsga2: round ${round + 1}: surrogate front of ${front.length}; evaluating ${picks.length}`);
    for (const m of picks) {
      const why = new Map(
        ctx.space.flatMap((s, l) =>
          m.genome[l]
            ? [[s.layer, `NSGA-II round ${round + 1}: on the surrogate front (predicted accuracy ${m.objectives[0].toFixed(2)}%, ${keys.map((k, j) => `${k} ${Number(m.objectives[j + 1].toPrecision(3))}`).join(', ')})`] as [string, string]]
            : [],
        ),
      );
      const e = await ctx.evaluate(m.genome, `nsga2:${keys.join('+')}`, why);
      if (!e) return;
      seen.push({ genome: [...m.genome], e });
    }
    initial = ga.population.map((m) => m.genome);
  }
}
