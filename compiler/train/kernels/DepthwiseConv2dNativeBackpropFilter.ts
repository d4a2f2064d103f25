// DepthwiseConv2dNativeBackpropFilter for wasm (tfjs 4.22 registers none).
//
// dW[i,j,c,m] = sum_{b,oy,ox} x[b, oy*s + i*d - pt, ox*s + j*d - pl, c] * dy[b,oy,ox,c*M+m]
// reduces over batch and space separately per channel: a grouped convolution, which tfjs does not
// expose. Phrased as XNNPACK depthwise convolutions (dy as a Ho x Wo "filter", batch tiled into space
// or into channels) it ran at ~0.2 GFLOP/s, because XNNPACK's large-kernel depthwise path is slow;
// this plain loop over the wasm heap, channels innermost so both reads are contiguous, runs at
// ~0.5 GFLOP/s (the tfjs cpu backend: ~0.01). Depthwise layers are a small share of a step's FLOPs.

import { DepthwiseConv2dNativeBackpropFilter } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, composed } from './exec.js';
import { convGeometry, type PadAttr } from './geometry.js';

export interface DepthwiseConv2dNativeBackpropFilterAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

type Args = { inputs: { x: TensorInfo; dy: TensorInfo }; backend: KernelBackend; attrs: DepthwiseConv2dNativeBackpropFilterAttrs };

export function depthwiseConv2dNativeBackpropFilter({ inputs: { x, dy }, backend, attrs }: Args): TensorInfo {
  const { filterShape } = attrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('DepthwiseConv2dNativeBackpropFilter: float32 only');
  const g = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  const [kh, kw, c, m] = filterShape;
  const cm = c * m;
  const { batch, inH, inW, outH, outW, padTop, padLeft } = g;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  return composed(backend, (s) => {
    const out = s.alloc(filterShape);
    const xv = s.heap(x);
    const dyv = s.heap(dy);
    const acc = new Float64Array(kh * kw * cm); // float64: sums of up to B*Ho*Wo products
    for (let b = 0; b < batch; b++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          const d0 = ((b * outH + oy) * outW + ox) * cm;
          for (let i = 0; i < kh; i++) {
            const iy = oy * sh + i * dh - padTop;
            if (iy < 0 || iy >= inH) continue;
            for (let j = 0; j < kw; j++) {
              const ix = ox * sw + j * dw - padLeft;
              if (ix < 0 || ix >= inW) continue;
              const x0 = ((b * inH + iy) * inW + ix) * c;
              const a0 = (i * kw + j) * cm;
              if (m === 1) {
                for (let k = 0; k < c; k++) acc[a0 + k] += xv[x0 + k] * dyv[d0 + k];
              } else {
                for (let k = 0; k < c; k++) {
                  const xk = xv[x0 + k];
                  for (let q = 0, o = k * m; q < m; q++, o++) acc[a0 + o] += xk * dyv[d0 + o];
                }
              }
            }
          }
        }
      }
    }
    s.heap(out).set(acc);
    return out;
  });
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: BACKEND,
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
