// What each Schedule step shows in the dataflow view (pure, Node-tested): where it runs (arrays, or the
// digital unit), which programming round it belongs to, and which activations move (from the arrays of
// the producing layer's mvm steps, found by following deps through accumulate/digital steps, to the
// consumer's array).
import type { Schedule, Step } from '../../../compiler/lower/schedule.js';

/** The digital unit (shift-add, pooling, buffers) as a flow end point. */
export const DIGITAL = -1;

export interface StepInfo {
  readonly id: string;
  readonly kind: Step['kind'];
  readonly round: number;
  /** Global array indices the step runs on (its block's array; every array of a program step's round). */
  readonly arrays: readonly number[];
  /** Runs on the digital unit (accumulate, digital). */
  readonly digital: boolean;
}

export class StepPlan {
  readonly steps: readonly StepInfo[];
  private readonly blockIndex: ReadonlyMap<string, number>;
  private readonly stepIndex: ReadonlyMap<string, number>;
  /** Per step: block indices of the mvm steps whose results it reads, directly or through digital steps. */
  private readonly producers: (readonly number[] | undefined)[];

  constructor(private readonly schedule: Schedule) {
    this.blockIndex = new Map(schedule.blocks.map((b, i) => [b.id, i]));
    this.stepIndex = new Map(schedule.steps.map((s, i) => [s.id, i]));
    this.producers = new Array<readonly number[] | undefined>(schedule.steps.length);
    const rounds: number[] = [];
    this.steps = schedule.steps.map((s, i) => {
      let round: number;
      let arrays: number[] = [];
      if (s.kind === 'program') {
        round = s.round;
        arrays = [...new Set(s.blocks.map((id) => schedule.blocks[this.blockIndex.get(id)!].array))].sort((a, b) => a - b);
      } else if (s.kind === 'mvm') {
        const b = schedule.blocks[this.blockIndex.get(s.block)!];
        round = b.round;
        arrays = [b.array];
      } else {
        // A digital step belongs to the round of what it reads (else of the step before it).
        const depRounds = s.deps.map((d) => rounds[this.stepIndex.get(d)!]).filter((r) => r !== undefined);
        round = depRounds.length ? Math.max(...depRounds) : (rounds[i - 1] ?? 0);
      }
      rounds.push(round);
      return { id: s.id, kind: s.kind, round, arrays, digital: s.kind === 'accumulate' || s.kind === 'digital' };
    });
    // In step order (deps come first), so the memo never recurses deeper than one step.
    for (let i = 0; i < schedule.steps.length; i++) this.producersOf(i);
  }

  /** The first step of a round (its program step when it has one). */
  firstStepOf(round: number): number {
    const i = this.steps.findIndex((s) => s.round === round);
    return i < 0 ? 0 : i;
  }

  /** Flows of step i as [from, to, from, to, ...] (global array or DIGITAL), at most `max` of them
   * (sampled evenly). Arrays of other rounds than the step's are not on the plates: their data comes
   * from the buffers, so such a flow starts at the digital unit. */
  flows(i: number, max: number): Int32Array {
    const s = this.schedule.steps[i];
    const info = this.steps[i];
    const pairs: number[] = [];
    const here = (block: number) => {
      const b = this.schedule.blocks[block];
      return b.round === info.round ? b.array : DIGITAL;
    };
    if (s.kind === 'program') {
      for (const a of info.arrays) pairs.push(DIGITAL, a);
    } else if (s.kind === 'mvm') {
      const to = info.arrays[0];
      const from = new Set<number>();
      for (const d of s.deps) for (const k of this.producersOf(this.stepIndex.get(d)!)) from.add(here(k));
      if (from.size === 0) from.add(DIGITAL);
      for (const f of from) pairs.push(f, to);
    } else if (s.kind === 'accumulate') {
      const from = new Set<number>();
      for (const d of s.deps) for (const k of this.producersOf(this.stepIndex.get(d)!)) from.add(here(k));
      for (const f of from) if (f !== DIGITAL) pairs.push(f, DIGITAL);
    }
    const n = pairs.length / 2;
    const keep = Math.min(n, max);
    const out = new Int32Array(2 * keep);
    for (let k = 0; k < keep; k++) {
      const j = Math.floor((k * n) / keep);
      out[2 * k] = pairs[2 * j];
      out[2 * k + 1] = pairs[2 * j + 1];
    }
    return out;
  }

  private producersOf(i: number): readonly number[] {
    const memo = this.producers[i];
    if (memo) return memo;
    const s = this.schedule.steps[i];
    let out: readonly number[];
    if (s.kind === 'mvm') out = [this.blockIndex.get(s.block)!];
    else if (s.kind === 'program') out = [];
    else {
      const deps = s.deps.map((d) => this.producersOf(this.stepIndex.get(d)!)).filter((p) => p.length > 0);
      // One producing dep (the usual chain): share its list rather than copy it.
      out = deps.length === 1 ? deps[0] : [...new Set(deps.flat())];
    }
    this.producers[i] = out;
    return out;
  }
}
