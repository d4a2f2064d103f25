// Optimizers on flat Float32Arrays (the gradient is already averaged over the batch).
import type { ParamLayout } from './flat-params.js';

export type OptimizerConfig =
  | { readonly kind: 'sgd'; readonly momentum: number; readonly nesterov?: boolean; readonly weightDecay?: number }
  | { readonly kind: 'adam'; readonly beta1?: number; readonly beta2?: number; readonly epsilon?: number; readonly weightDecay?: number };

export interface OptimizerState {
  step: number;
  /** Momentum (sgd) or first moment (adam). */
  m: Float32Array;
  /** Second moment (adam only; empty for sgd). */
  v: Float32Array;
}

export function newOptimizerState(cfg: OptimizerConfig, size: number): OptimizerState {
  return { step: 0, m: new Float32Array(size), v: new Float32Array(cfg.kind === 'adam' ? size : 0) };
}

/** One update in place. Weight decay: coupled L2 for SGD, decoupled (AdamW) for Adam; kernels only. */
export function applyUpdate(cfg: OptimizerConfig, st: OptimizerState, layout: ParamLayout, params: Float32Array, grad: Float32Array, lr: number): void {
  st.step++;
  const wd = cfg.weightDecay ?? 0;
  if (cfg.kind === 'sgd') {
    const mu = cfg.momentum;
    for (const s of layout.slots) {
      if (!s.trainable) continue;
      const d = s.decay ? wd : 0;
      for (let i = s.offset, e = s.offset + s.length; i < e; i++) {
        const g = grad[i] + d * params[i];
        const m = (st.m[i] = mu * st.m[i] + g);
        params[i] -= lr * (cfg.nesterov ? g + mu * m : m);
      }
    }
    return;
  }
  const b1 = cfg.beta1 ?? 0.9;
  const b2 = cfg.beta2 ?? 0.999;
  const eps = cfg.epsilon ?? 1e-7;
  const c1 = 1 - Math.pow(b1, st.step);
  const c2 = 1 - Math.pow(b2, st.step);
  for (const s of layout.slots) {
    if (!s.trainable) continue;
    const d = s.decay ? wd : 0;
    for (let i = s.offset, e = s.offset + s.length; i < e; i++) {
      const g = grad[i];
      const m = (st.m[i] = b1 * st.m[i] + (1 - b1) * g);
      const v = (st.v[i] = b2 * st.v[i] + (1 - b2) * g * g);
      params[i] -= lr * ((m / c1) / (Math.sqrt(v / c2) + eps) + d * params[i]);
    }
  }
}
