// Global drift compensation (IBM aihwkit's GlobalDriftCompensation): one scalar α per array (tile)
// multiplying its outputs, from a reference read right after programming and one at time t.
//
// aihwkit (src/aihwkit/inference/compensation/drift.py and base.py, tile code in
// src/aihwkit/simulator/tiles/inference.py, program_weights / drift_weights / post_forward):
//   - the read-out tensor is eye(in_size): one one-hot input per row, so the read-out outputs are the
//     rows of the (effective) weight matrix itself;
//   - readout(y) = max(mean(|y|), 1e-4); the baseline is taken right after programming (programming
//     noise, no drift), and at drift_weights(t) α = readout(t=0) / readout(t);
//   - outputs are multiplied by α in eval mode.
// So α = Σ|W(0)| / Σ|W(t)| over all entries (the means have the same count). Here the readout is
// ideal (pure arithmetic on the effective weights the caller passes, e.g. G⁺ − G⁻ per slice, with or
// without read noise); aihwkit's goes through the tile's noisy forward pass (is_perfect=False).
// aihwkit's 1e-4 floor is in its normalised units; here a zero read-out at t gives α = 1.
// `readout: 'ones'` is the alternative of one all-ones input (α = Σ_j|Σ_i W0_ij| / Σ_j|Σ_i Wt_ij|).

export type DriftReadout = 'one-hot' | 'ones';

/**
 * α = Σ|W0| / Σ|Wt| (one-hot readout, aihwkit) for k×n row-major effective weights at programming
 * time (w0) and at time t (wt); with readout 'ones', column sums first (needs n).
 */
export function globalDriftFactor(w0: ArrayLike<number>, wt: ArrayLike<number>, readout: DriftReadout = 'one-hot', n = 1): number {
  if (w0.length !== wt.length) throw new RangeError(`drift compensation: ${w0.length} reference weights vs ${wt.length}`);
  let ref = 0;
  let cur = 0;
  if (readout === 'one-hot') {
    for (let i = 0; i < w0.length; i++) {
      ref += Math.abs(w0[i]);
      cur += Math.abs(wt[i]);
    }
  } else {
    if (!(n >= 1) || w0.length % n !== 0) throw new RangeError(`drift compensation: ${w0.length} weights are not rows of ${n}`);
    const k = w0.length / n;
    for (let j = 0; j < n; j++) {
      let s0 = 0;
      let st = 0;
      for (let i = 0; i < k; i++) {
        s0 += w0[i * n + j];
        st += wt[i * n + j];
      }
      ref += Math.abs(s0);
      cur += Math.abs(st);
    }
  }
  return cur > 0 ? ref / cur : 1;
}

/** aihwkit's PerColumnDriftCompensation: α_j = Σ_i|W0_ij| / Σ_i|Wt_ij| per output column (k×n row-major). */
export function perColumnDriftFactors(w0: ArrayLike<number>, wt: ArrayLike<number>, n: number, out?: Float64Array): Float64Array {
  if (w0.length !== wt.length || w0.length % n !== 0) throw new RangeError(`drift compensation: ${w0.length}/${wt.length} weights are not rows of ${n}`);
  const k = w0.length / n;
  const ref = new Float64Array(n);
  const o = out ?? new Float64Array(n);
  o.fill(0);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) {
      ref[j] += Math.abs(w0[i * n + j]);
      o[j] += Math.abs(wt[i * n + j]);
    }
  }
  for (let j = 0; j < n; j++) o[j] = o[j] > 0 ? ref[j] / o[j] : 1;
  return o;
}
