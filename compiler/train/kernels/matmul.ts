// wasm's matrix products run XNNPACK only without transposes; with transposeA or transposeB (which
// every dense layer's gradient uses: dW = x^T dy, dx = dy W^T) they fall to a naive loop, 10-20x
// slower ([64,1152]^T x [64,128]: 23 ms vs 1.5 ms). Transposing the operand first is cheap.

import type { TensorInfo } from '@tensorflow/tfjs';
import type { KernelScope } from './exec.js';

/** a and b with their transposes applied, ready for an untransposed product. */
export function untransposed(s: KernelScope, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): [TensorInfo, TensorInfo] {
  return [transposeA ? swapLastTwo(s, a) : a, transposeB ? swapLastTwo(s, b) : b];
}

function swapLastTwo(s: KernelScope, t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  return s.transpose(t, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}
