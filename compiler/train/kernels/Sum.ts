// Sum for wasm: over leading/middle axes (batch-norm statistics and their gradients, bias gradients)
// by reduce.ts; any other reduction by wasm's own kernel.

import { Sum } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, runOriginal } from './exec.js';
import { leadingReduction, reduceLeading } from './reduce.js';

type Args = { inputs: { x: TensorInfo }; backend: KernelBackend; attrs: { axis: number | number[]; keepDims: boolean } };

export function sum({ inputs: { x }, backend, attrs }: Args): TensorInfo {
  const axes = leadingReduction(x, attrs.axis);
  if (!axes) return runOriginal(Sum, { inputs: { x }, backend, attrs });
  return reduceLeading(backend, x, axes, attrs.keepDims, false);
}

export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: BACKEND,
  kernelFunc: sum as unknown as KernelFunc,
};
