// The low-rank compression flow: choose ranks, decompose (or re-compress), recover accuracy, and
// repeat in stages (MUSCO, SEEDS §5). Recovery is plain fine-tuning (one-pass) or Two-Pass
// (SEEDS §1): refit each decomposed layer's output factor to the original network's outputs by least
// squares, then fine-tune the rest with the decomposed layers frozen, either for all layers at once
// or layer by layer in a chosen order (iterative Two-Pass).
import { emptyPlan, type LayerPlan, type Plan } from '../../contracts/plan.js';
import type { Graph } from '../../ir/types.js';
import type { Quality } from '../../train/evaluate.js';
import { type ProgressFn, throwIfAborted } from '../../util/progress.js';
import { decompositionOf } from '../decompose/apply.js';
import { type DecomposeInfo, decomposeLayer } from '../decompose/decompose.js';
import { layerForm } from '../decompose/layers.js';
import { chooseRanks, type LayerChoice, type Method, networkCost, type RankChoice, type RankRule } from '../decompose/ranks.js';
import { budgetRanks, type LayerCostFn } from './budget.js';
import { type Calibration, type RefitInfo, refitLayer } from './refit.js';

export type Order = 'in-out' | 'out-in' | 'redundant';

export interface CompressConfig {
  readonly method: Method;
  readonly rule: RankRule;
  readonly layers?: readonly string[];
  /** evbmf/weakened skip threshold (default 21). */
  readonly minRank?: number;
  readonly twoPass?: boolean;
  /** Refit the decomposed layers' output factors to the original outputs (Two-Pass's first pass) without freezing them. */
  readonly refit?: boolean;
  /** Two-Pass layer by layer (decompose, refit, fine-tune) instead of all layers at once. */
  readonly iterative?: boolean;
  readonly order?: Order;
  readonly stages: number;
  /** Fine-tuning epochs per stage (split over the layers in iterative Two-Pass). */
  readonly finetuneEpochs: number;
  readonly seed: number;
  readonly cpMaxIter?: number;
}

export interface CompressEnv {
  readonly calib: Calibration;
  /** Fine-tunes with the given origins frozen. */
  readonly finetune?: (graph: Graph, frozen: readonly string[], epochs: number, seed: number) => Promise<Graph>;
  readonly evaluate?: (graph: Graph) => Promise<Quality>;
  /** Called after every completed stage (e.g. to save it, so a cancel keeps the last stage). */
  readonly onStage?: (s: StageResult) => Promise<void>;
  readonly cost?: LayerCostFn;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  readonly log?: (line: string) => void;
}

export interface StageResult {
  readonly stage: number;
  readonly plan: Plan;
  readonly graph: Graph;
  readonly choice: RankChoice;
  readonly decompositions: readonly DecomposeInfo[];
  readonly refits: readonly RefitInfo[];
  readonly macs: number;
  readonly params: number;
  readonly quality?: Quality;
  readonly seconds: number;
}

/** The rule for stage i of n, relative to the current graph, so the last stage meets the final target. */
function stageRule(rule: RankRule, base: Graph, current: Graph, i: number, n: number): RankRule | undefined {
  if (rule.kind === 'ratio') {
    if (rule.perLayer) return { ...rule, factor: Math.pow(rule.factor, 1 / n) };
    const target = networkCost(base, rule.of) / Math.pow(rule.factor, i / n);
    const factor = networkCost(current, rule.of) / target;
    return factor > 1 + 1e-9 ? { ...rule, factor } : undefined;
  }
  if (rule.kind === 'budget') {
    const target = networkCost(base, rule.of) * Math.pow(rule.fraction, i / n);
    const fraction = target / networkCost(current, rule.of);
    return fraction < 1 - 1e-9 ? { ...rule, fraction } : undefined;
  }
  return rule;
}

function ordered(choices: readonly LayerChoice[], infos: ReadonlyMap<string, number>, order: Order): LayerChoice[] {
  const c = [...choices];
  if (order === 'out-in') return c.reverse();
  // Most redundant first: the layer whose kernel its ranks reproduce best.
  if (order === 'redundant') return c.sort((a, b) => (infos.get(a.layer) ?? 0) - (infos.get(b.layer) ?? 0));
  return c;
}

export async function compressGraph(base: Graph, cfg: CompressConfig, env: CompressEnv): Promise<{ graph: Graph; plan: Plan; stages: StageResult[] }> {
  const log = env.log ?? (() => {});
  let graph = base;
  let plan: Plan = { ...emptyPlan(base.name, cfg.seed) };
  const stages: StageResult[] = [];
  const frozen = new Set<string>();
  for (let stage = 1; stage <= cfg.stages; stage++) {
    throwIfAborted(env.signal);
    const t0 = performance.now();
    const rule = stageRule(cfg.rule, base, graph, stage, cfg.stages);
    if (!rule) {
      log(`stage ${stage}: target already met`);
      break;
    }
    const common = { layers: cfg.layers, minRank: cfg.minRank };
    const choice =
      rule.kind === 'budget'
        ? await budgetRanks(graph, { method: cfg.method, fraction: rule.fraction, of: rule.of, calib: env.calib, layers: cfg.layers, cost: env.cost, seed: cfg.seed, cpMaxIter: cfg.cpMaxIter, signal: env.signal, onProgress: env.onProgress })
        : chooseRanks(graph, cfg.method, rule, common);
    // Only layers whose ranks change are (re-)compressed.
    const changes = choice.chosen.filter((c) => {
      const f = layerForm(graph, c.layer);
      return f.kind === 'original' || f.ranks.some((r, i) => r !== c.ranks[i]);
    });
    if (changes.length === 0) {
      log(`stage ${stage}: ranks stopped changing`);
      break;
    }
    const seed = cfg.seed * 1000 + stage;
    const opts = { seed: cfg.seed, cpMaxIter: cfg.cpMaxIter, signal: env.signal };
    const infos: DecomposeInfo[] = [];
    const refits: RefitInfo[] = [];
    const order = cfg.order ?? 'in-out';
    if (cfg.twoPass && cfg.iterative) {
      // Layer by layer: decompose the layer (on the weights the previous steps left), refit, fine-tune the rest.
      const pre = new Map(changes.map((c) => [c.layer, 0]));
      if (order === 'redundant') for (const c of changes) pre.set(c.layer, decomposeLayer(graph, c.layer, c.kind, c.ranks, opts).info.relError);
      const seq = ordered(changes, pre, order);
      for (const [k, c] of seq.entries()) {
        const r = decomposeLayer(graph, c.layer, c.kind, c.ranks, opts);
        infos.push(r.info);
        const fit = await refitLayer(base, r.graph, c.layer, env.calib);
        refits.push(fit.info);
        frozen.add(c.layer);
        graph = fit.graph;
        log(`stage ${stage}: ${c.layer} ${c.kind} ${c.ranks.join('x')} (kernel error ${r.info.relError.toFixed(4)}), refit output error ${fit.info.before.toFixed(4)} -> ${fit.info.after.toFixed(4)}`);
        if (env.finetune && cfg.finetuneEpochs > 0) graph = await env.finetune(graph, [...frozen], cfg.finetuneEpochs / seq.length, seed * 100 + k);
        env.onProgress?.({ phase: 'two-pass', done: k + 1, total: seq.length, message: c.layer });
      }
    } else {
      for (const c of changes) {
        const r = decomposeLayer(graph, c.layer, c.kind, c.ranks, opts);
        infos.push(r.info);
        graph = r.graph;
        log(`stage ${stage}: ${c.layer} ${c.kind} ${(r.info.fromRanks ? r.info.fromRanks.join('x') + ' -> ' : '') + c.ranks.join('x')} (kernel error ${r.info.relError.toFixed(4)}; ${c.reason})`);
      }
      if (cfg.twoPass || cfg.refit) {
        const rel = new Map(infos.map((i) => [i.layer, i.relError]));
        for (const c of ordered(changes, rel, order)) {
          const fit = await refitLayer(base, graph, c.layer, env.calib);
          refits.push(fit.info);
          graph = fit.graph;
          if (cfg.twoPass) frozen.add(c.layer);
          log(`stage ${stage}: refit ${c.layer}: output error ${fit.info.before.toFixed(4)} -> ${fit.info.after.toFixed(4)}`);
        }
      }
      if (env.finetune && cfg.finetuneEpochs > 0) graph = await env.finetune(graph, [...frozen], cfg.finetuneEpochs, seed);
    }
    const layers: Record<string, LayerPlan> = { ...plan.layers };
    for (const c of changes) {
      layers[c.layer] = { layer: c.layer, decomposition: decompositionOf(c.kind, c.ranks), ...(frozen.has(c.layer) ? { frozen: true } : {}), reason: `stage ${stage}: ${c.reason}` };
    }
    plan = { ...plan, layers };
    const quality = env.evaluate ? await env.evaluate(graph) : undefined;
    const result: StageResult = {
      stage,
      plan,
      graph,
      choice: { chosen: changes, skipped: choice.skipped },
      decompositions: infos,
      refits,
      macs: networkCost(graph, 'macs'),
      params: networkCost(graph, 'params'),
      ...(quality ? { quality } : {}),
      seconds: (performance.now() - t0) / 1000,
    };
    stages.push(result);
    await env.onStage?.(result);
  }
  return { graph, plan, stages };
}
