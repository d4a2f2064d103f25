// The per-layer search space and how a point in it becomes a Plan and a compressed Graph.
// A point (a genome) picks one option per searchable layer: leave it, decompose it (kind, rank as a fraction
// of its full rank) or prune a share of its output channels (smallest L1 norm first). Pruning is applied
// first, then decompositions, whose ranks are fractions of the layer as pruning left it (a pruned
// neighbour shrinks a layer's input channels). The Plan records the absolute result, so
// compressed Graph = apply(base, Plan) holds without the space.
import type { LayerPlan, Plan } from '../compiler/contracts/plan.js';
import { inferShapes } from '../compiler/ir/graph.js';
import { type Graph, OpKind, type Shape } from '../compiler/ir/types.js';
import { decompositionOf } from '../compiler/passes/decompose/apply.js';
import { decomposeLayer, kindsFor } from '../compiler/passes/decompose/decompose.js';
import { layerForm, layerIds, notDecomposable } from '../compiler/passes/decompose/layers.js';
import { currentRanks } from '../compiler/passes/decompose/ranks.js';
import { pruneChannels } from '../compiler/passes/prune/apply.js';
import { channelGroups } from '../compiler/passes/prune/groups.js';
import { channelImportance } from '../compiler/passes/prune/importance.js';
import { topChannels } from '../compiler/passes/prune/layer-keep.js';
import type { DecompKind, Problem } from './problem.js';
import { ProblemError } from './problem.js';

export type LayerOption =
  | { readonly kind: 'original' }
  | { readonly kind: 'decompose'; readonly method: DecompKind; readonly fraction: number }
  | { readonly kind: 'prune'; readonly ratio: number };

export interface LayerSpace {
  readonly layer: string;
  /** options[0] is always 'original'. */
  readonly options: readonly LayerOption[];
  /** The channel group pruning this layer removes channels from (its output's), when prunable. */
  readonly group?: string;
}

/** One option index per LayerSpace, in the same order. */
export type Genome = readonly number[];

export function optionText(o: LayerOption): string {
  if (o.kind === 'original') return 'original';
  if (o.kind === 'prune') return `prune ${Math.round(o.ratio * 100)}%`;
  return `${o.method} rank ${o.fraction}`;
}

/** The searchable layers and their options, in graph order. Named layers that cannot be touched are errors. */
export function searchSpace(graph: Graph, space: Problem['space']): LayerSpace[] {
  const shapes = inferShapes(graph);
  const groups = channelGroups(graph, shapes);
  const named = space.layers.length > 0;
  const out: LayerSpace[] = [];
  for (const layer of named ? space.layers : layerIds(graph)) {
    const nodes = graph.nodes.filter((n) => n.origin === layer);
    if (nodes.length === 0) throw new ProblemError(`space.layers: '${layer}' is not a layer of ${graph.name} (layers: ${layerIds(graph).join(', ')})`);
    const options: LayerOption[] = [{ kind: 'original' }];
    let group: string | undefined;
    const lone = nodes.length === 1 ? nodes[0] : undefined;
    if (lone && !notDecomposable(lone, shapes.get(lone.inputs[0]) as Shape)) {
      const form = layerForm(graph, layer, shapes);
      const g = form.geometry;
      if (Math.min(g.S, g.T) > 1)
        for (const method of space.decompositions.filter((k) => kindsFor(g).includes(k)))
          for (const fraction of space.ranks) options.push({ kind: 'decompose', method, fraction });
      const grp = groups.groupOfProducer.get(lone.id);
      if (grp && !grp.fixed && grp.producers.length === 1 && (lone.op === OpKind.Conv2d || lone.op === OpKind.Dense)) {
        group = grp.id;
        for (const ratio of space.prune) if (Math.round(grp.size * (1 - ratio)) >= 1) options.push({ kind: 'prune', ratio });
      }
    }
    if (options.length === 1) {
      if (named) throw new ProblemError(`space.layers: '${layer}' can be neither decomposed nor pruned with the given space (${lone ? lone.op : 'already transformed'})`);
      continue;
    }
    out.push({ layer, options, ...(group ? { group } : {}) });
  }
  if (out.length === 0) throw new ProblemError(`space: no layer of ${graph.name} can be decomposed or pruned with the given kinds, ranks and ratios`);
  return out;
}

export interface Applied {
  readonly plan: Plan;
  readonly graph: Graph;
}

/** The compressed float graph of a genome (no fine-tuning) and its Plan. `why` gives each layer's reason. */
export function applyGenome(base: Graph, space: readonly LayerSpace[], genome: Genome, seed: number, why: (layer: string) => string = () => ''): Applied {
  if (genome.length !== space.length) throw new Error(`genome of ${genome.length} genes for ${space.length} layers`);
  const layers: Record<string, LayerPlan> = {};
  const kept = new Map<string, number[]>();
  let graph = base;
  // channel norms only when something is pruned (most genomes of the profile and the descent prune nothing)
  let importance: Map<string, Float64Array> | undefined;
  space.forEach((s, i) => {
    const o = s.options[genome[i]];
    if (o.kind !== 'prune') return;
    importance ??= channelImportance(base, channelGroups(base), 'l1');
    const imp = importance.get(s.group!)!;
    const idx = topChannels(imp, Math.round(imp.length * (1 - o.ratio)));
    kept.set(s.group!, idx);
    layers[s.layer] = { layer: s.layer, keptChannels: idx, reason: why(s.layer) };
  });
  if (kept.size) graph = pruneChannels(graph, kept).graph;
  space.forEach((s, i) => {
    const o = s.options[genome[i]];
    if (o.kind !== 'decompose') return;
    const form = layerForm(graph, s.layer);
    const ranks = currentRanks(form, o.method).map((r) => Math.max(1, Math.round(o.fraction * r)));
    graph = decomposeLayer(graph, s.layer, o.method, ranks, { seed }).graph;
    layers[s.layer] = { layer: s.layer, decomposition: decompositionOf(o.method, ranks), reason: why(s.layer) };
  });
  return { plan: { version: 1, model: base.name, seed, layers }, graph };
}

/** What the Plan did to one layer, as the report shows it: 'tucker2 16x32', 'cp 24', 'prune 25% (48 of 64 kept)'. */
export function decisionText(base: Graph, plan: Plan, layer: string): string {
  const l = plan.layers[layer];
  if (!l) return 'original';
  if (l.decomposition) {
    const d = l.decomposition;
    return d.kind === 'tucker2' ? `tucker2 ${d.ranks.join('x')}` : `${d.kind} ${d.rank}`;
  }
  if (l.keptChannels) {
    const size = channelGroups(base).groupOfProducer.get(layer)?.size ?? l.keptChannels.length;
    return `prune ${Math.round((100 * (size - l.keptChannels.length)) / size)}% (${l.keptChannels.length} of ${size} kept)`;
  }
  return 'original';
}
