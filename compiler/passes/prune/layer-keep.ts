// Per-layer pruning: the user names layers and the share of each one's output channels to keep
// (`tandem prune --keep conv1=0.5,conv3=0.25`, the app's per-layer column); the most important channels
// of each named layer's channel group stay. Layers tied in one group (a residual add, a concat) keep the
// same channels, so they must be given the same share.
import { type Graph, OpKind } from '../../ir/types.js';
import { type ChannelGroup, type ChannelGroups } from './groups.js';

/** Layer (original id) -> share of its output channels kept, in (0, 1]. */
export type LayerKeep = ReadonlyMap<string, number>;

/** The `keep` most important channels (ties to the lower index), ascending as a Plan wants. */
export function topChannels(scores: ArrayLike<number>, keep: number): number[] {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, keep)
    .sort((a, b) => a - b);
}

/** The channel group of each named layer's output, checked prunable and with one share per group. */
export function layerKeepGroups(graph: Graph, groups: ChannelGroups, keep: LayerKeep): Map<string, { group: ChannelGroup; share: number; layers: string[] }> {
  const out = new Map<string, { group: ChannelGroup; share: number; layers: string[] }>();
  const weighted = graph.nodes.filter((n) => n.op === OpKind.Conv2d || n.op === OpKind.Dense);
  for (const [layer, share] of keep) {
    // a decomposed layer has several nodes of this origin: its output channels are the last one's
    const node = weighted.filter((n) => n.origin === layer).at(-1);
    if (!node) throw new Error(`prune --keep ${layer}: ${graph.name} has no conv2d/dense layer '${layer}' (layers: ${[...new Set(weighted.map((n) => n.origin))].join(', ')})`);
    const group = groups.groupOfProducer.get(node.id);
    if (!group || group.fixed) throw new Error(`prune --keep ${layer}: its output channels cannot be pruned (${group?.fixed ?? 'not a channel group'})`);
    const seen = out.get(group.id);
    if (seen && seen.share !== share) throw new Error(`prune --keep: ${seen.layers[0]} (${seen.share}) and ${layer} (${share}) share one channel group (${group.producers.join(', ')}, tied by an add or concat) and keep the same channels: give them the same share`);
    if (seen) seen.layers.push(layer);
    else out.set(group.id, { group, share, layers: [layer] });
  }
  return out;
}

/**
 * Kept channels per group for `keep` raised to `exponent` (iterative steps) of each layer's ORIGINAL
 * channel count (`originalSize`, by layer), never fewer than `minChannels`. Groups already that small are absent.
 */
export function selectLayerKeep(
  graph: Graph,
  groups: ChannelGroups,
  importance: ReadonlyMap<string, ArrayLike<number>>,
  keep: LayerKeep,
  originalSize: ReadonlyMap<string, number>,
  exponent = 1,
  minChannels = 1,
): Map<string, number[]> {
  const kept = new Map<string, number[]>();
  for (const { group, share, layers } of layerKeepGroups(graph, groups, keep).values()) {
    const count = Math.max(minChannels, Math.round(originalSize.get(layers[0])! * share ** exponent));
    if (count < group.size) kept.set(group.id, topChannels(importance.get(group.id)!, count));
  }
  return kept;
}

/** Each named layer's output channel count, checking that its share keeps at least one channel. */
export function layerSizes(graph: Graph, groups: ChannelGroups, keep: LayerKeep): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const { group, share, layers } of layerKeepGroups(graph, groups, keep).values()) {
    if (Math.round(group.size * share) < 1) throw new Error(`prune --keep ${layers[0]}=${share}: keeps ${Math.round(group.size * share)} of its ${group.size} channels; at least 1 must stay`);
    for (const l of layers) sizes.set(l, group.size);
  }
  return sizes;
}
