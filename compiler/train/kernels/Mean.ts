// Mean for wasm: over leading/middle axes (tf.moments over [0,1,2] in batch norm) by reduce.ts; any
// other reduction by wasm's own kernel.

import { Mean } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, runOriginal } from './exec.js';
import { leadingReduction, reduceLeading } from './reduce.js';

type Args = { inputs: { x: TensorInfo }; backend: KernelBackend; attrs: { axis: number | number[]; keepDims: boolean } };

export function mean({ inputs: { x }, backend, attrs }: Args): TensorInfo {
  const axes = leadingReduction(x, attrs.axis);
  if (!axes) return runOriginal(Mean, { inputs: { x }, backend, attrs });
  return reduceLeading(backend, x, axes, attrs.keepDims, true);
}

export const meanConfig: KernelConfig = {
  kernelName: Mean,
  backendName: BACKEND,
  kernelFunc: mean as unknown as KernelFunc,
};
