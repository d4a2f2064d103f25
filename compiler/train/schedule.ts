// Learning-rate schedules as pure functions of the global step.

export type LrSchedule =
  | { readonly kind: 'constant'; readonly lr: number }
  | { readonly kind: 'cosine'; readonly lr: number; readonly warmupSteps?: number; readonly minLr?: number }
  | { readonly kind: 'step'; readonly lr: number; readonly milestones: readonly number[]; readonly gamma: number };

export function learningRate(s: LrSchedule, step: number, totalSteps: number): number {
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'step':
      return s.lr * Math.pow(s.gamma, s.milestones.filter((m) => step >= m).length);
    case 'cosine': {
      const warm = s.warmupSteps ?? 0;
      if (step < warm) return (s.lr * (step + 1)) / warm;
      const t = Math.min(1, (step - warm) / Math.max(1, totalSteps - warm));
      const lo = s.minLr ?? 0;
      return lo + 0.5 * (s.lr - lo) * (1 + Math.cos(Math.PI * t));
    }
  }
}
