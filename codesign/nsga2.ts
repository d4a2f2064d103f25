// NSGA-II (Deb et al. 2002) over integer genomes, driven by ask/tell so the caller evaluates candidates however
// it likes (asynchronously, in a child process, from a store) and can resume a killed run by replaying stored
// evaluations: the search draws randomness only in ask(), so the same seed and the same told objectives give
// the same asked genomes.
import { Rng } from '../compiler/util/rng.js';
import { crowdingDistance, type Direction, nonDominatedSort } from './pareto.js';

export interface Nsga2Options {
  /** Gene i takes the values 0..domains[i]-1. */
  readonly domains: readonly number[];
  /** Survivors per generation, and offspring asked per generation. */
  readonly popSize: number;
  readonly seed: number;
  /** One direction per objective, as told. */
  readonly dirs: readonly Direction[];
  /** Probability that two parents are recombined (uniform crossover) rather than copied. Default 0.9. */
  readonly crossoverRate?: number;
  /** Per-gene mutation probability. Default 1/genes. */
  readonly mutationRate?: number;
  /** Genomes evaluated first (e.g. all zeros = uncompressed); deduplicated, then topped up with random ones. */
  readonly initial?: readonly (readonly number[])[];
}

export interface Nsga2Member {
  genome: number[];
  objectives: number[];
  /** 0 = feasible; larger = further from feasible (Deb's constrained domination). */
  violation: number;
  /** Non-dominated front, 0 = best. */
  rank: number;
  /** Crowding distance within its front (Infinity at the extremes). */
  crowding: number;
}

/** Re-mutations tried per offspring that duplicates an evaluated genome before it is dropped. */
const MAX_REMUTATIONS = 32;
/** Random draws per population slot for the first generation; bounds the search when the space is tiny. */
const MAX_RANDOM_TRIES = 64;

const key = (g: readonly number[]) => g.join(',');
const bad = (msg: string): never => {
  throw new RangeError(`nsga2: ${msg}`);
};

export class Nsga2 {
  private readonly rng: Rng;
  private readonly crossoverRate: number;
  private readonly mutationRate: number;
  /** Every genome ever asked or told: offspring are kept out of it so no evaluation is spent twice. */
  private readonly seen = new Set<string>();
  /** Size of the search space (a float; may be huge). */
  private readonly spaceSize: number;
  private members: Nsga2Member[] = [];
  private asked = false;
  private tells = 0;

  constructor(private readonly o: Nsga2Options) {
    const genes = o.domains.length;
    if (genes === 0) bad('no genes');
    for (const d of o.domains) if (!(Number.isInteger(d) && d >= 1)) bad(`domain ${d} is not an integer >= 1`);
    if (!(Number.isInteger(o.popSize) && o.popSize >= 2)) bad(`popSize ${o.popSize} is not an integer >= 2`);
    if (o.dirs.length === 0) bad('no objectives');
    this.crossoverRate = o.crossoverRate ?? 0.9;
    this.mutationRate = o.mutationRate ?? 1 / genes;
    for (const [name, p] of [['crossoverRate', this.crossoverRate], ['mutationRate', this.mutationRate]] as const) {
      if (!(p >= 0 && p <= 1)) bad(`${name} ${p} is not in [0, 1]`);
    }
    for (const g of o.initial ?? []) this.checkGenome(g, 'initial genome');
    this.rng = new Rng(o.seed);
    this.spaceSize = o.domains.reduce((a, d) => a * d, 1);
  }

  /** Completed tell() calls (0 before the first). */
  get generation(): number {
    return this.tells;
  }

  /** The current survivors, best first (by rank, then crowding), as copies. */
  get population(): Nsga2Member[] {
    return this.members.map((m) => ({ ...m, genome: [...m.genome], objectives: [...m.objectives] }));
  }

  /**
   * The genomes to evaluate next. First call: the initial genomes (deduplicated) topped up with random ones to
   * popSize. Later calls: popSize offspring of the current population, none evaluated or asked before. Returns
   * fewer (possibly none) when the space is (nearly) exhausted.
   */
  ask(): number[][] {
    if (!this.asked) {
      this.asked = true;
      return this.initialPopulation();
    }
    if (this.members.length === 0) throw new Error('nsga2: tell() the initial population before asking again');
    return this.offspring();
  }

  /**
   * Evaluations, in any order and any number (normally what ask() returned; genomes never asked are welcome too,
   * e.g. another strategy's candidates). `violation[i]` is 0 for a feasible point, else how far it is from
   * feasible (Infinity for a failed evaluation, with any finite objectives). A genome already in the
   * population is not added again (its first evaluation stands). Survival is elitist (μ+λ): the best popSize
   * of population + told by constrained non-dominated sort, then crowding distance.
   */
  tell(
    genomes: readonly (readonly number[])[],
    objectives: readonly (readonly number[])[],
    violation?: readonly number[],
  ): void {
    const n = genomes.length;
    if (objectives.length !== n) bad(`${objectives.length} objective rows for ${n} genomes`);
    if (violation && violation.length !== n) bad(`${violation.length} violations for ${n} genomes`);
    // Validate everything before changing state, so a bad row leaves the search as it was.
    genomes.forEach((g, i) => {
      this.checkGenome(g, 'told genome');
      const k = key(g);
      const m = this.o.dirs.length;
      if (objectives[i].length !== m) bad(`genome [${k}] has ${objectives[i].length} objectives, expected ${m}`);
      for (const v of objectives[i]) if (!Number.isFinite(v)) bad(`genome [${k}] has a non-finite objective ${v}`);
      const viol = violation?.[i] ?? 0;
      if (!(viol >= 0)) bad(`genome [${k}] has violation ${viol}, expected >= 0`);
    });
    const inPopulation = new Set(this.members.map((m) => key(m.genome)));
    const pool = [...this.members];
    genomes.forEach((g, i) => {
      const k = key(g);
      this.seen.add(k);
      if (inPopulation.has(k)) return;
      inPopulation.add(k);
      const violationI = violation?.[i] ?? 0;
      pool.push({ genome: [...g], objectives: [...objectives[i]], violation: violationI, rank: 0, crowding: 0 });
    });
    this.members = survivors(pool, this.o.popSize, this.o.dirs);
    this.tells++;
  }

  private checkGenome(g: readonly number[], what: string): void {
    const d = this.o.domains;
    const at = `${what} [${key(g)}]`;
    if (g.length !== d.length) bad(`${at} has ${g.length} genes, expected ${d.length}`);
    g.forEach((v, i) => {
      if (!(Number.isInteger(v) && v >= 0 && v < d[i])) bad(`${at}: gene ${i} = ${v} is not in 0..${d[i] - 1}`);
    });
  }

  private exhausted(): boolean {
    return this.seen.size >= this.spaceSize;
  }

  private initialPopulation(): number[][] {
    const out: number[][] = [];
    const take = (g: readonly number[]) => {
      const k = key(g);
      if (this.seen.has(k)) return false;
      this.seen.add(k);
      out.push([...g]);
      return true;
    };
    for (const g of this.o.initial ?? []) take(g);
    let tries = 0;
    while (out.length < this.o.popSize && !this.exhausted() && tries < MAX_RANDOM_TRIES * this.o.popSize) {
      tries++;
      take(this.o.domains.map((d) => this.rng.int(d)));
    }
    return out;
  }

  private offspring(): number[][] {
    const out: number[][] = [];
    const n = this.o.popSize;
    // Each round makes two children; enough rounds for the duplicates dropped near exhaustion.
    for (let round = 0; out.length < n && round < 4 * n && !this.exhausted(); round++) {
      const a = this.tournament().genome;
      const b = this.tournament().genome;
      let c1 = [...a];
      let c2 = [...b];
      if (this.rng.next() < this.crossoverRate) [c1, c2] = this.uniformCrossover(a, b);
      for (const child of [c1, c2]) {
        if (out.length >= n) break;
        this.mutate(child);
        if (this.makeUnseen(child)) {
          this.seen.add(key(child));
          out.push(child);
        }
      }
    }
    return out;
  }

  /** Binary tournament on the crowded comparison; a tie goes to the first drawn. */
  private tournament(): Nsga2Member {
    const m = this.members;
    if (m.length === 1) return m[0];
    const i = this.rng.int(m.length);
    let j = this.rng.int(m.length - 1);
    if (j >= i) j++;
    return crowdedBetter(m[j], m[i]) ? m[j] : m[i];
  }

  /** Each gene from either parent with probability 1/2; the second child takes the other parent's gene. */
  private uniformCrossover(a: readonly number[], b: readonly number[]): [number[], number[]] {
    const c1: number[] = [];
    const c2: number[] = [];
    for (let i = 0; i < a.length; i++) {
      const swap = this.rng.next() < 0.5;
      c1.push(swap ? b[i] : a[i]);
      c2.push(swap ? a[i] : b[i]);
    }
    return [c1, c2];
  }

  /**
   * Per-gene mutation to a uniformly random *other* value (not ±1): genes may be categorical (which
   * decomposition, which target), where neighbouring values need not be similar. On the ordinal test problem
   * ±1 steps reached the same hypervolume (within 0.5%), so the choice costs little where genes are ordered.
   */
  private mutate(g: number[]): void {
    for (let i = 0; i < g.length; i++) if (this.rng.next() < this.mutationRate) this.resetGene(g, i);
  }

  private resetGene(g: number[], i: number): void {
    const d = this.o.domains[i];
    if (d < 2) return;
    const v = this.rng.int(d - 1);
    g[i] = v >= g[i] ? v + 1 : v;
  }

  /**
   * If g was already asked or told, re-mutates it (one random mutable gene to another value, cumulatively: a
   * short random walk) up to MAX_REMUTATIONS times. False if it stays a duplicate.
   */
  private makeUnseen(g: number[]): boolean {
    const mutable = this.o.domains.flatMap((d, i) => (d >= 2 ? [i] : []));
    for (let t = 0; this.seen.has(key(g)); t++) {
      if (t >= MAX_REMUTATIONS || mutable.length === 0) return false;
      this.resetGene(g, mutable[this.rng.int(mutable.length)]);
    }
    return true;
  }
}

type Ranked = Pick<Nsga2Member, 'rank' | 'crowding'>;

/** Deb et al.'s crowded comparison: a lower rank wins; within a rank, the larger crowding distance. */
export function crowdedBetter(a: Ranked, b: Ranked): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.crowding > b.crowding);
}

/**
 * The best `size` of `pool` (Deb et al. 2002 §III-C): whole fronts while they fit, then the last front's most
 * crowded-apart members. Rank and crowding are recomputed on the survivors so tournaments see the crowding of
 * the population they select from. Ties keep pool order, so survival is deterministic.
 */
function survivors(pool: Nsga2Member[], size: number, dirs: readonly Direction[]): Nsga2Member[] {
  const sortFronts = (members: Nsga2Member[]) => {
    const objs = members.map((m) => m.objectives);
    const fronts = nonDominatedSort(objs, dirs, members.map((m) => m.violation));
    return { objs, fronts };
  };
  const { objs, fronts } = sortFronts(pool);
  const kept: number[] = [];
  for (const front of fronts) {
    if (kept.length + front.length <= size) {
      kept.push(...front);
      continue;
    }
    const cd = crowdingDistance(objs, front, dirs);
    const byCrowding = [...front].sort((a, b) => cd.get(b)! - cd.get(a)! || a - b);
    kept.push(...byCrowding.slice(0, size - kept.length));
    break;
  }
  kept.sort((a, b) => a - b);
  const next = kept.map((i) => pool[i]);
  const again = sortFronts(next);
  const ordered: Nsga2Member[] = [];
  again.fronts.forEach((front, rank) => {
    const cd = crowdingDistance(again.objs, front, dirs);
    const members = front.map((i) => ({ ...next[i], rank, crowding: cd.get(i)! }));
    // Within a front, widest spacing first; Infinity - Infinity is NaN, so compare explicitly.
    members.sort((a, b) => (a.crowding === b.crowding ? 0 : b.crowding > a.crowding ? 1 : -1));
    ordered.push(...members);
  });
  return ordered;
}
