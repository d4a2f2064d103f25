// Conv2DBackpropFilter for wasm (tfjs 4.22 registers none: tfjs issue 8474).
//
// dW[i,j,ci,co] = sum_{b,oy,ox} x[b, oy*s + i*d - pt, ox*s + j*d - pl, ci] * dy[b,oy,ox,co]
// is itself a forward convolution: input x as [Ci, H, W, B] (batch Ci, channels B), filter dy as
// [Ho, Wo, B, Co], the original stride becoming the dilation and the original dilation the stride.
// Its output [Ci, kh, kw, Co] is transposed to [kh, kw, Ci, Co]. The wasm forward conv (XNNPACK) runs
// this about 1800x faster than the tfjs cpu backend's loop.
//
// Attrs are tfjs's plus an optional `dilations` (tfjs's own Conv2D gradient refuses dilation > 1, but
// a caller may run this kernel directly).

import { Conv2DBackpropFilter } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, composed } from './exec.js';
import { convGeometry, readWindow, type PadAttr } from './geometry.js';

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
  dilations?: number | [number, number];
}

export function conv2DBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: KernelBackend; attrs: Conv2DBackpropFilterAttrs }): TensorInfo {
  const { inputs: { x, dy }, backend, attrs } = args;
  const { filterShape } = attrs;
  const g = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, attrs.dataFormat ?? 'NHWC');
  const [kh, kw, ci, co] = filterShape;
  return composed(backend, (s) => {
    const rows = readWindow(g.inH, g.padTop, kh, g.dilations[0], g.outH, g.strides[0]);
    const cols = readWindow(g.inW, g.padLeft, kw, g.dilations[1], g.outW, g.strides[1]);
    if (rows.keep === 0 || cols.keep === 0) return s.run('Fill', {}, { shape: [...filterShape], value: 0, dtype: 'float32' });
    // [Ci, H, W, B] and [Ho, Wo, B, Co] whichever layout came in.
    const xT = s.transpose(x, g.channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    const dyT = s.transpose(dy, g.channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    const xC = s.slice(xT, [0, 0, 0, 0], [ci, rows.keep, cols.keep, g.batch]);
    const dW = s.conv2d(xC, dyT, g.dilations, g.strides, [rows.before, rows.after, cols.before, cols.after]);
    const out = s.transpose(dW, [1, 2, 0, 3]);
    if (out.shape[0] !== kh || out.shape[1] !== kw || out.shape[3] !== co) {
      throw new Error(`Conv2DBackpropFilter: got [${out.shape}] for filter [${filterShape}]`);
    }
    return out;
  });
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: BACKEND,
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
