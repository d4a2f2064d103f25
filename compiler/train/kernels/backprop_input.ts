// The input gradient of a convolution as forward convolutions of dy (shared by the regular and the
// depthwise kernels).
//
// dx[b,y,x,:] = sum over taps (i,j) and outputs (oy,ox) with oy*s + i*d - pt = y (same for x) of
// dy[b,oy,ox,:] * W[i,j]: a stride-1 convolution of dy with the spatially flipped filter at
// dilation d. Stride s > 1 is handled one of two ways:
// - 'phases' (d = 1): output rows with the same (y + pt) mod s see only every s-th filter tap, so dx
//   splits into s*s stride-1 convolutions of dy with sub-filters, interleaved afterwards. No wasted
//   multiplications.
// - 'zeros': insert s-1 zeros between dy's pixels and convolve with the whole flipped filter: s*s
//   times the work, but it handles dilation and stride together.

import type { TensorInfo } from '@tensorflow/tfjs';
import type { KernelScope } from './exec.js';
import type { ConvGeometry, Pair } from './geometry.js';

export type StrideStrategy = 'phases' | 'zeros';

/**
 * dx [B, inH, inW, outC] for NHWC `dy`, where `wF` is the flipped filter in the forward layout of
 * `op`: [kh, kw, Co, Ci] for Conv2D, [kh, kw, C, 1] for DepthwiseConv2dNative.
 */
export function backpropInput(s: KernelScope, g: ConvGeometry, dy: TensorInfo, wF: TensorInfo, depthwise: boolean, strategy: StrideStrategy): TensorInfo {
  const strided = g.strides[0] > 1 || g.strides[1] > 1;
  const undilated = g.dilations[0] === 1 && g.dilations[1] === 1;
  const conv = (x: TensorInfo, w: TensorInfo, dil: Pair, top: number, left: number, outH: number, outW: number) =>
    convWithin(s, depthwise, x, w, dil, top, left, outH, outW);
  if (strided && undilated && strategy === 'phases') return byPhases(s, g, dy, wF, depthwise, conv);
  return byZeros(s, g, dy, wF, conv);
}

type Conv = (x: TensorInfo, w: TensorInfo, dil: Pair, top: number, left: number, outH: number, outW: number) => TensorInfo;

/** Pads (or, where negative, crops) `x` [B,H,W,C] so that a stride-1 conv yields exactly outH x outW. */
function convWithin(s: KernelScope, depthwise: boolean, x: TensorInfo, w: TensorInfo, dil: Pair, top: number, left: number, outH: number, outW: number): TensorInfo {
  const [b, h, wd, c] = x.shape;
  const bottom = outH + (w.shape[0] - 1) * dil[0] - top - h;
  const right = outW + (w.shape[1] - 1) * dil[1] - left - wd;
  const cropT = Math.max(0, -top);
  const cropL = Math.max(0, -left);
  const keepH = h - cropT - Math.max(0, -bottom);
  const keepW = wd - cropL - Math.max(0, -right);
  const xc = s.slice(x, [0, cropT, cropL, 0], [b, keepH, keepW, c]);
  const pads = [Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)] as const;
  return depthwise ? s.depthwiseConv2d(xc, w, [1, 1], dil, pads) : s.conv2d(xc, w, [1, 1], dil, pads);
}

function byZeros(s: KernelScope, g: ConvGeometry, dy: TensorInfo, wF: TensorInfo, conv: Conv): TensorInfo {
  const [b, ho, wo, co] = dy.shape;
  const [sh, sw] = g.strides;
  // [B, Ho*sh, Wo*sw, Co] with dy at every (sh, sw)-th pixel; convWithin trims the s-1 trailing zeros.
  const z = sh === 1 && sw === 1 ? dy : s.reshape(s.pad(s.reshape(dy, [b, ho, 1, wo, 1, co]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]), [b, ho * sh, wo * sw, co]);
  const top = (g.kH - 1) * g.dilations[0] - g.padTop;
  const left = (g.kW - 1) * g.dilations[1] - g.padLeft;
  return conv(z, wF, g.dilations, top, left, g.inH, g.inW);
}

/** One axis of the phase split: which flipped taps phase `phi` uses and where its dy window starts. */
export function phaseAxis(phi: number, k: number, stride: number, pad: number): { first: number; taps: number; lead: number } {
  const r = (((phi + pad) % stride) + stride) % stride; // taps i = r (mod stride) reach these rows
  const taps = r < k ? Math.ceil((k - r) / stride) : 0;
  const c = (phi + pad - r) / stride; // dy row feeding output row phi through tap r
  // Flipped, tap i sits at k-1-i: this phase's taps start at k-1-r-(taps-1)*stride.
  return { first: k - 1 - r - (taps - 1) * stride, taps, lead: taps - 1 - c };
}

function byPhases(s: KernelScope, g: ConvGeometry, dy: TensorInfo, wF: TensorInfo, depthwise: boolean, conv: Conv): TensorInfo {
  const [b] = dy.shape;
  const [sh, sw] = g.strides;
  const [, , w2, w3] = wF.shape;
  const outC = depthwise ? w2 * w3 : w3;
  const kH = Math.ceil(g.inH / sh);
  const kW = Math.ceil(g.inW / sw);
  const parts: Array<{ ph: number; pw: number; t: TensorInfo }> = [];
  for (let ph = 0; ph < sh; ph++) {
    const ay = phaseAxis(ph, g.kH, sh, g.padTop);
    for (let pw = 0; pw < sw; pw++) {
      const ax = phaseAxis(pw, g.kW, sw, g.padLeft);
      if (ay.taps === 0 || ax.taps === 0) continue; // stride > kernel: these pixels get no gradient
      const sub = s.run('StridedSlice', { x: wF }, {
        begin: [ay.first, ax.first, 0, 0],
        end: [ay.first + (ay.taps - 1) * sh + 1, ax.first + (ax.taps - 1) * sw + 1, w2, w3],
        strides: [sh, sw, 1, 1],
        beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      });
      parts.push({ ph, pw, t: conv(dy, sub, [1, 1], ay.lead, ax.lead, kH, kW) });
    }
  }
  // Interleave in JS: wasm's Transpose of the 6-d [sh, sw, B, kH, kW, C] -> [B, kH, sh, kW, sw, C]
  // takes ~150 ms at VGG sizes, this loop a few.
  const dx = s.alloc([b, g.inH, g.inW, outC]);
  const out = s.heap(dx);
  if (parts.length < sh * sw) out.fill(0);
  for (const { ph, pw, t } of parts) {
    const src = s.heap(t);
    for (let n = 0; n < b; n++) {
      for (let ky = 0, y = ph; ky < kH && y < g.inH; ky++, y += sh) {
        let si = (n * kH + ky) * kW * outC;
        for (let kx = 0, x = pw; kx < kW && x < g.inW; kx++, x += sw, si += outC) {
          const di = ((n * g.inH + y) * g.inW + x) * outC;
          for (let c = 0; c < outC; c++) out[di + c] = src[si + c];
        }
      }
    }
  }
  return dx;
}
