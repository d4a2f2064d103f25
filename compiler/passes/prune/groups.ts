// Channel dependency groups (the idea of Torch-Pruning's DepGraph, derived from the Graph alone).
//
// Every value's last axis is described by a ChannelMap onto "channel spaces". A conv/dense output opens a
// new space; per-channel ops (BN, activations, pools, dropout, pad, depthwise with multiplier 1) pass the
// map through; `add` (and concat on a non-channel axis) unifies its inputs' spaces, so channels tied across
// a residual add are one group; channel concat lays spaces side by side; flatten of [H, W, C] maps feature
// p·C + c to channel c. A group is the union of spaces: removing its channel c removes output channel c of
// every producer, the per-channel weights of every BN / depthwise on it, and the matching input rows of
// every consumer. Spaces that reach a graph input or output, a reshape, a softmax axis or a grouped conv
// are fixed (not prunable), with the reason.
import { inferShapes } from '../../ir/graph.js';
import { type Graph, type Node, OpKind, type Shape } from '../../ir/types.js';

/** How a value's last axis maps onto channel spaces. */
export type ChannelMap =
  | { readonly kind: 'space'; readonly space: number }
  /** A flattened [H, W, C]: feature p·C + c is channel c of the space, p < positions. */
  | { readonly kind: 'flat'; readonly space: number; readonly channels: number; readonly positions: number }
  /** Channel concat: the parts in order. */
  | { readonly kind: 'concat'; readonly parts: readonly { readonly space: number; readonly size: number }[] };

/** A node whose weights are indexed by a group's channels, and along which map. */
export interface ChannelUse {
  readonly node: string;
  readonly map: ChannelMap;
}

export interface ChannelGroup {
  /** Stable name: the first producer's id (or the first value's, when nothing produces it). */
  readonly id: string;
  readonly size: number;
  /** conv2d / dense nodes whose OUTPUT channels are this group's channels. */
  readonly producers: readonly string[];
  /** Nodes with per-channel weights on the group (batchNorm, depthwise with multiplier 1), with their input map. */
  readonly perChannel: readonly ChannelUse[];
  /** conv2d / dense nodes whose INPUT rows are indexed (through the map) by this group's channels. */
  readonly consumers: readonly ChannelUse[];
  /** Why the group cannot be pruned; undefined when it can. */
  readonly fixed?: string;
  /** Internal space ids of the group (for ChannelMap lookups). */
  readonly spaces: readonly number[];
}

export interface ChannelGroups {
  readonly groups: readonly ChannelGroup[];
  /** Channel map of every value (graph inputs and nodes). */
  readonly maps: ReadonlyMap<string, ChannelMap>;
  /** Group of every space id. */
  readonly groupOfSpace: ReadonlyMap<number, ChannelGroup>;
  /** Group whose producers include this node id. */
  readonly groupOfProducer: ReadonlyMap<string, ChannelGroup>;
}

const PASS_THROUGH = new Set<OpKind>([
  OpKind.BatchNorm,
  OpKind.Relu,
  OpKind.Relu6,
  OpKind.LeakyRelu,
  OpKind.Sigmoid,
  OpKind.MaxPool,
  OpKind.AvgPool,
  OpKind.GlobalAvgPool,
  OpKind.Pad,
  OpKind.Dropout,
]);

/** Spaces a map touches. */
export function spacesOf(map: ChannelMap): number[] {
  return map.kind === 'concat' ? map.parts.map((p) => p.space) : [map.space];
}

/** The channel dependency groups of a graph. */
export function channelGroups(graph: Graph, shapes: Map<string, Shape> = inferShapes(graph)): ChannelGroups {
  const parent: number[] = [];
  const sizes: number[] = [];
  const firstName: string[] = [];
  const find = (s: number): number => {
    while (parent[s] !== s) s = parent[s] = parent[parent[s]];
    return s;
  };
  const fixedWhy = new Map<number, string>();
  const newSpace = (size: number, name: string): number => {
    parent.push(parent.length);
    sizes.push(size);
    firstName.push(name);
    return parent.length - 1;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const fix = (map: ChannelMap, why: string): void => {
    for (const s of spacesOf(map)) if (!fixedWhy.has(s)) fixedWhy.set(s, why);
  };
  const maps = new Map<string, ChannelMap>();
  const producers: { node: string; space: number }[] = [];
  const perChannel: ChannelUse[] = [];
  const uses: ChannelUse[] = [];
  const last = (v: string) => {
    const s = shapes.get(v)!;
    return s[s.length - 1];
  };

  for (const input of graph.inputs) {
    const s = newSpace(last(input.id), input.id);
    fixedWhy.set(s, `graph input '${input.id}'`);
    maps.set(input.id, { kind: 'space', space: s });
  }
  const fresh = (node: Node, why?: string): ChannelMap => {
    const s = newSpace(last(node.id), node.id);
    if (why) fixedWhy.set(s, why);
    return { kind: 'space', space: s };
  };
  for (const node of graph.nodes) {
    const ins = node.inputs.map((v) => maps.get(v)!);
    const x = ins[0];
    let out: ChannelMap;
    switch (node.op) {
      case OpKind.Conv2d:
      case OpKind.Dense: {
        if (node.op === OpKind.Conv2d && node.attrs.groups !== 1) {
          const why = `grouped conv '${node.id}' (groups = ${node.attrs.groups})`;
          fix(x, why);
          out = fresh(node, why);
          break;
        }
        uses.push({ node: node.id, map: x });
        out = fresh(node);
        producers.push({ node: node.id, space: (out as { space: number }).space });
        break;
      }
      case OpKind.DepthwiseConv2d:
        if (node.attrs.depthMultiplier === 1 && x.kind === 'space') {
          perChannel.push({ node: node.id, map: x });
          out = x;
        } else {
          const why = `depthwise conv '${node.id}' with depth multiplier ${node.attrs.depthMultiplier}`;
          fix(x, why);
          out = fresh(node, why);
        }
        break;
      case OpKind.Flatten: {
        const s = shapes.get(node.inputs[0])!;
        if (s.length === 1) out = x;
        else if (x.kind === 'space') out = { kind: 'flat', space: x.space, channels: s[s.length - 1], positions: s.slice(0, -1).reduce((a, b) => a * b, 1) };
        else {
          fix(x, `flatten '${node.id}' of a ${x.kind} value`);
          out = fresh(node, `flatten '${node.id}' of a ${x.kind} value`);
        }
        break;
      }
      case OpKind.Add: {
        if (ins.every((m) => m.kind === 'space')) {
          for (const m of ins) union((ins[0] as { space: number }).space, (m as { space: number }).space);
          out = x;
        } else {
          for (const m of ins) fix(m, `add '${node.id}' of flattened or concatenated values`);
          out = fresh(node, `add '${node.id}' of flattened or concatenated values`);
        }
        break;
      }
      case OpKind.Concat: {
        const rank = shapes.get(node.id)!.length;
        if (node.attrs.axis === rank - 1 && ins.every((m) => m.kind !== 'flat')) {
          const parts = ins.flatMap((m, i) => (m.kind === 'concat' ? m.parts : [{ space: (m as { space: number }).space, size: last(node.inputs[i]) }]));
          out = { kind: 'concat', parts };
        } else if (node.attrs.axis !== rank - 1 && ins.every((m) => m.kind === 'space')) {
          for (const m of ins) union((ins[0] as { space: number }).space, (m as { space: number }).space);
          out = x;
        } else {
          for (const m of ins) fix(m, `concat '${node.id}' of flattened values`);
          out = fresh(node, `concat '${node.id}' of flattened values`);
        }
        break;
      }
      case OpKind.Reshape:
        fix(x, `reshape '${node.id}'`);
        out = fresh(node, `reshape '${node.id}'`);
        break;
      case OpKind.Softmax:
        fix(x, `softmax '${node.id}'`);
        out = x;
        break;
      default:
        if (!PASS_THROUGH.has(node.op)) throw new Error(`channelGroups: op ${node.op} of '${node.id}' has no channel rule`);
        if (node.op === OpKind.BatchNorm) perChannel.push({ node: node.id, map: x });
        out = x;
    }
    maps.set(node.id, out);
  }
  for (const o of graph.outputs) fix(maps.get(o)!, `graph output '${o}'`);

  // collect per root
  const byRoot = new Map<number, { spaces: number[]; producers: string[]; perChannel: ChannelUse[]; consumers: ChannelUse[]; fixed?: string }>();
  const entry = (s: number) => {
    const r = find(s);
    let e = byRoot.get(r);
    if (!e) byRoot.set(r, (e = { spaces: [], producers: [], perChannel: [], consumers: [] }));
    return e;
  };
  for (let s = 0; s < parent.length; s++) {
    const e = entry(s);
    e.spaces.push(s);
    const why = fixedWhy.get(s);
    if (why && !e.fixed) e.fixed = why;
  }
  for (const p of producers) entry(p.space).producers.push(p.node);
  for (const u of perChannel) for (const s of spacesOf(u.map)) entry(s).perChannel.push(u);
  for (const u of uses) for (const s of spacesOf(u.map)) if (!entry(s).consumers.includes(u)) entry(s).consumers.push(u);

  const groups: ChannelGroup[] = [];
  const groupOfSpace = new Map<number, ChannelGroup>();
  const groupOfProducer = new Map<string, ChannelGroup>();
  for (const [root, e] of [...byRoot].sort((a, b) => a[0] - b[0])) {
    const fixed = e.fixed ?? (e.producers.length === 0 ? 'no conv or dense produces these channels' : undefined);
    const g: ChannelGroup = { id: e.producers[0] ?? firstName[root], size: sizes[root], producers: e.producers, perChannel: e.perChannel, consumers: e.consumers, fixed, spaces: e.spaces };
    groups.push(g);
    for (const s of e.spaces) groupOfSpace.set(s, g);
    for (const p of e.producers) groupOfProducer.set(p, g);
  }
  return { groups, maps, groupOfSpace, groupOfProducer };
}

/**
 * Indices along a value's last axis that survive, given the kept channels of each pruned group
 * (groups not in `kept` keep everything). Ascending.
 */
export function keptIndices(map: ChannelMap, groupOfSpace: ReadonlyMap<number, ChannelGroup>, kept: ReadonlyMap<string, readonly number[]>): number[] {
  const keep = (space: number, size: number): readonly number[] => kept.get(groupOfSpace.get(space)!.id) ?? Array.from({ length: size }, (_, i) => i);
  if (map.kind === 'space') return [...keep(map.space, groupOfSpace.get(map.space)!.size)];
  if (map.kind === 'flat') {
    const k = keep(map.space, map.channels);
    const out: number[] = [];
    for (let p = 0; p < map.positions; p++) for (const c of k) out.push(p * map.channels + c);
    return out;
  }
  const out: number[] = [];
  let offset = 0;
  for (const part of map.parts) {
    for (const c of keep(part.space, part.size)) out.push(offset + c);
    offset += part.size;
  }
  return out;
}

/** Which space and channel index a position along a value's last axis belongs to. */
export function channelOfRow(map: ChannelMap, row: number): { space: number; channel: number } {
  if (map.kind === 'space') return { space: map.space, channel: row };
  if (map.kind === 'flat') return { space: map.space, channel: row % map.channels };
  let offset = 0;
  for (const part of map.parts) {
    if (row < offset + part.size) return { space: part.space, channel: row - offset };
    offset += part.size;
  }
  throw new RangeError(`row ${row} is outside the concat of ${offset} channels`);
}

/** Ids of the batchNorms carrying per-channel weights of prunable groups (slim's and vmask's targets). */
export function prunableBatchNorms(graph: Graph, groups: ChannelGroups): Set<string> {
  const bn = new Set(graph.nodes.filter((n) => n.op === OpKind.BatchNorm).map((n) => n.id));
  const ids = new Set<string>();
  for (const g of groups.groups) if (!g.fixed) for (const u of g.perChannel) if (bn.has(u.node)) ids.add(u.node);
  return ids;
}
