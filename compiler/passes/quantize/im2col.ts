// im2col on integer codes: one row per output position of a conv, K = kh·kw·C columns in the kernel's
// [kh, kw, cin] order, each entry x − sub; positions in the padding hold `pad`. Used by the integer
// executor's GEMM conv (sub = z_x, pad 0) and the CIM simulator's inputs (sub = qmin, pad = z_x − qmin).
import type { NodeOf, OpKind, Shape } from '../../ir/types.js';

type Codes = Int16Array | Float32Array | Float64Array;

/** Runs shorter than this are copied element by element (TypedArray.set costs more than it saves). */
const SET_MIN = 16;

export function im2col<T extends Codes>(
  node: NodeOf<OpKind.Conv2d> | NodeOf<OpKind.DepthwiseConv2d>,
  x: Int32Array,
  batch0: number,
  batch1: number,
  xs: Shape,
  ys: Shape,
  sub: number,
  pad: number,
  out: T,
): void {
  const [H, W, C] = xs;
  const [Ho, Wo] = ys;
  const [kh, kw] = node.attrs.kernel;
  const [sh, sw] = node.attrs.strides;
  const [dh, dw] = node.attrs.dilations;
  const [pt, pl] = node.attrs.pads;
  const K = kh * kw * C;
  out.fill(pad, 0, (batch1 - batch0) * Ho * Wo * K);
  // x − sub once per image in out's element type, so that each kernel row's taps (contiguous in the
  // input when the dilation is 1) are one native copy instead of a loop through a polymorphic store
  const img = H * W * C;
  const src = new (out.constructor as new (n: number) => T)(img);
  for (let b = batch0; b < batch1; b++) {
    const xb = b * img;
    for (let i = 0; i < img; i++) src[i] = x[xb + i] - sub;
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        const row = (((b - batch0) * Ho + oh) * Wo + ow) * K;
        const iw0 = ow * sw - pl;
        // taps j with 0 <= iw0 + j·dw < W
        const jlo = iw0 >= 0 ? 0 : Math.ceil(-iw0 / dw);
        const jhi = Math.min(kw, Math.floor((W - 1 - iw0) / dw) + 1);
        if (jhi <= jlo) continue;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= H) continue;
          if (dw === 1 && (jhi - jlo) * C >= SET_MIN) {
            const from = (ih * W + iw0 + jlo) * C;
            out.set(src.subarray(from, from + (jhi - jlo) * C) as never, row + (i * kw + jlo) * C);
            continue;
          }
          for (let j = jlo; j < jhi; j++) {
            const xo = (ih * W + iw0 + j * dw) * C;
            const co = row + (i * kw + j) * C;
            for (let ci = 0; ci < C; ci++) out[co + ci] = src[xo + ci];
          }
        }
      }
    }
  }
}
