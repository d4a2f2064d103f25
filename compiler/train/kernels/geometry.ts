// Convolution geometry shared by the gradient kernels: tfjs attrs -> explicit numbers, and the
// crop/pad that makes a gradient expressible as a forward convolution.

import { backend_util } from '@tensorflow/tfjs';

export type Pair = readonly [number, number];

/** What tfjs passes as `pad` to conv kernels. */
export type PadAttr = 'valid' | 'same' | number | backend_util.ExplicitPadding;

export interface ConvGeometry {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly kH: number;
  readonly kW: number;
  readonly strides: Pair;
  readonly dilations: Pair;
  readonly padTop: number;
  readonly padLeft: number;
  readonly channelsLast: boolean;
}

export function pair(v: number | readonly number[] | undefined, dflt: number): Pair {
  if (v === undefined || v === null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0], v[1] ?? v[0]];
}

/**
 * Geometry of the forward convolution whose gradient is wanted, exactly as tfjs computes it
 * (so 'same' splits its padding the way the cpu backend does).
 */
export function convGeometry(
  inShape: readonly number[],
  filterShape: readonly number[],
  strides: number | readonly number[],
  dilations: number | readonly number[] | undefined,
  pad: PadAttr,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
): ConvGeometry {
  const fmt = backend_util.convertConv2DDataFormat(dataFormat);
  const info = backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    pair(strides as number[], 1) as [number, number],
    pair(dilations as number[] | undefined, 1) as [number, number],
    pad,
    dimRoundingMode,
    depthwise,
    fmt,
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    channelsLast: info.dataFormat === 'channelsLast',
  };
}

/**
 * Along one spatial axis of a forward conv (input n, leading pad p, k taps at dilation d, o outputs at
 * stride s): how much of the input is ever read and how much zero padding follows it, so that the
 * padded input is exactly (k-1)d + (o-1)s + 1 long. Returns keep = 0 when only padding is read.
 */
export function readWindow(n: number, p: number, k: number, d: number, o: number, s: number): { keep: number; before: number; after: number } {
  const need = (k - 1) * d + (o - 1) * s + 1;
  const keep = Math.max(0, Math.min(n, need - p));
  return { keep, before: p, after: Math.max(0, need - p - keep) };
}
