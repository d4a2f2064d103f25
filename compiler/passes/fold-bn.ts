// Fold every batchNorm that directly follows a conv2d / depthwiseConv2d / dense (and is that node's only
// consumer) into the node's kernel and bias:  W'[..., c] = W[..., c]·g_c,  b'_c = (b_c - mean_c)·g_c + beta_c,
// g_c = gamma_c / sqrt(variance_c + epsilon). Inference outputs are unchanged (up to float rounding);
// the batchNorm node disappears and its consumers read the folded node. Graph in, Graph out.
import { type Graph, type Node, type NodeOf, OpKind } from '../ir/types.js';

type Foldable = NodeOf<OpKind.Conv2d> | NodeOf<OpKind.DepthwiseConv2d> | NodeOf<OpKind.Dense>;

const isFoldable = (n: Node | undefined): n is Foldable => !!n && (n.op === OpKind.Conv2d || n.op === OpKind.DepthwiseConv2d || n.op === OpKind.Dense);

export function foldBatchNorms(graph: Graph): Graph {
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const uses = new Map<string, number>();
  for (const n of graph.nodes) for (const v of n.inputs) uses.set(v, (uses.get(v) ?? 0) + 1);
  for (const o of graph.outputs) uses.set(o, (uses.get(o) ?? 0) + 1);
  const folded = new Map<string, Foldable>(); // producer id -> folded producer
  const dropped = new Map<string, string>(); // bn id -> producer id
  for (const bn of graph.nodes) {
    if (bn.op !== OpKind.BatchNorm) continue;
    const p = byId.get(bn.inputs[0]);
    if (!isFoldable(p) || uses.get(p.id) !== 1) continue;
    const f32 = (name: string) => bn.weights[name].data as Float32Array;
    const [gamma, beta, mean, variance] = ['gamma', 'beta', 'mean', 'variance'].map(f32);
    const c = gamma.length;
    const g = Float64Array.from(gamma, (v, i) => v / Math.sqrt(variance[i] + bn.attrs.epsilon));
    const k = p.weights.kernel;
    // output channel of kernel element i: conv/dense [.., cout]; depthwise [kh, kw, cin, mult] -> cin·mult
    const kernel = Float32Array.from(k.data as Float32Array, (v, i) => v * g[i % c]);
    const oldBias = p.attrs.useBias ? (p.weights.bias.data as Float32Array) : undefined;
    const bias = Float32Array.from({ length: c }, (_, i) => ((oldBias ? oldBias[i] : 0) - mean[i]) * g[i] + beta[i]);
    const weights = { ...p.weights, kernel: { dtype: 'float32' as const, shape: k.shape, data: kernel }, bias: { dtype: 'float32' as const, shape: [c], data: bias } };
    folded.set(p.id, { ...p, attrs: { ...p.attrs, useBias: true }, weights } as Foldable);
    dropped.set(bn.id, p.id);
  }
  const redirect = (v: string) => dropped.get(v) ?? v;
  const nodes = graph.nodes.filter((n) => !dropped.has(n.id)).map((n) => folded.get(n.id) ?? (n.inputs.some((v) => dropped.has(v)) ? ({ ...n, inputs: n.inputs.map(redirect) } as Node) : n));
  return { ...graph, nodes, outputs: graph.outputs.map(redirect) };
}
