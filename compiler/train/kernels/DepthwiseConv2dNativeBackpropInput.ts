// DepthwiseConv2dNativeBackpropInput for wasm (tfjs 4.22 registers none): depthwise forward
// convolutions of dy (XNNPACK) with the spatially flipped filter, see backprop_input.ts. With a
// channel multiplier M, the filter [kh,kw,C,M] is run as [kh,kw,C*M,1] over dy's C*M channels and the
// M results of each input channel are summed. Stride goes by zero insertion: XNNPACK has no fast
// depthwise micro-kernels for the 2x1/1x2 sub-filters of a phase split (measured: stride 2 at VGG
// size, 13 ms by phases vs 3.3 ms by zeros).

import { DepthwiseConv2dNativeBackpropInput } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { backpropInput, type StrideStrategy } from './backprop_input.js';
import { BACKEND, composed } from './exec.js';
import { convGeometry, type PadAttr } from './geometry.js';

export interface DepthwiseConv2dNativeBackpropInputAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

type Args = { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: KernelBackend; attrs: DepthwiseConv2dNativeBackpropInputAttrs };

export function depthwiseConv2dNativeBackpropInputWith(strategy: StrideStrategy, { inputs: { dy, filter }, backend, attrs }: Args): TensorInfo {
  const g = convGeometry(attrs.inputShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  const [kh, kw, c, m] = filter.shape;
  return composed(backend, (s) => {
    const wF = s.reverse(s.reshape(filter, [kh, kw, c * m, 1]), [0, 1]);
    const dx = backpropInput(s, g, dy, wF, true, strategy);
    if (m === 1) return dx;
    const [b, h, w] = dx.shape;
    return s.run('Sum', { x: s.reshape(dx, [b, h, w, c, m]) }, { axis: [4], keepDims: false });
  });
}

export function depthwiseConv2dNativeBackpropInput(args: Args): TensorInfo {
  return depthwiseConv2dNativeBackpropInputWith('zeros', args);
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: BACKEND,
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
