// Depth-wise pruning (SSL's depth-wise groups, SEEDS §3): a residual branch whose output is constant
// (its kernels driven to zero) is removed and the add becomes "shortcut + constant". The constant goes
// into the shortcut's producer when that is a batchNorm / conv / dense feeding only the add (beta or bias
// += constant), otherwise into a shift node: a batchNorm with gamma 1, mean 0, variance 1 - epsilon and
// beta = constant, which computes x + constant exactly.
import { type Graph, IrError, type Node, OpKind, type Tensor } from '../../ir/types.js';
import { inferShapes, verify } from '../../ir/graph.js';
import { constantTracer } from './apply.js';
import { residualBranches } from './sparsity.js';

export interface BranchRemoval {
  readonly graph: Graph;
  readonly add: string;
  readonly removed: readonly string[];
  /** Every channel of the branch output was an exact constant (outputs unchanged). */
  readonly exact: boolean;
  readonly into: 'batchNorm beta' | 'bias' | 'shift node';
}

/** Σ over kernels of |w| for the branch: 0 when SSL's depth-wise group reached zero. */
export function branchNorm(graph: Graph, nodes: readonly string[]): number {
  let s = 0;
  for (const n of graph.nodes) if (nodes.includes(n.id) && n.weights.kernel) for (const v of n.weights.kernel.data as Float32Array) s += Math.abs(v);
  return s;
}

export function removeResidualBranch(graph: Graph, add: string): BranchRemoval {
  const branch = residualBranches(graph).find((b) => b.add === add);
  if (!branch) throw new IrError(`no residual branch ends in '${add}' (branches end in: ${residualBranches(graph).map((b) => b.add).join(', ') || 'none'})`, add);
  const addNode = graph.nodes.find((n) => n.id === add)!;
  const inBranch = new Set(branch.nodes);
  const branchOut = addNode.inputs.find((v) => inBranch.has(v))!;
  const shortcut = addNode.inputs.find((v) => !inBranch.has(v))!;
  const trace = constantTracer(graph, inferShapes(graph));
  const last = graph.nodes.find((n) => n.id === branchOut)!;
  const channels = last.op === OpKind.BatchNorm ? last.weights.gamma.shape[0] : 0;
  const k = new Float32Array(channels);
  let exact = channels > 0;
  if (channels === 0) throw new IrError(`the branch into '${add}' does not end in a batchNorm; cannot tell its per-channel constant`, add);
  for (let i = 0; i < channels; i++) {
    const t = trace(branchOut, i);
    if (!t) throw new IrError(`the output of the branch into '${add}' has no constant stand-in`, add);
    k[i] = t.k;
    exact &&= t.exact;
  }
  // others that read branch nodes would lose their input
  for (const n of graph.nodes) if (!inBranch.has(n.id) && n.id !== add && n.inputs.some((v) => inBranch.has(v))) throw new IrError(`'${n.id}' reads the branch too; it cannot be removed`, add);
  const users = graph.nodes.filter((n) => n.inputs.includes(shortcut) && !inBranch.has(n.id));
  const producer = graph.nodes.find((n) => n.id === shortcut);
  const f32 = (t: Tensor) => t.data as Float32Array;
  const vec = (d: Float32Array): Tensor => ({ dtype: 'float32', shape: [d.length], data: d });
  let into: BranchRemoval['into'];
  let nodes: Node[];
  const soleUser = users.length === 1 && !graph.outputs.includes(shortcut);
  if (producer && soleUser && producer.op === OpKind.BatchNorm) {
    into = 'batchNorm beta';
    const beta = Float32Array.from(f32(producer.weights.beta), (v, i) => v + k[i]);
    nodes = graph.nodes.map((n) => (n.id === producer.id ? ({ ...n, weights: { ...n.weights, beta: vec(beta) } } as Node) : n));
  } else if (producer && soleUser && (producer.op === OpKind.Conv2d || producer.op === OpKind.Dense)) {
    into = 'bias';
    const old = producer.attrs.useBias ? f32(producer.weights.bias) : new Float32Array(channels);
    const bias = Float32Array.from(old, (v, i) => v + k[i]);
    nodes = graph.nodes.map((n) => (n.id === producer.id ? ({ ...n, attrs: { ...n.attrs, useBias: true }, weights: { ...n.weights, bias: vec(bias) } } as Node) : n));
  } else {
    into = 'shift node';
    const eps = 1e-3;
    const shift: Node = {
      id: add,
      op: OpKind.BatchNorm,
      origin: addNode.origin,
      inputs: [shortcut],
      attrs: { epsilon: eps, momentum: 0.99 },
      weights: { gamma: vec(new Float32Array(channels).fill(1)), beta: vec(k), mean: vec(new Float32Array(channels)), variance: vec(new Float32Array(channels).fill(1 - eps)) },
    };
    nodes = graph.nodes.filter((n) => !inBranch.has(n.id)).map((n) => (n.id === add ? shift : n));
    const out: Graph = { ...graph, nodes };
    verify(out);
    return { graph: out, add, removed: branch.nodes, exact, into };
  }
  // the add disappears: its readers read the shortcut
  const redirect = (v: string) => (v === add ? shortcut : v);
  nodes = nodes.filter((n) => !inBranch.has(n.id) && n.id !== add).map((n) => (n.inputs.includes(add) ? ({ ...n, inputs: n.inputs.map(redirect) } as Node) : n));
  const out: Graph = { ...graph, nodes, outputs: graph.outputs.map(redirect) };
  verify(out);
  return { graph: out, add, removed: branch.nodes, exact, into };
}
