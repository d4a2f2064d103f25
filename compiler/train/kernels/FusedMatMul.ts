// _FusedMatMul (matMul + bias + activation, e.g. tf.layers.dense) for wasm.
// - Transposed operands are transposed first (see matmul.ts).
// - tfjs 4.22's wasm kernel adds the bias wrongly when there is more than one batch matrix (found by
//   the cpu comparison test: every matrix after the first is off), so that case runs as BatchMatMul,
//   Add and the activation's own kernel.

import { _FusedMatMul, util } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, composed, runOriginal, type KernelScope } from './exec.js';
import { untransposed } from './matmul.js';

interface Attrs {
  transposeA: boolean;
  transposeB: boolean;
  activation: 'linear' | 'relu' | 'relu6' | 'prelu' | 'leakyrelu' | 'sigmoid' | 'elu';
  leakyreluAlpha?: number;
}
type Inputs = { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
type Args = { inputs: Inputs; backend: KernelBackend; attrs: Attrs };

export function fusedMatMul({ inputs, backend, attrs }: Args): TensorInfo {
  const { a, b, bias, preluActivationWeights: prelu } = inputs;
  const batches = Math.max(util.sizeFromShape(a.shape.slice(0, -2)), util.sizeFromShape(b.shape.slice(0, -2)));
  const unfused = batches > 1 && (bias !== undefined || prelu !== undefined);
  if (!unfused && !(attrs.transposeA || attrs.transposeB)) return runOriginal(_FusedMatMul, { inputs: { ...inputs }, backend, attrs: { ...attrs } });
  return composed(backend, (s) => {
    const [a2, b2] = untransposed(s, a, b, attrs.transposeA, attrs.transposeB);
    const plain = { transposeA: false, transposeB: false };
    if (!unfused) return s.adopt(runOriginal(_FusedMatMul, { inputs: { ...inputs, a: a2, b: b2 }, backend, attrs: { ...attrs, ...plain } }));
    let y = s.run('BatchMatMul', { a: a2, b: b2 }, plain);
    if (bias) y = s.run('Add', { a: y, b: bias });
    return activate(s, y, attrs, prelu);
  });
}

function activate(s: KernelScope, x: TensorInfo, attrs: Attrs, prelu: TensorInfo | undefined): TensorInfo {
  switch (attrs.activation) {
    case 'linear':
      return x;
    case 'relu':
      return s.run('Relu', { x });
    case 'relu6':
      return s.run('Relu6', { x });
    case 'sigmoid':
      return s.run('Sigmoid', { x });
    case 'elu':
      return s.run('Elu', { x });
    case 'leakyrelu':
      return s.run('LeakyRelu', { x }, { alpha: attrs.leakyreluAlpha ?? 0.2 });
    case 'prelu':
      if (!prelu) throw new Error('_FusedMatMul: prelu without weights');
      return s.run('Prelu', { x, alpha: prelu });
  }
}

export const fusedMatMulConfig: KernelConfig = {
  kernelName: _FusedMatMul,
  backendName: BACKEND,
  kernelFunc: fusedMatMul as unknown as KernelFunc,
};
