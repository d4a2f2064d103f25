// Weights onto their integer grids: per-output-channel symmetric scales from the current weights
// (max |w| / (2^(b-1) - 1)), kernels rounded onto them and biases onto the s_x · s_w grid. Run after PTQ
// calibration and again after QAT; the fake-quant model's exact path applies it to QAT's current weights.
import { type Graph, type Node, OpKind } from '../../ir/types.js';
import { clamp, roundHalfAway } from './fixed-point.js';
import { valueParams, WEIGHTED, weightMax } from './scheme.js';

/** One weighted node with `weightBits` set, its input at scale `sx`: weights snapped, `weightScales` set. */
export function snapNode(n: Node, sx: number): Node {
  const bits = n.quant!.weightBits!;
  const wmax = weightMax(bits);
  const k = n.weights.kernel.data as Float32Array;
  const shape = n.weights.kernel.shape;
  const cout = n.op === OpKind.DepthwiseConv2d ? shape[2] * shape[3] : shape[shape.length - 1];
  const absMax = new Float64Array(cout);
  for (let i = 0; i < k.length; i++) absMax[i % cout] = Math.max(absMax[i % cout], Math.abs(k[i]));
  const s = Float32Array.from(absMax, (m) => (m > 0 ? m / wmax : 1));
  const kernel = Float32Array.from(k, (v, i) => s[i % cout] * clamp(roundHalfAway(v / s[i % cout]), -wmax, wmax));
  const useBias = (n.attrs as { useBias: boolean }).useBias;
  const b = useBias ? (n.weights.bias.data as Float32Array) : undefined;
  const bias = b ? Float32Array.from(b, (v, c) => sx * s[c] * roundHalfAway(v / (sx * s[c]))) : undefined;
  const weights = { ...n.weights, kernel: { ...n.weights.kernel, data: kernel }, ...(bias ? { bias: { ...n.weights.bias, data: bias } } : {}) };
  return { ...n, weights, quant: { ...n.quant, weightScales: s } } as Node;
}

/** Every quantized weighted node of `q` snapped (snapNode). */
export function snapWeights(q: Graph): Graph {
  const params = valueParams(q);
  return { ...q, nodes: q.nodes.map((n) => (WEIGHTED.has(n.op) && n.quant?.weightBits !== undefined ? snapNode(n, params.get(n.inputs[0])!.scale) : n)) };
}
