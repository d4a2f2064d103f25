// Search utilities for the co-design loop: domination with mixed directions, non-dominated sorting, crowding
// distance and hypervolume against hand computations (and hypervolume against inclusion-exclusion), "best at
// equal X", front comparison; NSGA-II against a brute-forced true front, its determinism, replay of stored
// evaluations, constrained domination and an exhausted search space.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crowdedBetter, Nsga2 } from '../codesign/nsga2.js';
import {
  bestUnder,
  compareFronts,
  crowdingDistance,
  type Direction,
  dominates,
  hypervolume,
  hypervolume2d,
  nonDominatedSort,
  paretoFront,
} from '../codesign/pareto.js';
import { Rng } from '../compiler/util/rng.js';

const MINMIN: Direction[] = ['min', 'min'];
const close = (actual: number, expected: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} vs ${expected} (tol ${tol})`);

/** Hypervolume (all objectives minimised) by inclusion-exclusion over every subset: independent of HSO. */
function hvInclusionExclusion(points: number[][], ref: number[]): number {
  const pts = points.filter((p) => p.every((v, i) => v < ref[i]));
  let total = 0;
  for (let mask = 1; mask < 1 << pts.length; mask++) {
    const corner = ref.map(() => -Infinity);
    let bits = 0;
    pts.forEach((p, i) => {
      if (mask & (1 << i)) {
        bits++;
        p.forEach((v, m) => (corner[m] = Math.max(corner[m], v)));
      }
    });
    const box = corner.reduce((a, v, m) => a * (ref[m] - v), 1);
    total += bits % 2 === 1 ? box : -box;
  }
  return total;
}

describe('domination and non-dominated sorting', () => {
  it('dominates with mixed directions: no worse everywhere, strictly better somewhere', () => {
    const dirs: Direction[] = ['min', 'max'];
    assert.equal(dominates([1, 5], [2, 4], dirs), true);
    assert.equal(dominates([2, 4], [1, 5], dirs), false);
    assert.equal(dominates([1, 5], [1, 4], dirs), true, 'equal on one, better on the other');
    assert.equal(dominates([1, 5], [1, 5], dirs), false, 'equal points do not dominate');
    assert.equal(dominates([1, 4], [2, 5], dirs), false, 'trade-off: neither');
    assert.equal(dominates([2, 5], [1, 4], dirs), false, 'trade-off: neither');
    assert.equal(dominates([1, 4], [2, 5], MINMIN), true, 'the same pair with both minimised');
  });

  // Front 0: (1,5) (2,3) (4,1); front 1: (3,5) (4,3) (5,2); front 2: (5,4) (6,3); shuffled over the indices.
  const points = [
    [5, 4],
    [1, 5],
    [4, 3],
    [6, 3],
    [2, 3],
    [3, 5],
    [4, 1],
    [5, 2],
  ];
  const expected = [
    [1, 4, 6],
    [2, 5, 7],
    [0, 3],
  ];

  it('sorts 8 hand-made points into their 3 fronts, indices ascending', () => {
    assert.deepEqual(nonDominatedSort(points, MINMIN), expected);
    assert.deepEqual(paretoFront(points, MINMIN), [1, 4, 6]);
  });

  it('gives the same fronts when an objective is negated and maximised', () => {
    const flipped = points.map(([x, y]) => [x, -y]);
    assert.deepEqual(nonDominatedSort(flipped, ['min', 'max']), expected);
    const bothMax = points.map(([x, y]) => [-x, -y]);
    assert.deepEqual(nonDominatedSort(bothMax, ['max', 'max']), expected);
  });

  it('puts duplicates in the same front; handles empty input; rejects NaN and ragged points', () => {
    assert.deepEqual(nonDominatedSort([[1, 1], [0, 2], [1, 1], [2, 2]], MINMIN), [[0, 1, 2], [3]]);
    assert.deepEqual(nonDominatedSort([], MINMIN), []);
    assert.deepEqual(paretoFront([], MINMIN), []);
    assert.throws(() => nonDominatedSort([[1, NaN]], MINMIN), /non-finite/);
    assert.throws(() => nonDominatedSort([[1, 2, 3]], MINMIN), /3 values, expected 2/);
  });

  it('constrained domination: every feasible point before every infeasible one; infeasible by violation', () => {
    // The infeasible points (4..7) dominate every feasible one (0..3) on the objectives.
    const pts = [
      [5, 5],
      [6, 4],
      [7, 7],
      [4, 6],
      [0, 0],
      [1, 1],
      [0, 1],
      [2, 2],
    ];
    const viol = [0, 0, 0, 0, 3, 0.5, 0.5, 1];
    assert.deepEqual(nonDominatedSort(pts, MINMIN, viol), [[0, 1, 3], [2], [5, 6], [7], [4]]);
    assert.deepEqual(nonDominatedSort(pts, MINMIN)[0], [4], 'without violations the infeasible point wins');
    assert.throws(() => nonDominatedSort(pts, MINMIN, [0]), /1 violations for 8 points/);
    assert.throws(() => nonDominatedSort([[0, 0]], MINMIN, [-1]), /not >= 0/);
  });
});

describe('crowding distance', () => {
  it('matches a hand computation on a 4-point front (extremes Infinity, normalised by range)', () => {
    // (0,10) (1,6) (3,3) (6,0), embedded at indices 4, 1, 3, 0 of a larger set. Ranges: 6 and 10.
    const pts = [
      [6, 0],
      [1, 6],
      [99, 99],
      [3, 3],
      [0, 10],
    ];
    const cd = crowdingDistance(pts, [4, 1, 3, 0], MINMIN);
    assert.equal(cd.size, 4);
    assert.equal(cd.get(4), Infinity);
    assert.equal(cd.get(0), Infinity);
    close(cd.get(1)!, (3 - 0) / 6 + (10 - 3) / 10, 1e-12, '(1,6)'); // 1.2
    close(cd.get(3)!, (6 - 1) / 6 + (6 - 0) / 10, 1e-12, '(3,3)'); // 1.4333…
    const cdMax = crowdingDistance(pts, [4, 1, 3, 0], ['max', 'min']);
    assert.deepEqual([...cdMax.entries()].sort(), [...cd.entries()].sort(), 'direction-independent');
  });

  it('gives Infinity to fronts of 1-2 points and skips an objective with zero range', () => {
    assert.deepEqual([...crowdingDistance([[1, 2], [2, 1]], [0, 1], MINMIN).values()], [Infinity, Infinity]);
    // Second objective constant: only the first counts; its extremes are 0 and 3.
    const cd = crowdingDistance([[0, 5], [1, 5], [3, 5], [4, 5]], [0, 1, 2, 3], MINMIN);
    assert.deepEqual([cd.get(0), cd.get(1), cd.get(2), cd.get(3)], [Infinity, 3 / 4, 3 / 4, Infinity]);
  });
});

describe('hypervolume', () => {
  // A staircase (0.5,3.25) (1.25,2) (3,0.75) against (4,4), plus a dominated point, one outside the reference
  // and one on its boundary (zero area). By hand: 3.5·0.75 + 2.75·1.25 + 1·1.25 = 2.625 + 3.4375 + 1.25.
  const stairs = [
    [1.25, 2],
    [2, 2.5],
    [0.5, 3.25],
    [4.5, 0.1],
    [3, 0.75],
    [4, 0.2],
  ];
  const HAND = 7.3125;

  it('hypervolume2d of a staircase equals the hand computation', () => {
    close(hypervolume2d(stairs, MINMIN, [4, 4]), HAND, 1e-12);
    close(hypervolume2d(stairs.map(([x, y]) => [x, -y]), ['min', 'max'], [4, -4]), HAND, 1e-12, 'second maximised');
    assert.equal(hypervolume2d([], MINMIN, [4, 4]), 0);
    assert.equal(hypervolume2d([[5, 5]], MINMIN, [4, 4]), 0, 'a point not dominating ref adds nothing');
    close(hypervolume(stairs, MINMIN, [4, 4]), HAND, 1e-12, 'general version in 2-D');
  });

  it('3-D hypervolume equals hand computations for 2 and 3 boxes', () => {
    const ref = [4, 4, 4];
    // Boxes 3·2·1 = 6 and 2·3·2 = 12 overlapping in 2·2·1 = 4.
    close(hypervolume([[1, 2, 3], [2, 1, 2]], ['min', 'min', 'min'], ref), 14, 1e-12);
    // A third box 1·1·3 = 3, overlapping the first in 1, the second in 2, both in 1: 6+12+3-4-1-2+1.
    const three = [
      [1, 2, 3],
      [2, 1, 2],
      [3, 3, 1],
    ];
    close(hypervolume(three, ['min', 'min', 'min'], ref), 15, 1e-12);
    // Same boxes with the objectives maximised (negated).
    close(hypervolume(three.map((p) => p.map((v) => -v)), ['max', 'max', 'max'], [-4, -4, -4]), 15, 1e-12);
  });

  it('3-D hypervolume with a constant third objective equals hypervolume2d times its depth', () => {
    const rng = new Rng(7);
    const pts2 = Array.from({ length: 60 }, () => [rng.int(1000) / 8, rng.int(1000) / 8]);
    const hv2 = hypervolume2d(pts2, MINMIN, [130, 130]);
    assert.ok(hv2 > 0);
    assert.equal(hypervolume(pts2.map(([x, y]) => [x, y, 3]), ['min', 'min', 'min'], [130, 130, 4]), hv2);
    close(hypervolume(pts2.map(([x, y]) => [x, y, 3]), ['min', 'min', 'max'], [130, 130, 0.5]), 2.5 * hv2, 1e-12 * hv2);
  });

  it('equals inclusion-exclusion on random integer sets in 3 and 4 objectives', () => {
    const rng = new Rng(11);
    for (const d of [3, 4]) {
      for (let trial = 0; trial < 20; trial++) {
        const n = 2 + rng.int(9);
        const pts = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.int(10)));
        const ref = Array.from({ length: d }, () => 8 + rng.int(4));
        const dirs = Array.from({ length: d }, () => 'min' as const);
        assert.equal(hypervolume(pts, dirs, ref), hvInclusionExclusion(pts, ref), `d=${d} trial ${trial}`);
      }
    }
  });
});

describe('bestUnder and compareFronts', () => {
  // [accuracy %, energy µJ]: maximise accuracy, minimise energy.
  const dirs: Direction[] = ['max', 'min'];
  const pts = [
    [93.1, 10],
    [92.8, 7],
    [92.0, 4],
    [92.7, 7],
    [91.0, 2],
    [92.8, 7],
  ];

  it('bestUnder: lowest energy at accuracy >= a bound; ties to the more accurate, then the lower index', () => {
    assert.equal(bestUnder(pts, 1, dirs, { index: 0, atLeast: 92.7 }), 1, '7 µJ; 92.8% beats 92.7%; index 1 before 5');
    assert.equal(bestUnder(pts, 1, dirs, { index: 0, atLeast: 93 }), 0);
    assert.equal(bestUnder(pts, 1, dirs, { index: 0, atLeast: 95 }), undefined);
    assert.equal(bestUnder(pts, 0, dirs, { index: 1, atMost: 5 }), 2, 'most accurate within 5 µJ');
    assert.equal(bestUnder(pts, 0, dirs, { index: 1, atLeast: 3, atMost: 7 }), 1);
    assert.throws(() => bestUnder(pts, 2, dirs, { index: 0 }), /no objective 2/);
  });

  it('compareFronts: coverage both ways and hypervolumes against the shared, pushed-out reference', () => {
    const a = [
      [1, 3],
      [3, 1],
    ];
    const b = [
      [2, 4],
      [4, 2],
      [1, 3],
    ];
    const c = compareFronts(a, b, MINMIN);
    assert.deepEqual(c.frontA, [0, 1]);
    assert.deepEqual(c.frontB, [1, 2]);
    assert.equal(c.aCoversB, 1, "(4,2) is dominated by (3,1); (1,3) equals a's (1,3)");
    assert.equal(c.bCoversA, 0.5, "(3,1) escapes b's front");
    close(c.ref[0], 4.03, 1e-12);
    close(c.ref[1], 4.03, 1e-12);
    close(c.hypervolumeA, 3.03 * 1.03 + 1.03 * 2, 1e-12);
    close(c.hypervolumeB, hypervolume2d([[4, 2], [1, 3]], MINMIN, c.ref), 1e-12);
    assert.ok(c.hypervolumeA > c.hypervolumeB);
    assert.throws(() => compareFronts([], b, MINMIN), /set a is empty/);
  });
});

describe('NSGA-II', () => {
  // Six "compression levels" with unequal domains; f1 = weighted compression cost, f2 = squared distance from
  // full compression. Both minimised; 10·10·10·10·8·6 = 480000 genomes, enumerable.
  const DOMAINS = [10, 10, 10, 10, 8, 6];
  const W = [1, 2, 3, 1, 2, 3];
  const evaluate = (g: readonly number[]): number[] => [
    g.reduce((s, v, i) => s + W[i] * v, 0),
    g.reduce((s, v, i) => s + (DOMAINS[i] - 1 - v) ** 2, 0),
  ];

  /** The true front by brute force: every genome, sorted on f1, swept for strictly falling f2. */
  function trueFront(): number[][] {
    const all: number[][] = [];
    const g = DOMAINS.map(() => 0);
    for (;;) {
      all.push(evaluate(g));
      let i = 0;
      while (i < g.length && ++g[i] === DOMAINS[i]) g[i++] = 0;
      if (i === g.length) break;
    }
    assert.equal(all.length, 480000);
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const front: number[][] = [];
    for (const p of all) if (front.length === 0 || p[1] < front[front.length - 1][1]) front.push(p);
    return front;
  }

  /** ask/tell for `gens` generations; returns every asked batch. */
  function run(opt: Nsga2, gens: number, f = evaluate): number[][][] {
    const asked: number[][][] = [];
    for (let k = 0; k < gens; k++) {
      const gs = opt.ask();
      asked.push(gs);
      opt.tell(gs, gs.map(f));
    }
    return asked;
  }

  it('reaches >= 95% of the true front hypervolume (brute-forced) in 1240 evaluations, well above random', () => {
    const truth = trueFront();
    const maxF1 = DOMAINS.reduce((s, d, i) => s + W[i] * (d - 1), 0);
    const maxF2 = DOMAINS.reduce((s, d) => s + (d - 1) ** 2, 0);
    const ref = [maxF1 + 1, maxF2 + 1];
    const hvTrue = hypervolume2d(truth, MINMIN, ref);
    for (const seed of [1, 2, 3]) {
      const opt = new Nsga2({ domains: DOMAINS, popSize: 40, seed, dirs: MINMIN, initial: [DOMAINS.map(() => 0)] });
      const asked = run(opt, 31);
      const evaluated = asked.flat();
      assert.equal(new Set(evaluated.map((g) => g.join())).size, evaluated.length, 'no genome evaluated twice');
      assert.ok(evaluated.length <= 1240);
      const found = opt.population.filter((m) => m.rank === 0).map((m) => m.objectives);
      const ratio = hypervolume2d(found, MINMIN, ref) / hvTrue;
      assert.ok(ratio >= 0.95 && ratio <= 1 + 1e-12, `seed ${seed}: hypervolume ratio ${ratio}`);
      // The reference makes the ratio saturate (random search gets ~0.94), so also demand a clear lead over it.
      const rng = new Rng(seed);
      const random = Array.from({ length: evaluated.length }, () => evaluate(DOMAINS.map((d) => rng.int(d))));
      const randomRatio = hypervolume2d(random, MINMIN, ref) / hvTrue;
      assert.ok(ratio > randomRatio + 0.02, `seed ${seed}: NSGA-II ${ratio} vs random search ${randomRatio}`);
    }
  });

  it('crowded comparison: lower rank first, then larger crowding distance; ties are not better', () => {
    assert.equal(crowdedBetter({ rank: 0, crowding: 0.1 }, { rank: 1, crowding: Infinity }), true);
    assert.equal(crowdedBetter({ rank: 1, crowding: Infinity }, { rank: 0, crowding: 0.1 }), false);
    assert.equal(crowdedBetter({ rank: 2, crowding: Infinity }, { rank: 2, crowding: 3 }), true);
    assert.equal(crowdedBetter({ rank: 2, crowding: 0.5 }, { rank: 2, crowding: 3 }), false);
    assert.equal(crowdedBetter({ rank: 2, crowding: Infinity }, { rank: 2, crowding: Infinity }), false);
  });

  it('the first ask is the deduplicated initial genomes topped up with random ones', () => {
    const zeros = DOMAINS.map(() => 0);
    const initial = [zeros, zeros, [1, 1, 1, 1, 1, 1]];
    const opt = new Nsga2({ domains: DOMAINS, popSize: 10, seed: 5, dirs: MINMIN, initial });
    const first = opt.ask();
    assert.equal(first.length, 10);
    assert.deepEqual(first.slice(0, 2), [zeros, [1, 1, 1, 1, 1, 1]]);
    assert.equal(new Set(first.map((g) => g.join())).size, 10);
    for (const g of first) g.forEach((v, i) => assert.ok(Number.isInteger(v) && v >= 0 && v < DOMAINS[i]));
    assert.throws(() => opt.ask(), /tell\(\) the initial population/);
  });

  it('is deterministic: the same seed asks the same genomes for 5 generations; another seed does not', () => {
    const mk = (seed: number) => new Nsga2({ domains: DOMAINS, popSize: 20, seed, dirs: MINMIN });
    const a = run(mk(42), 5);
    const b = run(mk(42), 5);
    assert.deepEqual(a, b);
    assert.equal(a.length, 5);
    for (const batch of a) assert.equal(batch.length, 20);
    assert.notDeepEqual(run(mk(43), 5), a);
  });

  it('replays: a fresh run told the stored evaluations asks the same genomes and ends with the same population', () => {
    // Mixed directions and a constraint, so the replay goes through constrained survival too.
    const dirs: Direction[] = ['max', 'min'];
    const f = (g: readonly number[]) => {
      const [c, e] = evaluate(g);
      return [-c, e];
    };
    const viol = (g: readonly number[]) => Math.max(0, g[0] + g[1] - 12);
    const opts = { domains: DOMAINS, popSize: 16, seed: 9, dirs, crossoverRate: 0.8, mutationRate: 0.3 };
    const store = new Map<string, { objectives: number[]; violation: number }>();
    const a = new Nsga2(opts);
    const askedA: number[][][] = [];
    for (let k = 0; k < 5; k++) {
      const gs = a.ask();
      askedA.push(gs);
      for (const g of gs) store.set(g.join(), { objectives: f(g), violation: viol(g) });
      a.tell(gs, gs.map((g) => store.get(g.join())!.objectives), gs.map((g) => store.get(g.join())!.violation));
    }
    const killedAsk = a.ask(); // the generation a killed run was evaluating

    const b = new Nsga2(opts);
    for (let k = 0; k < 5; k++) {
      const gs = b.ask();
      assert.deepEqual(gs, askedA[k], `generation ${k}`);
      const stored = gs.map((g) => store.get(g.join())!);
      b.tell(gs, stored.map((s) => s.objectives), stored.map((s) => s.violation));
    }
    assert.equal(b.generation, 5);
    assert.deepEqual(b.population, a.population);
    assert.deepEqual(b.ask(), killedAsk);
  });

  it('constrained survival: a feasible genome always outranks an infeasible one', () => {
    const opt = new Nsga2({ domains: [4, 4], popSize: 6, seed: 1, dirs: MINMIN });
    // Infeasible points dominate the feasible ones on the objectives.
    const genomes = [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [2, 3],
      [3, 2],
    ];
    const objectives = [
      [0, 0],
      [0, 1],
      [1, 0],
      [5, 5],
      [6, 4],
      [4, 6],
      [7, 7],
      [8, 8],
    ];
    const violation = [2, 1, 1, 0, 0, 0, 0, 0];
    opt.tell(genomes, objectives, violation);
    const pop = opt.population;
    assert.equal(pop.length, 6);
    assert.equal(pop.filter((m) => m.violation === 0).length, 5, 'all five feasible survive');
    const worstFeasible = Math.max(...pop.filter((m) => m.violation === 0).map((m) => m.rank));
    const bestInfeasible = Math.min(...pop.filter((m) => m.violation > 0).map((m) => m.rank));
    assert.ok(worstFeasible < bestInfeasible, `feasible ranks <= ${worstFeasible}, infeasible from ${bestInfeasible}`);
    const front0 = pop.filter((m) => m.rank === 0).map((m) => m.genome.join());
    assert.deepEqual(front0.sort(), ['1,1', '2,2', '3,3'], 'front 0: the non-dominated feasible ones');
    assert.deepEqual(pop[5].violation, 1, 'violation 1 kept over violation 2');
  });

  it('a genome told again does not enter the population twice; its first evaluation stands', () => {
    const opt = new Nsga2({ domains: [3, 3], popSize: 4, seed: 1, dirs: MINMIN });
    opt.tell([[0, 0]], [[1, 1]]);
    opt.tell([[0, 0], [1, 2], [1, 2]], [[0, 0], [2, 0], [0, 2]]);
    const pop = opt.population.map((m) => `${m.genome.join()}:${m.objectives.join()}`).sort();
    assert.deepEqual(pop, ['0,0:1,1', '1,2:2,0']);
    assert.equal(opt.generation, 2);
  });

  it('asks fewer when the space runs out, never repeating a genome, then nothing', () => {
    const opt = new Nsga2({ domains: [2, 3, 1], popSize: 4, seed: 3, dirs: MINMIN, initial: [[0, 0, 0]] });
    const seen = new Set<string>();
    const sizes: number[] = [];
    for (let k = 0; k < 4; k++) {
      const gs = opt.ask();
      sizes.push(gs.length);
      for (const g of gs) {
        assert.ok(!seen.has(g.join()), `repeated ${g.join()}`);
        seen.add(g.join());
        assert.equal(g[2], 0);
      }
      opt.tell(gs, gs.map((g) => [g[0], -g[1]]));
    }
    assert.deepEqual(sizes, [4, 2, 0, 0]);
    assert.equal(seen.size, 6);
  });

  it('rejects bad options and bad evaluations', () => {
    assert.throws(() => new Nsga2({ domains: [], popSize: 4, seed: 1, dirs: MINMIN }), /no genes/);
    assert.throws(() => new Nsga2({ domains: [2, 0], popSize: 4, seed: 1, dirs: MINMIN }), /domain 0/);
    assert.throws(() => new Nsga2({ domains: [2], popSize: 1, seed: 1, dirs: MINMIN }), /popSize 1/);
    assert.throws(() => new Nsga2({ domains: [2], popSize: 4, seed: 1, dirs: MINMIN, initial: [[2]] }), /gene 0 = 2/);
    const opt = new Nsga2({ domains: [3, 3], popSize: 4, seed: 1, dirs: MINMIN });
    assert.throws(() => opt.tell([[0, 3]], [[1, 1]]), /gene 1 = 3/);
    assert.throws(() => opt.tell([[0, 1]], [[1, NaN]]), /non-finite/);
    assert.throws(() => opt.tell([[0, 1]], [[1]]), /1 objectives, expected 2/);
    assert.throws(() => opt.tell([[0, 1]], [[1, 1]], [-1]), /violation -1/);
  });
});
