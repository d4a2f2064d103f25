// The Plan: the only knob the co-design loop turns. compressed Graph = apply(base Graph, Plan).
// Keyed by original layer id (a node's `origin`), so a Plan stays meaningful across re-compression.

export type Decomposition =
  | { readonly kind: 'svd'; readonly rank: number }
  | { readonly kind: 'tucker2'; /** [R3 (input side), R4 (output side)] */ readonly ranks: readonly [number, number] }
  | { readonly kind: 'cp'; readonly rank: number };

export interface BitWidths {
  readonly weights: number;
  readonly activations: number;
}

export interface LayerPlan {
  /** Original layer id (node origin). */
  readonly layer: string;
  readonly decomposition?: Decomposition;
  /** Output channels kept by structured pruning, ascending indices into the original layer's channels. */
  readonly keptChannels?: readonly number[];
  readonly bits?: BitWidths;
  /** Excluded from training/fine-tuning. */
  readonly frozen?: boolean;
  /** Why these decisions (rank rule, sensitivity, budget), for reports. */
  readonly reason?: string;
}

export interface Plan {
  readonly version: 1;
  /** Identifies the base model (name or content hash). */
  readonly model: string;
  /** Seed for everything random in applying this Plan (init of new factors, fine-tuning order). */
  readonly seed: number;
  /** Layers not listed are left as they are. */
  readonly layers: Readonly<Record<string, LayerPlan>>;
}

export function emptyPlan(model: string, seed = 0): Plan {
  return { version: 1, model, seed, layers: {} };
}
