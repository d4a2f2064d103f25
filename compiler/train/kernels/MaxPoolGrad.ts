// MaxPoolGrad for wasm, replacing tfjs's own (~60 ms for [64,28,28,32] 2x2 pooling): one pass over
// the windows, channels innermost, sending each dy to the first maximum of its window in row-major
// order (strictly greater wins, as the cpu backend does: this matters for ties, common after relu).

import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, composed, runOriginal } from './exec.js';
import type { PadAttr } from './geometry.js';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: PadAttr;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type Args = { inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo }; backend: KernelBackend; attrs: MaxPoolGradAttrs };

export function maxPoolGrad(args: Args): TensorInfo {
  const { inputs: { dy, input }, backend, attrs } = args;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return runOriginal(MaxPoolGrad, args as never);
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad as 'same', attrs.dimRoundingMode);
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  return composed(backend, (s) => {
    const dx = s.alloc(input.shape);
    const x = s.heap(input);
    const g = s.heap(dy);
    const out = s.heap(dx);
    out.fill(0);
    const tiled = sh === fh && sw === fw && dh === 1 && dw === 1 && top === 0 && left === 0 && oh * fh <= h && ow * fw <= w;
    if (tiled) {
      // Windows tile the input (2x2 stride 2 pooling): one dy per input pixel at most, and a
      // per-channel scan of each window keeps the running maximum in registers (~30% faster).
      for (let b = 0; b < nb; b++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const q = ((b * oh + oy) * ow + ox) * c;
            const p0 = ((b * h + oy * fh) * w + ox * fw) * c;
            for (let k = 0; k < c; k++) {
              let bv = -Infinity;
              let bi = -1;
              for (let fy = 0; fy < fh; fy++) {
                for (let fx = 0, p = p0 + fy * w * c + k; fx < fw; fx++, p += c) {
                  if (x[p] > bv) {
                    bv = x[p];
                    bi = p;
                  }
                }
              }
              if (bi >= 0) out[bi] = g[q + k];
            }
          }
        }
      }
      return dx;
    }
    const best = new Float32Array(c);
    const where = new Int32Array(c);
    for (let b = 0; b < nb; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          best.fill(-Infinity);
          where.fill(-1);
          for (let fy = 0; fy < fh; fy += dh) {
            const iy = oy * sh - top + fy;
            if (iy < 0 || iy >= h) continue;
            for (let fx = 0; fx < fw; fx += dw) {
              const ix = ox * sw - left + fx;
              if (ix < 0 || ix >= w) continue;
              const p = ((b * h + iy) * w + ix) * c;
              for (let k = 0; k < c; k++) {
                if (x[p + k] > best[k]) {
                  best[k] = x[p + k];
                  where[k] = p + k;
                }
              }
            }
          }
          const q = ((b * oh + oy) * ow + ox) * c;
          for (let k = 0; k < c; k++) if (where[k] >= 0) out[where[k]] += g[q + k];
        }
      }
    }
    return dx;
  });
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: BACKEND,
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
