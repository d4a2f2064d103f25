// im2col on integer codes: one row per output position of a conv, K = kh·kw·C columns in the kernel's
// [kh, kw, cin] order, each entry x − sub; positions in the padding hold `pad`. Used by the integer
// executor's GEMM conv (sub = z_x, pad 0) and the CIM simulator's inputs (sub = qmin, pad = z_x − qmin).
import type { NodeOf, OpKind, Shape } from '../../ir/types.js';

export function im2col(
  node: NodeOf<OpKind.Conv2d> | NodeOf<OpKind.DepthwiseConv2d>,
  x: Int32Array,
  batch0: number,
  batch1: number,
  xs: Shape,
  ys: Shape,
  sub: number,
  pad: number,
  out: Int16Array | Float32Array | Float64Array,
): void {
  const [H, W, C] = xs;
  const [Ho, Wo] = ys;
  const [kh, kw] = node.attrs.kernel;
  const [sh, sw] = node.attrs.strides;
  const [dh, dw] = node.attrs.dilations;
  const [pt, pl] = node.attrs.pads;
  const K = kh * kw * C;
  out.fill(pad, 0, (batch1 - batch0) * Ho * Wo * K);
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
            for (let ci = 0; ci < C; ci++) out[co + ci] = x[xo + ci] - sub;
          }
        }
      }
    }
  }
}
