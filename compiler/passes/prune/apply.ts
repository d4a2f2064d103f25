// Physical channel removal: Graph in, smaller Graph out (fewer params, MACs and activation memory).
//
// A removed channel is not just dropped: its value at each consumer is replaced by a constant folded into
// the consumer (SEEDS §4: a channel with BN gamma ~ 0 still carries beta). The constant is traced from
// where the channel is born: a conv/dense whose kernel slice is all zero gives exactly its bias; a
// batchNorm of an exact constant transforms it exactly, of anything else gives beta (the channel's mean
// over the data BN was fitted on, exact when gamma = 0); activations, pools, dropout, flatten and
// depthwise convs map it on; an add sums its branches. The consumer's share, Σ kernel · constant, goes
// into the following batchNorm's mean when the consumer feeds only that BN, else into its bias. Exact
// when every step is exact and no zero padding meets the constant (a padded conv consumer sees zeros, not
// the constant, at the borders); the report says which.
import { inferShapes, verify } from '../../ir/graph.js';
import { type Graph, IrError, type Node, type NodeOf, OpKind, type Shape, type Tensor } from '../../ir/types.js';
import { type ChannelGroups, channelGroups, keptIndices, spacesOf } from './groups.js';

export interface FoldRecord {
  readonly group: string;
  readonly consumer: string;
  /** Where the removed channels' contribution went. */
  readonly into: 'bias' | 'batchNorm mean' | 'nothing (no constant)';
  /** Removed channels folded. */
  readonly channels: number;
  /** Outputs unchanged by the removal (constants exact, no zero-padded borders). */
  readonly exact: boolean;
}

export interface PruneResult {
  readonly graph: Graph;
  /** Removed channel indices per group id. */
  readonly removed: ReadonlyMap<string, readonly number[]>;
  readonly folds: readonly FoldRecord[];
}

export interface PruneOptions {
  /** Fold removed channels' constants into consumers (default true). */
  readonly fold?: boolean;
}

/** t with its `axis` restricted to `idx` (ascending indices). */
export function takeAxis(t: Tensor, axis: number, idx: readonly number[]): Tensor {
  if (t.dtype !== 'float32') throw new IrError(`pruning needs float32 weights, got ${t.dtype}`);
  const shape = [...t.shape];
  if (idx.length === shape[axis]) return t;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = shape[axis];
  const out = new Float32Array(outer * idx.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idx.length; j++) out.set(t.data.subarray((o * n + idx[j]) * inner, (o * n + idx[j] + 1) * inner), (o * idx.length + j) * inner);
  }
  shape[axis] = idx.length;
  return { dtype: 'float32', shape, data: out };
}

const f32 = (t: Tensor | undefined): Float32Array | undefined => (t ? (t.data as Float32Array) : undefined);

interface Constant {
  readonly k: number;
  readonly exact: boolean;
}

/** The constant standing in for channel `c` (index along the last axis) of value `v`, or undefined. */
export function constantTracer(graph: Graph, shapes: Map<string, Shape>): (v: string, c: number) => Constant | undefined {
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const memo = new Map<string, Constant | undefined>();
  const trace = (v: string, c: number): Constant | undefined => {
    const key = `${v}\u0000${c}`;
    if (memo.has(key)) return memo.get(key);
    memo.set(key, undefined); // cycles cannot happen in a verified graph; guards recursion anyway
    const node = byId.get(v);
    const r = node ? rule(node, c) : undefined;
    memo.set(key, r);
    return r;
  };
  const rule = (node: Node, c: number): Constant | undefined => {
    const x = node.inputs[0];
    switch (node.op) {
      case OpKind.Conv2d:
      case OpKind.Dense: {
        const k = f32(node.weights.kernel)!;
        const cout = node.op === OpKind.Dense ? node.attrs.units : node.attrs.filters;
        if (node.op === OpKind.Conv2d && node.attrs.groups !== 1) return undefined;
        let zero = true;
        for (let i = c; i < k.length && zero; i += cout) zero = k[i] === 0;
        const b = node.attrs.useBias ? f32(node.weights.bias)![c] : 0;
        return { k: b, exact: zero };
      }
      case OpKind.BatchNorm: {
        const w = node.weights;
        const gamma = f32(w.gamma)![c];
        const beta = f32(w.beta)![c];
        const inner = trace(x, c);
        if (inner?.exact) {
          return { k: (gamma * (inner.k - f32(w.mean)![c])) / Math.sqrt(f32(w.variance)![c] + node.attrs.epsilon) + beta, exact: true };
        }
        return { k: beta, exact: gamma === 0 };
      }
      case OpKind.Relu:
      case OpKind.Relu6:
      case OpKind.LeakyRelu:
      case OpKind.Sigmoid: {
        const i = trace(x, c);
        if (!i) return undefined;
        const f = node.op === OpKind.Relu ? Math.max(0, i.k) : node.op === OpKind.Relu6 ? Math.min(6, Math.max(0, i.k)) : node.op === OpKind.LeakyRelu ? (i.k >= 0 ? i.k : node.attrs.alpha * i.k) : 1 / (1 + Math.exp(-i.k));
        return { k: f, exact: i.exact };
      }
      case OpKind.MaxPool:
      case OpKind.GlobalAvgPool:
      case OpKind.Dropout:
        return trace(x, c);
      case OpKind.AvgPool: {
        const i = trace(x, c);
        const padded = node.attrs.countIncludePad && node.attrs.pads.some((p) => p > 0);
        return i && { k: i.k, exact: i.exact && !padded };
      }
      case OpKind.Pad: {
        const i = trace(x, c);
        return i && { k: i.k, exact: i.exact && (node.attrs.pads.every((p) => p === 0) || node.attrs.value === i.k) };
      }
      case OpKind.Flatten: {
        const s = shapes.get(x)!;
        return trace(x, c % s[s.length - 1]);
      }
      case OpKind.DepthwiseConv2d: {
        if (node.attrs.depthMultiplier !== 1) return undefined;
        const i = trace(x, c);
        if (!i) return undefined;
        const kern = f32(node.weights.kernel)!;
        const ch = node.weights.kernel.shape[2];
        let sum = 0;
        for (let j = c; j < kern.length; j += ch) sum += kern[j];
        const b = node.attrs.useBias ? f32(node.weights.bias)![c] : 0;
        return { k: sum * i.k + b, exact: i.exact && node.attrs.pads.every((p) => p === 0) };
      }
      case OpKind.Add: {
        let k = 0;
        let exact = true;
        for (const v of node.inputs) {
          const i = trace(v, c);
          if (!i) return undefined;
          k += i.k;
          exact &&= i.exact;
        }
        return { k, exact };
      }
      case OpKind.Concat: {
        const rank = shapes.get(node.id)!.length;
        if (node.attrs.axis !== rank - 1) return undefined;
        let off = 0;
        for (const v of node.inputs) {
          const s = shapes.get(v)!;
          const n = s[s.length - 1];
          if (c < off + n) return trace(v, c - off);
          off += n;
        }
        return undefined;
      }
      default:
        return undefined;
    }
  };
  return trace;
}

function checkKept(groups: ChannelGroups, kept: ReadonlyMap<string, readonly number[]>): void {
  const byId = new Map(groups.groups.map((g) => [g.id, g] as const));
  for (const [id, idx] of kept) {
    const g = byId.get(id);
    if (!g) throw new IrError(`prune: no channel group '${id}' (prunable groups: ${groups.groups.filter((x) => !x.fixed).map((x) => x.id).join(', ')})`);
    if (g.fixed) throw new IrError(`prune: channels of '${id}' cannot be pruned: tied to ${g.fixed}`, id);
    if (idx.length === 0) throw new IrError(`prune: this would remove every one of the ${g.size} channels of '${id}' (layers ${g.producers.join(', ')}); keep at least one`, id);
    for (let i = 0; i < idx.length; i++) {
      if (!Number.isInteger(idx[i]) || idx[i] < 0 || idx[i] >= g.size) throw new IrError(`prune: kept channel ${idx[i]} of '${id}' is outside 0..${g.size - 1}`, id);
      if (i > 0 && idx[i] <= idx[i - 1]) throw new IrError(`prune: kept channels of '${id}' must be ascending and distinct (got ${idx[i - 1]} then ${idx[i]})`, id);
    }
  }
}

/** Removes channels: `kept` maps a group id (channelGroups) to the ascending channel indices it keeps. */
export function pruneChannels(graph: Graph, kept: ReadonlyMap<string, readonly number[]>, opts: PruneOptions = {}): PruneResult {
  const shapes = inferShapes(graph);
  const groups = channelGroups(graph, shapes);
  checkKept(groups, kept);
  const removed = new Map<string, number[]>();
  for (const [id, idx] of kept) {
    const g = groups.groups.find((x) => x.id === id)!;
    const keep = new Set(idx);
    const r = Array.from({ length: g.size }, (_, i) => i).filter((i) => !keep.has(i));
    if (r.length > 0) removed.set(id, r);
  }
  const keptOf = (v: string) => keptIndices(groups.maps.get(v)!, groups.groupOfSpace, kept);
  const fullOf = (v: string) => {
    const s = shapes.get(v)!;
    return s[s.length - 1];
  };

  // Folding: per consumer, δ[o] = Σ over removed input rows of (kernel row) · constant.
  const folds: FoldRecord[] = [];
  const deltas = new Map<string, { delta: Float64Array; into: string }>();
  if (opts.fold ?? true) {
    const trace = constantTracer(graph, shapes);
    const users = new Map<string, Node[]>();
    for (const n of graph.nodes) for (const v of n.inputs) users.set(v, [...(users.get(v) ?? []), n]);
    for (const node of graph.nodes) {
      if (node.op !== OpKind.Conv2d && node.op !== OpKind.Dense) continue;
      const x = node.inputs[0];
      const keptIn = new Set(keptOf(x));
      const nIn = fullOf(x);
      if (keptIn.size === nIn) continue;
      const k = node.weights.kernel.data as Float32Array;
      const cout = node.op === OpKind.Dense ? node.attrs.units : node.attrs.filters;
      const taps = k.length / (nIn * cout);
      const delta = new Float64Array(cout);
      let exact = node.op === OpKind.Dense || node.attrs.pads.every((p) => p === 0);
      let count = 0;
      let traced = 0;
      for (let r = 0; r < nIn; r++) {
        if (keptIn.has(r)) continue;
        count++;
        const c = trace(x, r);
        if (!c) {
          exact = false;
          continue;
        }
        traced++;
        exact &&= c.exact;
        if (c.k === 0) continue;
        for (let t = 0; t < taps; t++) {
          const base = (t * nIn + r) * cout;
          for (let o = 0; o < cout; o++) delta[o] += k[base + o] * c.k;
        }
      }
      const next = users.get(node.id) ?? [];
      const bn = next.length === 1 && next[0].op === OpKind.BatchNorm && !graph.outputs.includes(node.id) ? next[0] : undefined;
      const into = traced === 0 ? 'nothing (no constant)' : bn ? 'batchNorm mean' : 'bias';
      if (traced > 0) deltas.set(bn ? bn.id : node.id, { delta, into });
      const group = [...new Set(spacesOf(groups.maps.get(x)!).map((s) => groups.groupOfSpace.get(s)!.id))].join('+');
      folds.push({ group, consumer: node.id, into, channels: count, exact });
    }
  }

  const nodes = graph.nodes.map((node): Node => {
    switch (node.op) {
      case OpKind.Conv2d:
      case OpKind.Dense: {
        const inIdx = keptOf(node.inputs[0]);
        const outIdx = keptOf(node.id);
        const axisIn = node.op === OpKind.Dense ? 0 : 2;
        const axisOut = node.op === OpKind.Dense ? 1 : 3;
        let kernel = node.weights.kernel;
        if (node.op === OpKind.Conv2d && node.attrs.groups !== 1) return node;
        kernel = takeAxis(takeAxis(kernel, axisIn, inIdx), axisOut, outIdx);
        const d = deltas.get(node.id);
        let bias = node.weights.bias;
        if (d) {
          const full = new Float32Array(d.delta.length);
          const old = f32(bias);
          for (let o = 0; o < full.length; o++) full[o] = (old ? old[o] : 0) + d.delta[o];
          bias = { dtype: 'float32', shape: [full.length], data: full };
        }
        const weights = { ...node.weights, kernel, ...(bias ? { bias: takeAxis(bias, 0, outIdx) } : {}) };
        if (node.op === OpKind.Dense) return { ...node, attrs: { ...node.attrs, units: outIdx.length, useBias: !!bias }, weights } as NodeOf<OpKind.Dense>;
        return { ...node, attrs: { ...node.attrs, filters: outIdx.length, useBias: !!bias }, weights } as NodeOf<OpKind.Conv2d>;
      }
      case OpKind.BatchNorm: {
        const idx = keptOf(node.inputs[0]);
        const d = deltas.get(node.id);
        let mean = node.weights.mean;
        if (d) {
          const m = Float32Array.from(mean.data as Float32Array, (v, i) => v - d.delta[i]);
          mean = { dtype: 'float32', shape: mean.shape, data: m };
        }
        const w = { ...node.weights, mean };
        return { ...node, weights: Object.fromEntries(Object.entries(w).map(([k, t]) => [k, takeAxis(t, 0, idx)])) };
      }
      case OpKind.DepthwiseConv2d: {
        if (node.attrs.depthMultiplier !== 1) return node;
        const idx = keptOf(node.inputs[0]);
        const weights: Record<string, Tensor> = { kernel: takeAxis(node.weights.kernel, 2, idx) };
        if (node.weights.bias) weights.bias = takeAxis(node.weights.bias, 0, idx);
        return { ...node, weights };
      }
      default:
        return node;
    }
  });
  const out: Graph = { ...graph, nodes };
  verify(out);
  return { graph: out, removed, folds };
}
