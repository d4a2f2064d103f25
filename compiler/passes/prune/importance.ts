// Channel importance per prunable group (pluggable criteria; higher = more important).
//   l1 / l2: norm of each output filter, summed over the group's producers (Li et al. 2017);
//   slim:    |gamma| of the group's batchNorms (Liu et al. 2017; meaningful after L1-on-gamma training);
//   vmask:   keep probability 1 / (1 + alpha) of the learned variational channel mask (SEEDS §4), read
//            from each batchNorm's `logAlpha`; the mask multiplies the whole BN output (scale and shift), so
//            a channel whose output is a large constant keeps a high keep probability;
//   ssl:     L2 norm of everything that touches the channel: the producers' filters and the consumers'
//            input rows (after group-lasso training whole groups are exactly zero).
import { type Graph, type Node } from '../../ir/types.js';
import { type ChannelGroup, type ChannelGroups, channelOfRow } from './groups.js';

export type Criterion = 'l1' | 'l2' | 'slim' | 'vmask' | 'ssl';
export const CRITERIA: readonly Criterion[] = ['l1', 'l2', 'slim', 'vmask', 'ssl'];

const data = (n: Node, name: string) => n.weights[name]?.data as Float32Array | undefined;

/** Σ |w|^p over the output channel c of a [..., cout] kernel, for every c. */
function outputNorms(kernel: Float32Array, cout: number, p: 1 | 2): Float64Array {
  const s = new Float64Array(cout);
  for (let i = 0; i < kernel.length; i++) s[i % cout] += p === 1 ? Math.abs(kernel[i]) : kernel[i] * kernel[i];
  return s;
}

/** Adds Σ w² of the consumer's input rows that carry channel c of group g, for every c. */
function addInputRowNorms(node: Node, groups: ChannelGroups, g: ChannelGroup, out: Float64Array): void {
  const map = groups.maps.get(node.inputs[0])!;
  const kernel = data(node, 'kernel')!;
  const shape = node.weights.kernel.shape;
  const cout = shape[shape.length - 1];
  const nIn = shape[shape.length - 2];
  const taps = kernel.length / (nIn * cout);
  for (let r = 0; r < nIn; r++) {
    const at = channelOfRow(map, r);
    if (groups.groupOfSpace.get(at.space) !== g) continue;
    let s = 0;
    for (let t = 0; t < taps; t++) for (let o = 0; o < cout; o++) s += kernel[(t * nIn + r) * cout + o] ** 2;
    out[at.channel] += s;
  }
}

/** Per-channel importance of every prunable group. Throws when the criterion does not apply to a group. */
export function channelImportance(graph: Graph, groups: ChannelGroups, criterion: Criterion): Map<string, Float64Array> {
  const byId = new Map(graph.nodes.map((n) => [n.id, n] as const));
  const out = new Map<string, Float64Array>();
  for (const g of groups.groups) {
    if (g.fixed) continue;
    const s = new Float64Array(g.size);
    if (criterion === 'l1' || criterion === 'l2' || criterion === 'ssl') {
      for (const p of g.producers) {
        const n = byId.get(p)!;
        const norms = outputNorms(data(n, 'kernel')!, g.size, criterion === 'l1' ? 1 : 2);
        for (let c = 0; c < g.size; c++) s[c] += norms[c];
      }
      if (criterion === 'ssl') for (const u of g.consumers) addInputRowNorms(byId.get(u.node)!, groups, g, s);
      if (criterion !== 'l1') for (let c = 0; c < g.size; c++) s[c] = Math.sqrt(s[c]);
    } else {
      const bns = g.perChannel.map((u) => byId.get(u.node)!).filter((n) => n.op === 'batchNorm');
      if (bns.length === 0) throw new Error(`criterion ${criterion}: channel group '${g.id}' has no batchNorm to read (use l1 or l2)`);
      for (const bn of bns) {
        const gamma = data(bn, 'gamma')!;
        if (criterion === 'slim') {
          for (let c = 0; c < g.size; c++) s[c] += Math.abs(gamma[c]);
          continue;
        }
        const logAlpha = data(bn, 'logAlpha');
        if (!logAlpha) throw new Error(`criterion vmask: batchNorm '${bn.id}' has no learned mask (logAlpha): train the masks first`);
        for (let c = 0; c < g.size; c++) s[c] += 1 / (1 + Math.exp(logAlpha[c]));
      }
    }
    out.set(g.id, s);
  }
  return out;
}
