// DepthwiseConv2dNativeBackpropFilter for wasm (tfjs 4.22 registers none).
//
// dW[i,j,c,m] = sum_{b,oy,ox} x[b, oy*s + i*d - pt, ox*s + j*d - pl, c] * dy[b,oy,ox,c*M+m]
// reduces over batch and space separately per channel: a grouped convolution, which tfjs does not
// expose, and as XNNPACK depthwise convolutions with dy as a huge kernel it ran at ~0.2 GFLOP/s.
// Two ways that beat that:
// - 'taps': put dy on the padded input's pixel grid (zeros between strided outputs). Then for tap
//   (i,j) the x pixel under each dy pixel sits a fixed flat distance (i*d*Wp + j*d) away, so the tap's
//   gradient is a contiguous slice of x times the dy grid (one XNNPACK multiply), summed over pixels
//   (our avg-pool Sum): vectorised, kh*kw passes over the grid.
// - 'loop': a plain JS loop over the wasm heap, channels innermost (~0.3 GFLOP/s).
// Measured at [32,28,28,32] 3x3: stride 1 taps 19 ms vs loop 59 ms; stride 2 (the grid is 4x the
// outputs) taps 19 vs loop 14; multiplier 2 (a broadcast multiply) taps 29 vs loop 15. So: taps for
// stride 1 without multiplier, the loop otherwise.

import { DepthwiseConv2dNativeBackpropFilter } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, composed, type KernelScope } from './exec.js';
import { convGeometry, pair, readWindow, type ConvGeometry, type PadAttr } from './geometry.js';

export interface DepthwiseConv2dNativeBackpropFilterAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

type Args = { inputs: { x: TensorInfo; dy: TensorInfo }; backend: KernelBackend; attrs: DepthwiseConv2dNativeBackpropFilterAttrs };

export type FilterStrategy = 'taps' | 'loop';

export function depthwiseConv2dNativeBackpropFilterWith(strategy: FilterStrategy, { inputs: { x, dy }, backend, attrs }: Args): TensorInfo {
  const { filterShape } = attrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('DepthwiseConv2dNativeBackpropFilter: float32 only');
  const g = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  return composed(backend, (s) => (strategy === 'taps' ? byTaps(s, g, x, dy, filterShape) : byLoop(s, g, x, dy, filterShape)));
}

export function depthwiseConv2dNativeBackpropFilter(args: Args): TensorInfo {
  const [, , , m] = args.attrs.filterShape;
  const [sh, sw] = pair(args.attrs.strides, 1);
  return depthwiseConv2dNativeBackpropFilterWith(sh === 1 && sw === 1 && m === 1 ? 'taps' : 'loop', args);
}

function byTaps(s: KernelScope, g: ConvGeometry, x: TensorInfo, dy: TensorInfo, filterShape: readonly number[]): TensorInfo {
  const [kh, kw, c, m] = filterShape;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const rows = readWindow(g.inH, g.padTop, kh, dh, g.outH, sh);
  const cols = readWindow(g.inW, g.padLeft, kw, dw, g.outW, sw);
  if (rows.keep === 0 || cols.keep === 0) return s.run('Fill', {}, { shape: [...filterShape], value: 0, dtype: 'float32' });
  const hp = rows.before + rows.keep + rows.after;
  const wp = cols.before + cols.keep + cols.after;
  const b = g.batch;
  const n = b * hp * wp; // grid pixels
  const span = (kh - 1) * dh * wp + (kw - 1) * dw; // the farthest tap, in pixels
  // x on the padded grid, followed by `span` zero pixels so that every tap's slice is in range.
  const xc = s.slice(x, [0, 0, 0, 0], [b, rows.keep, cols.keep, c]);
  const xg = s.pad(s.reshape(s.pad(xc, [[0, 0], [rows.before, rows.after], [cols.before, cols.after], [0, 0]]), [n, c]), [[0, span], [0, 0]]);
  // dy at every (sh, sw)-th grid pixel, zeros elsewhere: [n, C, M].
  const ho = g.outH;
  const wo = g.outW;
  const z = s.reshape(s.pad(s.reshape(dy, [b, ho, 1, wo, 1, c * m]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]), [b, ho * sh, wo * sw, c * m]);
  const zc = s.slice(z, [0, 0, 0, 0], [b, Math.min(hp, ho * sh), Math.min(wp, wo * sw), c * m]);
  const dyg = s.reshape(s.pad(zc, [[0, 0], [0, hp - zc.shape[1]], [0, wp - zc.shape[2]], [0, 0]]), [n, c, m]);
  const taps: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const xs = s.sliceFlat(xg, (i * dh * wp + j * dw) * c, [n, c, 1]);
      taps.push(s.reshape(s.run('Sum', { x: s.run('Multiply', { a: xs, b: dyg }) }, { axis: [0], keepDims: false }), [1, c, m]));
    }
  }
  return s.reshape(s.run('Concat', taps, { axis: 0 }), filterShape);
}

function byLoop(s: KernelScope, g: ConvGeometry, x: TensorInfo, dy: TensorInfo, filterShape: readonly number[]): TensorInfo {
  const [kh, kw, c, m] = filterShape;
  const cm = c * m;
  const { batch, inH, inW, outH, outW, padTop, padLeft } = g;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
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
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: BACKEND,
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
