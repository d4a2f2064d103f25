// Seeded synthetic ModelGraphs for the UI tests and benchmarks: an ImageNet-sized CNN, a VGG/ResNet mix
// (plain conv-bn-relu units, basic residual blocks with an `add` skip, projection shortcuts where the
// shape changes, max-pools), with the shapes, params and MACs those layers really have.
import { graphStats } from '../compiler/ir/graph.js';
import type { Graph } from '../compiler/ir/types.js';
import { Rng } from '../compiler/util/rng.js';
import type { GraphNode, ModelGraph } from '../ui/api/types.js';

const DECISIONS = ['tucker2 16x24', 'svd 32', 'cp 12', 'prune 25%', 'prune 25%, then svd 8'];

/** Exactly `layers` nodes (plus one graph input); `layers` >= 8. */
export function syntheticModelGraph(layers: number, seed: number): ModelGraph {
  if (!Number.isInteger(layers) || layers < 8) throw new RangeError(`syntheticModelGraph: layers must be an integer >= 8, got ${layers}`);
  const rng = new Rng(seed);
  const nodes: GraphNode[] = [];
  let hw = 224;
  let ch = 3;
  let last = 'image';
  let n = 0;
  const push = (op: string, inputs: string[], outputShape: number[], params: number, macs: number, id = `${op}_${++n}`): string => {
    // A tenth of the weighted layers carry a compression decision, as a plan would attach.
    const decision = (op === 'conv2d' || op === 'dense') && rng.next() < 0.1 ? DECISIONS[rng.int(DECISIONS.length)] : undefined;
    nodes.push({ id, op, origin: id, inputs, outputShape, params, macs, ...(decision ? { decision } : {}) });
    return id;
  };
  const conv = (from: string, cout: number, k: number, stride: number): string => {
    const cin = ch;
    hw = Math.ceil(hw / stride);
    ch = cout;
    return push('conv2d', [from], [hw, hw, cout], k * k * cin * cout, hw * hw * k * k * cin * cout);
  };
  // BatchNorm counts gamma, beta, mean and variance (as graphStats does); one multiply-add per element.
  const bn = (from: string) => push('batchNorm', [from], [hw, hw, ch], 4 * ch, hw * hw * ch);
  const relu = (from: string) => push('relu', [from], [hw, hw, ch], 0, 0);

  const tail = 3; // globalAvgPool, dense, softmax
  let budget = layers - tail;
  const take = (k: number) => (budget -= k);
  // Stem: 7x7/2 conv, bn, relu (3 nodes), like ResNet's.
  last = relu(bn(conv(last, 64, 7, 2)));
  take(3);
  // Downsample (stride 2, double the channels) at evenly spaced points, at most 4 times (112 -> 7).
  const start = budget;
  const stages = Math.min(4, Math.floor(start / 10));
  const downAt = Array.from({ length: stages }, (_, s) => Math.floor(((s + 1) * start) / (stages + 1)));
  let stage = 0;
  while (budget > 0) {
    const down = stage < downAt.length && start - budget >= downAt[stage] && hw > 7;
    if (down) stage++;
    const cout = down ? Math.min(512, ch * 2) : ch;
    const stride = down ? 2 : 1;
    if (budget >= 9 && (down || rng.next() < 0.6)) {
      // Residual block; a projection shortcut (conv 1x1 + bn) when the shape changes.
      const [entry, entryHw, entryCh] = [last, hw, ch];
      let r = relu(bn(conv(last, cout, 3, stride)));
      r = bn(conv(r, cout, 3, 1));
      let short = entry;
      let size = 7;
      if (stride !== 1 || entryCh !== cout) {
        [hw, ch] = [entryHw, entryCh]; // the shortcut convolves the block's input
        short = bn(conv(entry, cout, 1, stride));
        size = 9;
      }
      last = relu(push('add', [r, short], [hw, hw, ch], 0, hw * hw * ch));
      take(size);
    } else if (budget >= 3) {
      last = relu(bn(conv(last, cout, rng.next() < 0.2 ? 1 : 3, stride)));
      take(3);
    } else if (hw > 7) {
      hw = Math.ceil(hw / 2);
      last = push('maxPool', [last], [hw, hw, ch], 0, 0);
      take(1);
    } else {
      last = push('dropout', [last], [hw, hw, ch], 0, 0);
      take(1);
    }
  }
  last = push('globalAvgPool', [last], [ch], 0, hw * hw * ch, 'gap');
  last = push('dense', [last], [1000], ch * 1000 + 1000, ch * 1000, 'fc');
  last = push('softmax', [last], [1000], 0, 0, 'softmax');
  return {
    ref: `synthetic:${layers}:${seed}`,
    name: `synthetic-${layers}`,
    inputs: [{ id: 'image', shape: [224, 224, 3] }],
    outputs: [last],
    nodes,
    totals: { params: nodes.reduce((a, x) => a + x.params, 0), macs: nodes.reduce((a, x) => a + x.macs, 0) },
  };
}

/** A compiler Graph as a ModelGraph (shapes, params and MACs from graphStats), with the given per-layer
 * compression decisions, for tests on real models. */
export function modelGraphOf(graph: Graph, ref: string, decisions: Readonly<Record<string, string>> = {}): ModelGraph {
  const stats = graphStats(graph);
  return {
    ref,
    name: graph.name,
    inputs: graph.inputs.map((i) => ({ id: i.id, shape: [...i.shape] })),
    outputs: [...graph.outputs],
    nodes: graph.nodes.map((n, i) => {
      const s = stats.nodes[i];
      const decision = decisions[n.id];
      return { id: n.id, op: n.op, origin: n.origin, inputs: [...n.inputs], outputShape: [...s.outputShape], params: s.params, macs: s.macs, ...(decision ? { decision } : {}) };
    }),
    totals: { params: stats.totalParams, macs: stats.totalMacs },
  };
}
