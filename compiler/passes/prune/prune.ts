// Structured pruning flow: optional sparsity training (slim / ssl penalties), then one-shot or iterative
// {score channels, select for the target, remove physically, fine-tune}. Iterative pruning reaches the
// target geometrically over its steps (step i keeps target^(i/N) of the original).
import type { LayerPlan, Plan } from '../../contracts/plan.js';
import { graphStats } from '../../ir/graph.js';
import type { Graph } from '../../ir/types.js';
import type { Regularizer } from '../../train/trainer.js';
import { formatLayerValues } from '../../util/layer-values.js';
import { throwIfAborted } from '../../util/progress.js';
import { type FoldRecord, pruneChannels } from './apply.js';
import { channelGroups } from './groups.js';
import { channelImportance, type Criterion } from './importance.js';
import { layerSizes, type LayerKeep, selectLayerKeep } from './layer-keep.js';
import { checkReachable, formatTarget, type PruneTarget, selectChannels, selectionPlan } from './select.js';
import { scaleDropout } from './dropout.js';
import { branchNorm, removeResidualBranch } from './depth.js';
import { residualBranches, slimRegularizer, type SslGroups, sslRegularizer } from './sparsity.js';
import { addMasks, keptByDropoutRate, stripMasks, vmaskRegularizer } from './vmask.js';

export interface PruneConfig {
  readonly criterion: Criterion;
  /** Whole-network target; without one (and without `keep`), vmask prunes by dropout rate (`threshold`). */
  readonly target?: PruneTarget;
  /** Per layer instead of a target: the share of each named layer's output channels kept. */
  readonly keep?: LayerKeep;
  /** vmask: prune channels whose learned dropout rate exceeds this (default 0.5). */
  readonly threshold?: number;
  /** 1 = one-shot. */
  readonly steps: number;
  /** Sparsity-training epochs before the first pruning step (slim, ssl; mask training for vmask). */
  readonly sparsityEpochs: number;
  /** Penalty strength for slim / ssl / vmask (KL weight). */
  readonly lambda: number;
  readonly sslGroups?: SslGroups;
  /** Fine-tuning epochs after each pruning step. */
  readonly finetuneEpochs: number;
  readonly minChannels?: number;
  /** 'scale' (default): retrain with dropout scaled down as Han et al. 2015; 'keep': unchanged rates. */
  readonly dropout?: 'scale' | 'keep';
  readonly seed: number;
}

export interface PruneStep {
  readonly step: number;
  readonly graph: Graph;
  readonly plan: Plan;
  readonly target?: PruneTarget;
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

/** The sparsity-training graph (vmask: with masks) and its penalty; undefined for l1 / l2. */
export function sparsitySetup(graph: Graph, cfg: Pick<PruneConfig, 'criterion' | 'lambda' | 'sslGroups'>): { graph: Graph; regularizer: Regularizer } | undefined {
  const groups = channelGroups(graph);
  if (cfg.criterion === 'slim') return { graph, regularizer: slimRegularizer(graph, groups, cfg.lambda) };
  if (cfg.criterion === 'ssl') return { graph, regularizer: sslRegularizer(graph, groups, cfg.lambda, cfg.sslGroups) };
  if (cfg.criterion === 'vmask') return { graph: addMasks(graph, groups), regularizer: vmaskRegularizer(cfg.lambda) };
  return undefined;
}

/** Throws when the configuration cannot work, before any data is loaded. */
export function checkPruneConfig(graph: Graph, cfg: PruneConfig): void {
  if (!Number.isInteger(cfg.steps) || cfg.steps < 1) throw new Error(`prune: steps ${cfg.steps} must be an integer >= 1`);
  if (cfg.target && cfg.keep) throw new Error('prune: give a whole-network --target or per-layer --keep shares, not both');
  if (!cfg.target && !cfg.keep && cfg.criterion !== 'vmask') throw new Error(`prune: criterion ${cfg.criterion} needs a --target or --keep (only vmask can prune by its learned dropout rates)`);
  if (cfg.criterion === 'vmask' && cfg.steps !== 1) throw new Error('prune: vmask prunes once, after its mask training (use --steps 1)');
  if (cfg.criterion === 'vmask' && cfg.sparsityEpochs <= 0) throw new Error('prune: vmask needs mask training first (--sparsity E, E > 0)');
  if (cfg.sparsityEpochs > 0 && !sparsitySetup(graph, cfg)) throw new Error(`prune: criterion ${cfg.criterion} has no sparsity training (slim, ssl and vmask do)`);
  if (cfg.target) checkReachable(graph, cfg.target, cfg.minChannels);
  if (cfg.keep) layerSizes(graph, channelGroups(graph), cfg.keep);
}

export async function pruneModel(base: Graph, cfg: PruneConfig, env: PruneEnv = {}): Promise<PruneStep[]> {
  checkPruneConfig(base, cfg);
  const log = env.log ?? (() => {});
  const ref = graphStats(base);
  const originalSize = cfg.keep && layerSizes(base, channelGroups(base), cfg.keep);
  let graph = base;
  if (cfg.sparsityEpochs > 0) {
    const setup = sparsitySetup(graph, cfg)!;
    if (!env.train) throw new Error('prune: sparsity training needs training data');
    log(`sparsity training: ${setup.regularizer.name}, ${cfg.sparsityEpochs} epoch(s)`);
    graph = await env.train(setup.graph, cfg.sparsityEpochs, cfg.seed, setup.regularizer);
  }
  const layers: Record<string, LayerPlan> = {};
  const steps: PruneStep[] = [];
  for (let i = 1; i <= cfg.steps; i++) {
    throwIfAborted(env.signal);
    // SSL depth-wise: residual branches whose kernels all reached zero go first
    if (cfg.criterion === 'ssl' && cfg.sslGroups?.depth) {
      for (const b of residualBranches(graph)) {
        if (branchNorm(graph, b.nodes) !== 0) continue;
        graph = removeResidualBranch(graph, b.add).graph;
        log(`step ${i}: removed the residual branch into ${b.add} (${b.nodes.join(', ')}): its kernels are all zero`);
      }
    }
    const groups = channelGroups(graph);
    let kept: Map<string, number[]>;
    let why: string;
    let target: PruneTarget | undefined;
    if (cfg.target) {
      const frac = (f: number | undefined) => (f === undefined ? undefined : f ** (i / cfg.steps));
      target = { params: frac(cfg.target.params), macs: frac(cfg.target.macs) };
      const cur = graphStats(graph);
      // selectChannels measures against its input graph: rescale the fractions of the original
      const rel: PruneTarget = {
        params: target.params === undefined ? undefined : Math.min(1, (target.params * ref.totalParams) / cur.totalParams),
        macs: target.macs === undefined ? undefined : Math.min(1, (target.macs * ref.totalMacs) / cur.totalMacs),
      };
      kept = selectChannels(graph, channelImportance(graph, groups, cfg.criterion), cfg.criterion, rel, { minChannels: cfg.minChannels }).kept;
      why = `${cfg.criterion}, step ${i}/${cfg.steps} to ${formatTarget(target)}`;
    } else if (cfg.keep) {
      kept = selectLayerKeep(graph, groups, channelImportance(graph, groups, cfg.criterion), cfg.keep, originalSize!, i / cfg.steps, cfg.minChannels);
      why = `${cfg.criterion}, step ${i}/${cfg.steps} to keep ${formatLayerValues(cfg.keep)}`;
    } else {
      const threshold = cfg.threshold ?? 0.5;
      kept = keptByDropoutRate(graph, groups, threshold, cfg.minChannels);
      why = `vmask dropout rate <= ${threshold}`;
    }
    const unpruned = graph;
    const pruned = pruneChannels(graph, kept);
    // compose with earlier steps: indices are into the current (already pruned) layers, so map them back
    for (const [layer, lp] of Object.entries(selectionPlan(graph, groups, kept, why))) {
      const before = layers[layer]?.keptChannels;
      layers[layer] = { ...lp, keptChannels: before ? lp.keptChannels!.map((c) => before[c]) : lp.keptChannels };
    }
    graph = stripMasks(pruned.graph);
    if ((cfg.dropout ?? 'scale') === 'scale') {
      const scaled = scaleDropout(unpruned, graph);
      graph = scaled.graph;
      for (const c of scaled.changes) log(`step ${i}: ${c.node} rate ${c.from.toFixed(3)} -> ${c.to.toFixed(3)} (${c.feeds} keeps fewer connections)`);
    }
    const st = graphStats(graph);
    const sel = { params: st.totalParams, macs: st.totalMacs };
    log(`step ${i}/${cfg.steps}: ${why} -> params ${sel.params} (${((100 * sel.params) / ref.totalParams).toFixed(1)}%), MACs ${sel.macs} (${((100 * sel.macs) / ref.totalMacs).toFixed(1)}%)`);
    if (cfg.finetuneEpochs > 0 && env.train) graph = await env.train(graph, cfg.finetuneEpochs, cfg.seed + i);
    const plan: Plan = { version: 1, model: base.name, seed: cfg.seed, layers: { ...layers } };
    const step: PruneStep = { step: i, graph, plan, target, params: sel.params, macs: sel.macs, folds: pruned.folds };
    steps.push(step);
    await env.onStep?.(step);
  }
  return steps;
}
