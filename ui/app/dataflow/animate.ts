// Playback of the Schedule's steps: a clock that advances one step every `stepMs` while playing, and the
// particles that carry activations along the current step's flows (a stream of arcs from source to
// destination). Buffers are allocated once; per frame only numbers are written.

/** Flows drawn per step (a step reading from hundreds of arrays shows an even sample of them). */
export const MAX_FLOWS = 256;
export const PARTICLES_PER_FLOW = 4;

/** Writes the position (x, y, z) of a flow end point (a global array index or DIGITAL) at out[at..at+2]. */
export type EndPoint = (end: number, out: Float32Array, at: number) => void;

export class FlowParticles {
  private readonly ends = new Float32Array(MAX_FLOWS * 6);
  private readonly lifts = new Float32Array(MAX_FLOWS);
  private n = 0;

  /** `flows`: [from, to, ...] pairs, at most MAX_FLOWS. */
  set(flows: Int32Array, endPoint: EndPoint): void {
    this.n = Math.min(MAX_FLOWS, flows.length / 2);
    for (let f = 0; f < this.n; f++) {
      endPoint(flows[2 * f], this.ends, 6 * f);
      endPoint(flows[2 * f + 1], this.ends, 6 * f + 3);
      const e = this.ends;
      // Longer hops arc higher, so streams between far tiles clear the arrays in between.
      this.lifts[f] = 0.6 + 0.15 * Math.hypot(e[6 * f + 3] - e[6 * f], e[6 * f + 5] - e[6 * f + 2]);
    }
  }

  /** Particle positions at `phase` ∈ [0, 1) of the step into out (xyz each); returns how many. */
  write(phase: number, out: Float32Array): number {
    const e = this.ends;
    let p = 0;
    for (let f = 0; f < this.n; f++) {
      for (let k = 0; k < PARTICLES_PER_FLOW; k++) {
        const t = (phase + k / PARTICLES_PER_FLOW) % 1;
        const o = 6 * f;
        out[p++] = e[o] + (e[o + 3] - e[o]) * t;
        out[p++] = e[o + 1] + (e[o + 4] - e[o + 1]) * t + this.lifts[f] * 4 * t * (1 - t);
        out[p++] = e[o + 2] + (e[o + 5] - e[o + 2]) * t;
      }
    }
    return p / 3;
  }
}

export class Playback {
  playing = false;
  /** Fraction of the current step elapsed, after tick. */
  phase = 0;
  private start = -1;

  constructor(public stepMs: number) {}

  /** Starts timing the current step from the next tick. */
  restart(): void {
    this.start = -1;
    this.phase = 0;
  }

  /** Advances the clock to `now` (ms); true when the current step is over (the caller moves on). */
  tick(now: number): boolean {
    if (this.start < 0) this.start = now;
    const elapsed = now - this.start;
    if (elapsed >= this.stepMs) {
      this.start = now;
      this.phase = 0;
      return true;
    }
    this.phase = elapsed / this.stepMs;
    return false;
  }
}
