// Per-node features of a graph for latency prediction: what a layer's cost depends on in the int8 runtime and
// the integer executor (op, kernel, stride, channels, spatial size, MACs, params, bytes in and out), plus two
// that the board runtime's conv and dense loops make matter: the share of kernel taps inside the input (padding
// taps are skipped) and the share of input codes at the zero point (tandem_rt.c skips them: `if (xv == 0)
// continue`), measured with the integer executor on the input that is timed. One row per IR node, since the
// board times nodes (blob layers); Report rows are per original layer (node origin).
import { graphStats } from '../../compiler/ir/graph.js';
import { type Graph, OpKind } from '../../compiler/ir/types.js';
import { runInt8 } from '../../compiler/passes/quantize/int8-executor.js';
import { valueParams } from '../../compiler/passes/quantize/scheme.js';

/** Numeric feature columns, in the order of LayerFeatures.f (the dataset stores this list). */
export const FEATURE_NAMES = ['kh', 'kw', 'stride', 'cin', 'cout', 'hin', 'win', 'hout', 'wout', 'macs', 'params', 'inBytes', 'outBytes', 'inputs', 'validTaps', 'inZero'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

export interface LayerFeatures {
  /** IR node id (the blob layer name). */
  readonly node: string;
  /** The original layer it reports under. */
  readonly origin: string;
  readonly op: OpKind;
  /** Values in FEATURE_NAMES order. */
  readonly f: readonly number[];
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** [H, W, C] of an NHWC per-sample shape; a flat [N] is 1 x 1 x N. */
const hwc = (s: readonly number[]): [number, number, number] => (s.length === 3 ? [s[0], s[1], s[2]] : [1, 1, prod(s)]);

/** Taps of a kh x kw window at every output position that fall inside the input, over all taps (1 = no padding). */
function validTaps(k: number, s: number, pad: number, n: number, out: number): number {
  let v = 0;
  for (let o = 0; o < out; o++) for (let i = 0; i < k; i++) if (o * s + i - pad >= 0 && o * s + i - pad < n) v++;
  return out * k > 0 ? v / (out * k) : 1;
}

/**
 * Share of each node's (first) input codes at the value's zero point, on one input (NHWC, one sample), by the
 * integer executor: the board runtime skips those in conv and dense.
 */
export function inputZeroFractions(graph: Graph, input: Float32Array): Map<string, number> {
  const params = valueParams(graph);
  const keep = new Set([graph.inputs[0].id, ...graph.nodes.map((n) => n.id)]);
  const { codes } = runInt8(graph, input, 1, { keep });
  const out = new Map<string, number>();
  for (const n of graph.nodes) {
    const q = codes.get(n.inputs[0]);
    const p = params.get(n.inputs[0]);
    if (!q || !p || q.length === 0) continue;
    let z = 0;
    for (const v of q) if (v === p.zeroPoint) z++;
    out.set(n.id, z / q.length);
  }
  return out;
}

/**
 * Features of every node, in graph order. Activations count one byte per element (int8). `zeros`
 * (inputZeroFractions) fills inZero; without it inZero is 0.
 */
export function layerFeatures(graph: Graph, zeros?: ReadonlyMap<string, number>): LayerFeatures[] {
  const stats = graphStats(graph).nodes;
  return graph.nodes.map((n, i) => {
    const s = stats[i];
    const [hin, win, cin] = hwc(s.inputShapes[0]);
    const [hout, wout, cout] = hwc(s.outputShape);
    let kh = 0;
    let kw = 0;
    let stride = 1;
    let valid = 1;
    if (n.op === OpKind.Conv2d || n.op === OpKind.DepthwiseConv2d || n.op === OpKind.MaxPool || n.op === OpKind.AvgPool) {
      [kh, kw] = n.attrs.kernel;
      stride = n.attrs.strides[0];
      const [pt, pl] = n.attrs.pads;
      valid = validTaps(kh, stride, pt, hin, hout) * validTaps(kw, n.attrs.strides[1], pl, win, wout);
    } else if (n.op === OpKind.Dense) [kh, kw] = [1, 1];
    const inBytes = s.inputShapes.reduce((a, x) => a + prod(x), 0);
    const f = [kh, kw, stride, cin, cout, hin, win, hout, wout, s.macs, s.params, inBytes, prod(s.outputShape), n.inputs.length, valid, zeros?.get(n.id) ?? 0];
    return { node: n.id, origin: n.origin, op: n.op, f };
  });
}

/** A graph whose every node is its own origin, so a Target reports one row per node (for the dataset). */
export function nodeLevel(graph: Graph): Graph {
  return { ...graph, nodes: graph.nodes.map((n) => (n.origin === n.id ? n : { ...n, origin: n.id })) };
}

/** Config key of a layer for the lookup table: op and every shape feature (MACs etc. follow from them). */
export function configKey(op: string, f: readonly number[]): string {
  return `${op}|${f.slice(0, 9).join(',')}|${f[13]}`;
}

/** The "work" a layer does, for scaling a neighbour's time: MACs, else the elements it reads and writes. */
export function work(f: readonly number[]): number {
  const macs = f[9];
  return macs > 0 ? macs : f[11] + f[12];
}
