// Structured pruning flow: optional sparsity training (slim / ssl penalties), then one-shot or iterative
// {score channels, select for the target, remove physically, fine-tune}. Iterative pruning reaches the
// target geometrically over its steps (step i keeps target^(i/N) of the original).
import type { LayerPlan, Plan } from '../../contracts/plan.js';
import { graphStats } from '../../ir/graph.js';
import type { Graph } from '../../ir/types.js';
import type { Regularizer } from '../../train/trainer.js';
import { throwIfAborted } from '../../util/progress.js';
import { type FoldRecord, pruneChannels } from './apply.js';
import { channelGroups } from './groups.js';
import { channelImportance, type Criterion } from './importance.js';
import { formatTarget, type PruneTarget, selectChannels, selectionPlan } from './select.js';
import { slimRegularizer, type SslGroups, sslRegularizer } from './sparsity.js';

export interface PruneConfig {
  readonly criterion: Criterion;
  readonly target: PruneTarget;
  /** 1 = one-shot. */
  readonly steps: number;
  /** Sparsity-training epochs before the first pruning step (slim, ssl). */
  readonly sparsityEpochs: number;
  /** Penalty strength for slim / ssl. */
  readonly lambda: number;
  readonly sslGroups?: SslGroups;
  /** Fine-tuning epochs after each pruning step. */
  readonly finetuneEpochs: number;
  readonly minChannels?: number;
  readonly seed: number;
}

export interface PruneStep {
  readonly step: number;
  readonly graph: Graph;
  readonly plan: Plan;
  readonly target: PruneTarget;
  readonly params: number;
  readonly macs: number;
  readonly folds: readonly FoldRecord[];
}

export interface PruneEnv {
  /** Trains (sparsity phase, with a regularizer) or fine-tunes; epochs may be fractional. */
  readonly train?: (g: Graph, epochs: number, seed: number, regularizer?: Regularizer) => Promise<Graph>;
  readonly onStep?: (s: PruneStep) => Promise<void> | void;
  readonly signal?: AbortSignal;
  readonly log?: (s: string) => void;
}

export function regularizerFor(graph: Graph, cfg: Pick<PruneConfig, 'criterion' | 'lambda' | 'sslGroups'>): Regularizer | undefined {
  const groups = channelGroups(graph);
  if (cfg.criterion === 'slim') return slimRegularizer(graph, groups, cfg.lambda);
  if (cfg.criterion === 'ssl') return sslRegularizer(graph, groups, cfg.lambda, cfg.sslGroups);
  return undefined;
}

export async function pruneModel(base: Graph, cfg: PruneConfig, env: PruneEnv = {}): Promise<PruneStep[]> {
  if (!Number.isInteger(cfg.steps) || cfg.steps < 1) throw new Error(`prune: steps ${cfg.steps} must be an integer >= 1`);
  const log = env.log ?? (() => {});
  const ref = graphStats(base);
  let graph = base;
  if (cfg.sparsityEpochs > 0) {
    const reg = regularizerFor(graph, cfg);
    if (!reg) throw new Error(`prune: criterion ${cfg.criterion} has no sparsity training (use --sparsity 0)`);
    if (!env.train) throw new Error('prune: sparsity training needs training data');
    log(`sparsity training: ${reg.name}, ${cfg.sparsityEpochs} epoch(s)`);
    graph = await env.train(graph, cfg.sparsityEpochs, cfg.seed, reg);
  }
  const layers: Record<string, LayerPlan> = {};
  const steps: PruneStep[] = [];
  for (let i = 1; i <= cfg.steps; i++) {
    throwIfAborted(env.signal);
    const frac = (f: number | undefined) => (f === undefined ? undefined : f ** (i / cfg.steps));
    const target: PruneTarget = { params: frac(cfg.target.params), macs: frac(cfg.target.macs) };
    const groups = channelGroups(graph);
    const cur = graphStats(graph);
    // selectChannels measures against its input graph: rescale the fractions of the original
    const rel: PruneTarget = {
      params: target.params === undefined ? undefined : Math.min(1, (target.params * ref.totalParams) / cur.totalParams),
      macs: target.macs === undefined ? undefined : Math.min(1, (target.macs * ref.totalMacs) / cur.totalMacs),
    };
    const importance = channelImportance(graph, groups, cfg.criterion);
    const sel = selectChannels(graph, importance, cfg.criterion, rel, { minChannels: cfg.minChannels });
    const pruned = pruneChannels(graph, sel.kept);
    // compose with earlier steps: indices are into the current (already pruned) layers, so map them back
    for (const [layer, lp] of Object.entries(selectionPlan(graph, groups, sel.kept, `${cfg.criterion}, step ${i}/${cfg.steps} to ${formatTarget(target)}`))) {
      const before = layers[layer]?.keptChannels;
      layers[layer] = { ...lp, keptChannels: before ? lp.keptChannels!.map((c) => before[c]) : lp.keptChannels };
    }
    graph = pruned.graph;
    log(`step ${i}/${cfg.steps}: ${formatTarget(target)} -> params ${sel.params} (${((100 * sel.params) / ref.totalParams).toFixed(1)}%), MACs ${sel.macs} (${((100 * sel.macs) / ref.totalMacs).toFixed(1)}%)`);
    if (cfg.finetuneEpochs > 0 && env.train) graph = await env.train(graph, cfg.finetuneEpochs, cfg.seed + i);
    const plan: Plan = { version: 1, model: base.name, seed: cfg.seed, layers: { ...layers } };
    const step: PruneStep = { step: i, graph, plan, target, params: sel.params, macs: sel.macs, folds: pruned.folds };
    steps.push(step);
    await env.onStep?.(step);
  }
  return steps;
}
