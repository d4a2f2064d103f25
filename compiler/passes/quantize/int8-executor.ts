// The integer-only reference executor: THE definition of Tandem's int8 semantics (docs/int8-semantics.md).
// Every value is integer codes q with real = scale·(q - zeroPoint); conv/dense accumulate
// Σ (q_x - z_x)·q_w + q_b exactly, then requantize with a fixed-point multiplier per output channel; no
// float arithmetic touches an activation except the graph input's quantization and a final softmax.
// The CIM simulator's exact mode and the board firmware must match it bit for bit.
import { inferShapes } from '../../ir/graph.js';
import { type Graph, IrError, type Node, type NodeOf, OpKind, type Shape } from '../../ir/types.js';
import { gemmStrided } from '../decompose/linalg.js';
import { clamp, multiplyByQuantizedMultiplier, type QuantizedMultiplier, quantizeMultiplier, roundedDivide, roundHalfAway } from './fixed-point.js';
import { im2col } from './im2col.js';
import { activationRange, type ValueParams, valueParams, weightMax } from './scheme.js';

/**
 * Integer weights of a conv/dense: codes (held as float64, exact, so the GEMM takes them as they are),
 * int32 bias, per-channel requantization multipliers.
 */
export interface IntLayer {
  readonly weights: Float64Array;
  readonly bias: Int32Array;
  readonly multipliers: readonly QuantizedMultiplier[];
}

/** Bias grid and weight codes of a quantized weighted node (also used by the fake-quant model). */
export function integerWeights(node: Node, input: ValueParams, output: ValueParams): IntLayer {
  const q = node.quant;
  const scales = q?.weightScales;
  if (!q || !scales || q.weightBits === undefined) throw new IrError('not quantized (no weight scales): run the quantize pass first', node.id);
  const k = node.weights.kernel.data as Float32Array;
  const cout = scales.length;
  const wmax = weightMax(q.weightBits);
  const weights = new Float64Array(k.length);
  for (let i = 0; i < k.length; i++) weights[i] = clamp(roundHalfAway(k[i] / scales[i % cout]), -wmax, wmax);
  const b = (node.attrs as { useBias: boolean }).useBias ? (node.weights.bias.data as Float32Array) : undefined;
  const bias = new Int32Array(cout);
  const multipliers: QuantizedMultiplier[] = [];
  for (let c = 0; c < cout; c++) {
    const accScale = input.scale * scales[c];
    if (b) bias[c] = clamp(roundHalfAway(b[c] / accScale), -(2 ** 31), 2 ** 31 - 1);
    multipliers.push(quantizeMultiplier(accScale / output.scale));
  }
  return { weights, bias, multipliers };
}

export interface Int8Result {
  /** Graph outputs as reals (dequantized; softmax outputs computed in float64 from the codes). */
  readonly outputs: Float32Array[];
  /** Codes of the values asked for in `keep` (batch-major). */
  readonly codes: Map<string, Int32Array>;
}

const prod = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** Quantizes a real input: q = clamp(round(fround(x / scale)) + zeroPoint). */
export function quantizeInput(x: Float32Array, p: ValueParams): Int32Array {
  const [qmin, qmax] = activationRange(p.bits);
  const { scale, zeroPoint } = p;
  const out = new Int32Array(x.length);
  // clamp(roundHalfAway(...)) spelled out: this loop sees every input value of every run. For a float32
  // v, |v| + ½ is exact in a double (or |v| ≥ 2^53 is an integer already), so floor(|v| + ½) is
  // Math.round(|v|): the same codes, ~4x faster than Math.round in V8
  for (let i = 0; i < x.length; i++) {
    const v = Math.fround(x[i] / scale);
    const r = Math.floor(Math.abs(v) + 0.5);
    const q = (v < 0 ? -r : r) + zeroPoint;
    out[i] = q < qmin ? qmin : q > qmax ? qmax : q; // NaN stays NaN and stores as 0, as clamp's did
  }
  return out;
}

/**
 * conv2d with groups = 1 as im2col + a float64 GEMM: every product and partial sum is an integer below
 * 2^53, so the result equals the loop definition below exactly, whatever the summation order.
 */
function convGemm(node: NodeOf<OpKind.Conv2d>, x: Int32Array, batch: number, xs: Shape, ys: Shape, L: IntLayer, pin: ValueParams, pout: ValueParams): Int32Array {
  const [Ho, Wo, Co] = ys;
  const [qmin, qmax] = activationRange(pout.bits);
  const K = node.attrs.kernel[0] * node.attrs.kernel[1] * xs[2];
  const M = Ho * Wo;
  const cols = new Float64Array(M * K);
  const acc = new Float64Array(M * Co);
  const y = new Int32Array(batch * M * Co);
  for (let b = 0; b < batch; b++) {
    im2col(node, x, b, b + 1, xs, ys, pin.zeroPoint, 0, cols);
    gemmStrided(M, K, Co, cols, 0, K, 1, L.weights, 0, Co, 1, acc, 0, Co);
    const yb = b * M * Co;
    for (let p = 0; p < M; p++) {
      for (let c = 0; c < Co; c++) y[yb + p * Co + c] = clamp(pout.zeroPoint + multiplyByQuantizedMultiplier(acc[p * Co + c] + L.bias[c], L.multipliers[c]), qmin, qmax);
    }
  }
  return y;
}

/** The definition: direct loops over output positions, taps and channels (any groups, depthwise). */
function conv(node: NodeOf<OpKind.Conv2d> | NodeOf<OpKind.DepthwiseConv2d>, x: Int32Array, batch: number, xs: Shape, ys: Shape, L: IntLayer, pin: ValueParams, pout: ValueParams): Int32Array {
  const [H, W, C] = xs;
  const [Ho, Wo, Co] = ys;
  const [kh, kw] = node.attrs.kernel;
  const [sh, sw] = node.attrs.strides;
  const [dh, dw] = node.attrs.dilations;
  const [pt, pl] = node.attrs.pads;
  const depthwise = node.op === OpKind.DepthwiseConv2d;
  const groups = depthwise ? C : node.attrs.groups;
  const cinG = C / groups; // input channels per group (1 for depthwise)
  const coutG = Co / groups;
  const [qmin, qmax] = activationRange(pout.bits);
  const zx = pin.zeroPoint;
  const y = new Int32Array(batch * Ho * Wo * Co);
  const acc = new Float64Array(Co);
  const w = L.weights; // [kh, kw, cinG, Co] (depthwise: [kh, kw, C, mult] = same index order)
  for (let b = 0; b < batch; b++) {
    const xb = b * H * W * C;
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        for (let c = 0; c < Co; c++) acc[c] = L.bias[c];
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= H) continue; // padding: q = z_x, contributes 0
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw - pl + j * dw;
            if (iw < 0 || iw >= W) continue;
            const xo = xb + (ih * W + iw) * C;
            const wo = (i * kw + j) * cinG * Co;
            if (groups === 1) {
              for (let ci = 0; ci < C; ci++) {
                const xv = x[xo + ci] - zx;
                if (xv === 0) continue;
                const wr = wo + ci * Co;
                for (let c = 0; c < Co; c++) acc[c] += xv * w[wr + c];
              }
            } else {
              for (let c = 0; c < Co; c++) {
                const g = Math.floor(c / coutG);
                const wr = wo + c; // weight [i, j, ci, c] with ci in the group
                let s = 0;
                for (let ci = 0; ci < cinG; ci++) s += (x[xo + g * cinG + ci] - zx) * w[wr + ci * Co];
                acc[c] += s;
              }
            }
          }
        }
        const yo = ((b * Ho + oh) * Wo + ow) * Co;
        for (let c = 0; c < Co; c++) y[yo + c] = clamp(pout.zeroPoint + multiplyByQuantizedMultiplier(acc[c], L.multipliers[c]), qmin, qmax);
      }
    }
  }
  return y;
}

/** dense: acc[u] = q_b[u] + Σ_i (q_x[i] - z_x)·q_w[i, u] (one exact float64 GEMM for the batch). */
function dense(x: Int32Array, batch: number, n: number, units: number, L: IntLayer, pin: ValueParams, pout: ValueParams): Int32Array {
  const [qmin, qmax] = activationRange(pout.bits);
  const xc = new Float64Array(batch * n);
  for (let i = 0; i < xc.length; i++) xc[i] = x[i] - pin.zeroPoint;
  const acc = new Float64Array(batch * units);
  gemmStrided(batch, n, units, xc, 0, n, 1, L.weights, 0, units, 1, acc, 0, units);
  const y = new Int32Array(batch * units);
  for (let b = 0; b < batch; b++) {
    for (let u = 0; u < units; u++) y[b * units + u] = clamp(pout.zeroPoint + multiplyByQuantizedMultiplier(acc[b * units + u] + L.bias[u], L.multipliers[u]), qmin, qmax);
  }
  return y;
}

/** Σ_i (q_i - z_i)·(s_i / s_y) at 2^-16 precision, then one rounding: add and concat's requantization. */
const RESCALE_BITS = 16;
function rescaler(pin: ValueParams, pout: ValueParams): (q: number) => number {
  const m = quantizeMultiplier(pin.scale / pout.scale);
  return (q) => multiplyByQuantizedMultiplier((q - pin.zeroPoint) * 2 ** RESCALE_BITS, m);
}

function pool(node: NodeOf<OpKind.MaxPool> | NodeOf<OpKind.AvgPool>, x: Int32Array, batch: number, xs: Shape, ys: Shape, p: ValueParams): Int32Array {
  const [H, W, C] = xs;
  const [Ho, Wo] = ys;
  const [kh, kw] = node.attrs.kernel;
  const [sh, sw] = node.attrs.strides;
  const [pt, pl] = node.attrs.pads;
  const isMax = node.op === OpKind.MaxPool;
  const includePad = node.op === OpKind.AvgPool && node.attrs.countIncludePad;
  const y = new Int32Array(batch * Ho * Wo * C);
  // channels innermost: the input's contiguous axis
  const acc = new Float64Array(C);
  const z = p.zeroPoint;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        acc.fill(isMax ? -Infinity : 0);
        let count = 0;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - pt + i;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw - pl + j;
            if (!(ih >= 0 && ih < H && iw >= 0 && iw < W)) {
              if (includePad) count++;
              continue;
            }
            count++;
            const xo = ((b * H + ih) * W + iw) * C;
            if (isMax) {
              for (let c = 0; c < C; c++) if (x[xo + c] > acc[c]) acc[c] = x[xo + c];
            } else for (let c = 0; c < C; c++) acc[c] += x[xo + c] - z;
          }
        }
        const yo = ((b * Ho + oh) * Wo + ow) * C;
        if (isMax) y.set(acc, yo);
        else for (let c = 0; c < C; c++) y[yo + c] = z + roundedDivide(acc[c], count);
      }
    }
  }
  return y;
}

/**
 * Σ (q_x − z_x)·q_w of a conv/dense for the whole batch, without the bias, [batch, ...output shape]
 * (reals allowed: they are rounded half away from zero before the bias and the requantization).
 * The CIM simulator computes it the way its crossbars do; undefined = the executor's own arithmetic.
 */
export type AccumulateHook = (node: Node, x: Int32Array, batch: number, xs: Shape, ys: Shape, layer: IntLayer, input: ValueParams) => Float64Array | undefined;

export interface RunInt8Options {
  /** Values whose codes to return. */
  readonly keep?: ReadonlySet<string>;
  /** Convs by the direct loops (tests). */
  readonly loops?: boolean;
  readonly accumulate?: AccumulateHook;
  /** Integer weights already made by integerLayers (callers that run the same graph many times). */
  readonly layers?: ReadonlyMap<string, IntLayer>;
  /** A bit-identical quantizeInput (the simulator's WebAssembly one). */
  readonly quantizeInput?: (x: Float32Array, p: ValueParams) => Int32Array;
  /** A bit-identical requantize of the accumulate hook's results (the simulator's WebAssembly one). */
  readonly requantize?: typeof requantize;
  /** Called after each node with its wall time (ms, performance.now): the host target's per-layer timing. */
  readonly onNodeTime?: (node: Node, ms: number) => void;
}

/** integerWeights of every conv/dense of a quantized graph, by node id. */
export function integerLayers(graph: Graph, params = valueParams(graph)): Map<string, IntLayer> {
  const layers = new Map<string, IntLayer>();
  for (const n of graph.nodes) {
    if (n.op === OpKind.Conv2d || n.op === OpKind.DepthwiseConv2d || n.op === OpKind.Dense) layers.set(n.id, integerWeights(n, params.get(n.inputs[0])!, params.get(n.id)!));
  }
  return layers;
}

/** q_y = clamp(z_y + mul(round(acc) + q_b[c], M[c])) over [positions, channels]. */
export function requantize(acc: Float64Array, channels: number, L: IntLayer, pout: ValueParams): Int32Array {
  const [qmin, qmax] = activationRange(pout.bits);
  const z = pout.zeroPoint;
  const y = new Int32Array(acc.length);
  // multiplyByQuantizedMultiplier's small-|x| branch inlined with per-channel constants (the same
  // arithmetic: |x·m0| < 2^53 makes the product exact); larger |x| take the function itself
  const m0 = Float64Array.from(L.multipliers, (m) => m.m0);
  const pow = Float64Array.from(L.multipliers, (m) => 2 ** (31 - m.shift));
  const inv = pow.map((P) => 1 / P); // a power of two: prod·inv is prod / P exactly
  for (let p = 0; p < acc.length; p += channels) {
    for (let c = 0; c < channels; c++) {
      const a = acc[p + c];
      const x = (a === Math.trunc(a) ? a : roundHalfAway(a)) + L.bias[c];
      let v: number;
      if (x < 4194304 && x > -4194304) {
        const P = pow[c];
        const prod = x * m0[c];
        const f = Math.floor(prod * inv[c]);
        const rem = prod - f * P;
        const half = P / 2;
        v = f + (rem > half || (rem === half && f >= 0) ? 1 : 0);
      } else v = multiplyByQuantizedMultiplier(x, L.multipliers[c]);
      const q = z + v;
      y[p + c] = q < qmin ? qmin : q > qmax ? qmax : q;
    }
  }
  return y;
}

/** Runs a quantized graph on a batch of real inputs (NHWC, batch-major). */
export function runInt8(graph: Graph, input: Float32Array, batch: number, opts: RunInt8Options = {}): Int8Result {
  const params = valueParams(graph);
  const shapes = inferShapes(graph);
  const layers = opts.layers ?? integerLayers(graph, params);
  const values = new Map<string, Int32Array>();
  const reals = new Map<string, Float32Array>();
  const inp = graph.inputs[0];
  values.set(inp.id, (opts.quantizeInput ?? quantizeInput)(input.subarray(0, batch * prod(inp.shape)), params.get(inp.id)!));
  const timed = opts.onNodeTime;
  for (const n of graph.nodes) {
    const t0 = timed ? performance.now() : 0;
    const x = values.get(n.inputs[0])!;
    const xs = shapes.get(n.inputs[0])!;
    const ys = shapes.get(n.id)!;
    const pin = params.get(n.inputs[0])!;
    const pout = params.get(n.id)!;
    let y: Int32Array;
    switch (n.op) {
      case OpKind.Conv2d:
      case OpKind.DepthwiseConv2d: {
        const L = layers.get(n.id)!;
        const acc = opts.accumulate?.(n, x, batch, xs, ys, L, pin);
        if (acc) {
          y = (opts.requantize ?? requantize)(acc, ys[ys.length - 1], L, pout);
          break;
        }
        y = n.op === OpKind.Conv2d && n.attrs.groups === 1 && !opts.loops ? convGemm(n, x, batch, xs, ys, L, pin, pout) : conv(n, x, batch, xs, ys, L, pin, pout);
        break;
      }
      case OpKind.Dense: {
        const L = layers.get(n.id)!;
        const acc = opts.accumulate?.(n, x, batch, xs, ys, L, pin);
        if (acc) {
          y = (opts.requantize ?? requantize)(acc, ys[ys.length - 1], L, pout);
          break;
        }
        y = dense(x, batch, prod(xs), prod(ys), L, pin, pout);
        break;
      }
      case OpKind.Relu: {
        // loops: TypedArray.map with a function is ~20x slower
        const z = pin.zeroPoint;
        y = new Int32Array(x.length);
        for (let i = 0; i < x.length; i++) y[i] = x[i] > z ? x[i] : z;
        break;
      }
      case OpKind.Relu6: {
        const six = clamp(roundHalfAway(6 / pin.scale) + pin.zeroPoint, ...activationRange(pin.bits));
        const z = pin.zeroPoint;
        y = new Int32Array(x.length);
        for (let i = 0; i < x.length; i++) y[i] = x[i] > six ? six : x[i] > z ? x[i] : z;
        break;
      }
      case OpKind.MaxPool:
      case OpKind.AvgPool:
        y = pool(n, x, batch, xs, ys, pin);
        break;
      case OpKind.GlobalAvgPool: {
        const [H, W, C] = xs;
        y = new Int32Array(batch * C);
        for (let b = 0; b < batch; b++) {
          for (let c = 0; c < C; c++) {
            let sum = 0;
            for (let p = 0; p < H * W; p++) sum += x[(b * H * W + p) * C + c] - pin.zeroPoint;
            y[b * C + c] = pin.zeroPoint + roundedDivide(sum, H * W);
          }
        }
        break;
      }
      case OpKind.Flatten:
      case OpKind.Reshape:
      case OpKind.Dropout:
        y = x;
        break;
      case OpKind.Pad: {
        const [H, W, C] = xs;
        const [Ho, Wo] = ys;
        const [pt, pl] = n.attrs.pads;
        const fill = clamp(roundHalfAway(n.attrs.value / pin.scale) + pin.zeroPoint, ...activationRange(pin.bits));
        y = new Int32Array(batch * Ho * Wo * C).fill(fill);
        for (let b = 0; b < batch; b++) for (let h = 0; h < H; h++) y.set(x.subarray((b * H + h) * W * C, (b * H + h + 1) * W * C), ((b * Ho + h + pt) * Wo + pl) * C);
        break;
      }
      case OpKind.Add: {
        const [qmin, qmax] = activationRange(pout.bits);
        const terms = n.inputs.map((v) => ({ q: values.get(v)!, r: rescaler(params.get(v)!, pout) }));
        y = new Int32Array(x.length);
        for (let i = 0; i < y.length; i++) {
          let acc = 0;
          for (const t of terms) acc += t.r(t.q[i]);
          y[i] = clamp(pout.zeroPoint + roundedDivide(acc, 2 ** RESCALE_BITS), qmin, qmax);
        }
        break;
      }
      case OpKind.Concat: {
        if (n.attrs.axis !== ys.length - 1) throw new IrError('integer-only concat is defined on the channel axis only', n.id);
        const [qmin, qmax] = activationRange(pout.bits);
        const C = ys[ys.length - 1];
        const positions = batch * (prod(ys) / C);
        y = new Int32Array(positions * C);
        let off = 0;
        for (const v of n.inputs) {
          const q = values.get(v)!;
          const r = rescaler(params.get(v)!, pout);
          const s = shapes.get(v)!;
          const ci = s[s.length - 1];
          for (let p = 0; p < positions; p++) for (let c = 0; c < ci; c++) y[p * C + off + c] = clamp(pout.zeroPoint + roundedDivide(r(q[p * ci + c]), 2 ** RESCALE_BITS), qmin, qmax);
          off += ci;
        }
        break;
      }
      case OpKind.Softmax: {
        const C = ys[ys.length - 1];
        const out = new Float32Array(x.length);
        for (let r = 0; r < x.length / C; r++) {
          let m = -Infinity;
          for (let c = 0; c < C; c++) m = Math.max(m, x[r * C + c]);
          let s = 0;
          const e = new Float64Array(C);
          for (let c = 0; c < C; c++) s += e[c] = Math.exp(pin.scale * (x[r * C + c] - m));
          for (let c = 0; c < C; c++) out[r * C + c] = e[c] / s;
        }
        reals.set(n.id, out);
        timed?.(n, performance.now() - t0);
        continue;
      }
      default:
        throw new IrError(`integer-only inference: ${n.op} has no integer-only definition`, n.id);
    }
    values.set(n.id, y);
    timed?.(n, performance.now() - t0);
  }
  const codes = new Map<string, Int32Array>();
  for (const k of opts.keep ?? []) {
    const v = values.get(k);
    if (v) codes.set(k, v);
  }
  const outputs = graph.outputs.map((o) => {
    const r = reals.get(o);
    if (r) return r;
    const p = params.get(o)!;
    const q = values.get(o)!;
    const out = new Float32Array(q.length); // a loop: TypedArray.from with a map function is ~20x slower
    for (let i = 0; i < q.length; i++) out[i] = p.scale * (q[i] - p.zeroPoint);
    return out;
  });
  return { outputs, codes };
}
