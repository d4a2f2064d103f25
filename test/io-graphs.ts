// Test graphs and numeric helpers shared by the import/export tests (onnx.test.ts, tfjs-io.test.ts).
import { GraphBuilder } from '../compiler/ir/builder.js';
import { type Graph, type Node, type Shape, type Tensor } from '../compiler/ir/types.js';
import { Rng } from '../compiler/util/rng.js';

/** Replaces biases and batchNorm statistics (zeros/ones from the builder) with random values. */
export function randomize(graph: Graph, seed = 7): Graph {
  const rng = new Rng(seed);
  const fill = (name: string, t: Tensor): Tensor => {
    const n = t.data.length;
    const range: Record<string, [number, number]> = { bias: [-0.3, 0.3], gamma: [0.5, 1.5], beta: [-0.5, 0.5], mean: [-0.5, 0.5], variance: [0.5, 2] };
    const r = range[name];
    if (!r) return t;
    return { dtype: 'float32', shape: t.shape, data: Float32Array.from({ length: n }, () => rng.uniform(r[0], r[1])) };
  };
  const nodes = graph.nodes.map((n) => ({ ...n, weights: Object.fromEntries(Object.entries(n.weights).map(([k, t]) => [k, fill(k, t)])) }) as Node);
  return { ...graph, nodes };
}

/** Every op kind, with the awkward cases: groups, dilation, stride-2 'same' (asymmetric pads), explicit pads. */
export function allOpsGraph(): Graph {
  const b = new GraphBuilder('allops', 1);
  const x = b.input('image', [12, 12, 3]);
  const c1 = b.conv2d(x, { id: 'conv1', filters: 8, kernel: 3, padding: 'same' });
  const r1 = b.relu(b.batchNorm(c1, { id: 'bn1', epsilon: 1e-3, momentum: 0.99 }), { id: 'relu1' });
  const g = b.relu6(b.conv2d(r1, { id: 'grouped', filters: 8, kernel: 3, groups: 2, padding: 'same' }), { id: 'relu6' });
  const d = b.leakyRelu(b.conv2d(g, { id: 'dilated', filters: 8, kernel: 3, dilations: 2, padding: 'same', useBias: false }), 0.1, { id: 'leaky' });
  const res = b.addValues([r1, d], { id: 'residual' });
  const s2 = b.sigmoid(b.conv2d(res, { id: 'stride2', filters: 12, kernel: 3, strides: 2, padding: 'same', origin: 'block2' }), { id: 'sig', origin: 'block2' });
  const dw = b.depthwiseConv2d(s2, { id: 'dw', kernel: 3, depthMultiplier: 2, padding: 'same' });
  const padded = b.pad(dw, [1, 0, 0, 1], 0, { id: 'pad' });
  const mp = b.maxPool(padded, 3, { id: 'maxpool', strides: 2, padding: 'same' });
  const ap = b.avgPool(mp, 3, { id: 'avgsame', strides: 1, padding: 'same' });
  const ap2 = b.avgPool(mp, 2, { id: 'avgpads', strides: 1, padding: [1, 1, 0, 0], countIncludePad: true });
  const cat = b.concat([ap, ap2], 2, { id: 'cat' });
  // Head 1: pooled features -> dense -> dropout -> softmax.
  const out1 = b.softmax(b.dropout(b.dense(b.globalAvgPool(cat, { id: 'gap' }), 10, { id: 'fc1' }), 0.25, { id: 'drop' }), { id: 'probs' });
  // Head 2: flatten straight into a dense (ONNX permutes the dense rows).
  const out2 = b.relu(b.dense(b.flatten(cat, { id: 'flat' }), 16, { id: 'fc2' }), { id: 'fc2relu' });
  // Head 3: rank-2 reshape, softmax over its last axis, flatten, dense.
  const rs = b.softmax(b.reshape(cat, [16, 48], { id: 'rows' }), { id: 'rowsoftmax' });
  const out3 = b.dense(b.flatten(rs, { id: 'flatrows' }), 5, { id: 'fc3', useBias: false });
  // Head 4: rank-3 reshape then a 1x1 conv (NCHW output in ONNX).
  const out4 = b.conv2d(b.reshape(cat, [8, 2, 48], { id: 'regrid' }), { id: 'conv1x1', filters: 4, kernel: 1 });
  // Head 5: a flatten that feeds an element-wise op first (no row permutation possible).
  const out5 = b.dense(b.sigmoid(b.flatten(mp, { id: 'flat2' }), { id: 'flatsig' }), 3, { id: 'fc5' });
  // Head 6: explicit non-'same' conv pads.
  const out6 = b.globalAvgPool(b.conv2d(r1, { id: 'asym', filters: 4, kernel: 3, strides: 2, padding: [1, 1, 0, 0] }), { id: 'gap6' });
  return randomize(b.build([out1, out2, out3, out4, out5, out6]));
}

export function vggGraph(): Graph {
  const b = new GraphBuilder('vgg', 2);
  let x = b.input('input', [16, 16, 3]);
  for (const [i, f] of [8, 16].entries()) {
    x = b.relu(b.conv2d(x, { id: `block${i + 1}_conv1`, filters: f, kernel: 3, padding: 'same' }), { id: `block${i + 1}_relu1` });
    x = b.relu(b.conv2d(x, { id: `block${i + 1}_conv2`, filters: f, kernel: 3, padding: 'same' }), { id: `block${i + 1}_relu2` });
    x = b.maxPool(x, 2, { id: `block${i + 1}_pool` });
  }
  x = b.flatten(x, { id: 'flatten' });
  x = b.dropout(b.relu(b.dense(x, 32, { id: 'fc1' }), { id: 'fc1_relu' }), 0.5, { id: 'fc1_drop' });
  x = b.softmax(b.dense(x, 10, { id: 'fc2' }), { id: 'softmax' });
  return randomize(b.build([x]), 11);
}

export function residualGraph(): Graph {
  const b = new GraphBuilder('resnet-ish', 3);
  const x = b.input('input', [12, 12, 4]);
  let h = b.relu(b.batchNorm(b.conv2d(x, { id: 'stem', filters: 8, kernel: 3, padding: 'same', useBias: false }), { id: 'stem_bn' }), { id: 'stem_relu' });
  for (const k of [1, 2]) {
    const a = b.relu(b.batchNorm(b.conv2d(h, { id: `res${k}_a`, filters: 8, kernel: 3, padding: 'same', useBias: false }), { id: `res${k}_a_bn` }), { id: `res${k}_a_relu` });
    const c = b.batchNorm(b.conv2d(a, { id: `res${k}_b`, filters: 8, kernel: 3, padding: 'same', useBias: false }), { id: `res${k}_b_bn` });
    h = b.relu(b.addValues([h, c], { id: `res${k}_add` }), { id: `res${k}_out` });
  }
  const y = b.dense(b.globalAvgPool(h, { id: 'pool' }), 6, { id: 'logits' });
  return randomize(b.build([y]), 12);
}

export function concatGraph(): Graph {
  const b = new GraphBuilder('inception-ish', 4);
  const x = b.input('input', [10, 10, 6]);
  const b1 = b.relu(b.conv2d(x, { id: 'b1x1', filters: 4, kernel: 1 }), { id: 'b1relu' });
  const b3 = b.relu6(b.conv2d(x, { id: 'b3x3', filters: 6, kernel: 3, padding: 'same' }), { id: 'b3relu6' });
  const bp = b.conv2d(b.maxPool(x, 3, { id: 'bpool', strides: 1, padding: 'same' }), { id: 'bproj', filters: 2, kernel: 1 });
  const cat = b.concat([b1, b3, bp], 2, { id: 'mixed' });
  const y = b.softmax(b.dense(b.flatten(b.maxPool(cat, 2, { id: 'pool' }), { id: 'flat' }), 7, { id: 'fc' }), { id: 'prob' });
  return randomize(b.build([y]), 13);
}

export function randomInput(shape: Shape, batch: number, seed = 3): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: batch * shape.reduce((a, c) => a * c, 1) }, () => rng.uniform(-1, 1));
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** [B, H, W, C] <-> [B, C, H, W] */
export function nhwcToNchw(x: Float32Array, b: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < b; n++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out[((n * c + k) * h + i) * w + j] = x[((n * h + i) * w + j) * c + k];
  return out;
}
export function nchwToNhwc(x: Float32Array, b: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < b; n++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out[((n * h + i) * w + j) * c + k] = x[((n * c + k) * h + i) * w + j];
  return out;
}

/** Every weight of `a` equals the same weight of `b` bit for bit; returns the first mismatch or undefined. */
export function weightMismatch(a: Graph, b: Graph): string | undefined {
  const byId = new Map(b.nodes.map((n) => [n.id, n]));
  for (const n of a.nodes) {
    const m = byId.get(n.id);
    if (!m) return `node '${n.id}' missing`;
    for (const [k, t] of Object.entries(n.weights)) {
      const u = m.weights[k];
      if (!u) return `${n.id}.${k} missing`;
      const x = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const y = new Uint8Array(u.data.buffer, u.data.byteOffset, u.data.byteLength);
      if (x.length !== y.length || x.some((v, i) => v !== y[i])) return `${n.id}.${k} differs`;
    }
  }
  return undefined;
}
