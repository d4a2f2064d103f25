// The input vectors of a crossbar layer: input codes q unrolled (im2col) into one row per output
// position, K = kh·kw·cin columns in the kernel's [kh, kw, cin] order, each entry u = q − qmin ≥ 0
// (what the DACs apply). A padded position holds the code of real 0 (u = z − qmin), so that the
// digital zero-point correction (qmin − z)·Σ_k w[k] is the same for every position.
import { type Node, OpKind, type Shape } from '../compiler/ir/types.js';

/** Rows [batch0, batch1) images × positions, K columns; u ≤ 2^bits − 1 fits float32 exactly. */
export function unrollInputs(node: Node, x: Int32Array, batch0: number, batch1: number, xs: Shape, ys: Shape, qmin: number, zeroPoint: number): Float32Array {
  if (node.op === OpKind.Dense) {
    const n = xs.reduce((a, b) => a * b, 1);
    const u = new Float32Array((batch1 - batch0) * n);
    for (let i = 0; i < u.length; i++) u[i] = x[batch0 * n + i] - qmin;
    return u;
  }
  if (node.op !== OpKind.Conv2d && node.op !== OpKind.DepthwiseConv2d) throw new Error(`${node.op} has no crossbar input`);
  const [H, W, C] = xs;
  const [Ho, Wo] = ys;
  const [kh, kw] = node.attrs.kernel;
  const [sh, sw] = node.attrs.strides;
  const [dh, dw] = node.attrs.dilations;
  const [pt, pl] = node.attrs.pads;
  const K = kh * kw * C;
  const pad = zeroPoint - qmin;
  const u = new Float32Array((batch1 - batch0) * Ho * Wo * K).fill(pad);
  for (let b = batch0; b < batch1; b++) {
    const xb = b * H * W * C;
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        const row = (((b - batch0) * Ho + oh) * Wo + ow) * K;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw - pl + j * dw;
            if (iw < 0 || iw >= W) continue;
            const xo = xb + (ih * W + iw) * C;
            const co = row + (i * kw + j) * C;
            for (let ci = 0; ci < C; ci++) u[co + ci] = x[xo + ci] - qmin;
          }
        }
      }
    }
  }
  return u;
}
