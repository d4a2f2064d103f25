// The input vectors of a crossbar layer: input codes q unrolled (im2col) into one row per output
// position, K = kh·kw·cin columns in the kernel's [kh, kw, cin] order, each entry u = q − qmin ≥ 0
// (what the DACs apply). A padded position holds the code of real 0 (u = z − qmin), so that the
// digital zero-point correction (qmin − z)·Σ_k w[k] is the same for every position.
import { type Node, OpKind, type Shape } from '../compiler/ir/types.js';
import { im2col } from '../compiler/passes/quantize/im2col.js';

/**
 * Rows [batch0, batch1) images × positions, K columns; u ≤ 2^bits − 1 fits float32 exactly, and int16
 * (`kind` 'i16', the simulator's kernels' operand) for up to 15 bits.
 */
export function unrollInputs(node: Node, x: Int32Array, batch0: number, batch1: number, xs: Shape, ys: Shape, qmin: number, zeroPoint: number, kind?: 'f32'): Float32Array;
export function unrollInputs(node: Node, x: Int32Array, batch0: number, batch1: number, xs: Shape, ys: Shape, qmin: number, zeroPoint: number, kind: 'i16'): Int16Array;
export function unrollInputs(node: Node, x: Int32Array, batch0: number, batch1: number, xs: Shape, ys: Shape, qmin: number, zeroPoint: number, kind: 'f32' | 'i16' = 'f32'): Float32Array | Int16Array {
  const make = (n: number) => (kind === 'i16' ? new Int16Array(n) : new Float32Array(n));
  if (node.op === OpKind.Dense) {
    const n = xs.reduce((a, b) => a * b, 1);
    const u = make((batch1 - batch0) * n);
    for (let i = 0; i < u.length; i++) u[i] = x[batch0 * n + i] - qmin;
    return u;
  }
  if (node.op !== OpKind.Conv2d && node.op !== OpKind.DepthwiseConv2d) throw new Error(`${node.op} has no crossbar input`);
  const K = node.attrs.kernel[0] * node.attrs.kernel[1] * xs[2];
  const u = make((batch1 - batch0) * ys[0] * ys[1] * K);
  im2col(node, x, batch0, batch1, xs, ys, qmin, zeroPoint - qmin, u);
  return u;
}
