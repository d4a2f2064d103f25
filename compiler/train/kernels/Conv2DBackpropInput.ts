// Conv2DBackpropInput for wasm, replacing tfjs's own (a direct loop, ~1.3 GFLOP/s) with forward
// convolutions of dy (XNNPACK, ~15 GFLOP/s): see backprop_input.ts. The filter is flipped in space
// and its in/out channels swapped. Attrs are tfjs's plus an optional `dilations` (tfjs's Conv2D
// gradient refuses dilation > 1, but a caller may run this kernel directly).

import { Conv2DBackpropInput } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { backpropInput, type StrideStrategy } from './backprop_input.js';
import { BACKEND, composed } from './exec.js';
import { convGeometry, type PadAttr } from './geometry.js';

export interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
  dilations?: number | [number, number];
}

type Args = { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: KernelBackend; attrs: Conv2DBackpropInputAttrs };

/** The kernel with a chosen way of handling stride > 1 (the benchmark compares them). */
export function conv2DBackpropInputWith(strategy: StrideStrategy, { inputs: { dy, filter }, backend, attrs }: Args): TensorInfo {
  const g = convGeometry(attrs.inputShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, attrs.dataFormat ?? 'NHWC');
  return composed(backend, (s) => {
    const dyN = g.channelsLast ? dy : s.transpose(dy, [0, 2, 3, 1]);
    const wF = s.transpose(s.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [kh, kw, Co, Ci], flipped
    const dx = backpropInput(s, g, dyN, wF, false, strategy);
    return g.channelsLast ? dx : s.transpose(dx, [0, 3, 1, 2]);
  });
}

export function conv2DBackpropInput(args: Args): TensorInfo {
  return conv2DBackpropInputWith('phases', args);
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: BACKEND,
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
