// Identity for wasm: shares x's data (reference-counted) instead of copying it, as tfjs's cpu and
// webgl backends do. The engine runs Identity to clone every tensor a gradient will need
// (saveTensorsForBackwardMode), so wasm's copying version memcpys most activations of a training
// step once more (~110 calls, ~25 ms a VGG step). Tensors are immutable, so sharing is safe.

import { Identity } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BACKEND, runOriginal } from './exec.js';

type Args = { inputs: { x: TensorInfo }; backend: KernelBackend };

export function identity({ inputs: { x }, backend }: Args): TensorInfo {
  if (x.dtype === 'string') return runOriginal(Identity, { inputs: { x }, backend });
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: BACKEND,
  kernelFunc: identity as unknown as KernelFunc,
};
