// BatchMatMul for wasm: transposed operands are transposed first (see matmul.ts).

import { BatchMatMul } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, composed, runOriginal } from './exec.js';
import { untransposed } from './matmul.js';

type Args = { inputs: { a: TensorInfo; b: TensorInfo }; backend: KernelBackend; attrs: { transposeA: boolean; transposeB: boolean } };

export function batchMatMul({ inputs: { a, b }, backend, attrs }: Args): TensorInfo {
  if (!(attrs.transposeA || attrs.transposeB)) return runOriginal(BatchMatMul, { inputs: { a, b }, backend, attrs });
  return composed(backend, (s) => {
    const [a2, b2] = untransposed(s, a, b, attrs.transposeA, attrs.transposeB);
    return s.adopt(runOriginal(BatchMatMul, { inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } }));
  });
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: BACKEND,
  kernelFunc: batchMatMul as unknown as KernelFunc,
};
