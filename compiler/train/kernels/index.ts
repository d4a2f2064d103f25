// Tandem's training kernels for the tfjs wasm backend (one kernel per file, each saying why and what
// it measured): the convolution gradients tfjs 4.22 lacks there or runs slowly, composed from wasm's
// fast XNNPACK forward kernels, and the kernels a profiled VGG training step showed to dominate
// (Tile, Sum/Mean over leading axes, MaxPoolGrad, FusedBatchNorm, Identity, transposed MatMul).
// Only the 'wasm' backend is touched; cases a kernel does not cover go to wasm's own kernel.

import * as tf from '@tensorflow/tfjs';
// Loaded first so that wasm's own kernels are registered before ours replace some of them.
import '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, KernelConfig } from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput.js';
import { BACKEND, originalKernel, rememberReplaced } from './exec.js';
import { batchMatMulConfig } from './BatchMatMul.js';
import { fusedBatchNormConfig } from './FusedBatchNorm.js';
import { fusedMatMulConfig } from './FusedMatMul.js';
import { identityConfig } from './Identity.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { meanConfig } from './Mean.js';
import { sumConfig } from './Sum.js';
import { tileConfig } from './Tile.js';

export { CONV_GRADIENT_KERNELS, convMacs, type ConvCase, type KernelDescriptor } from './descriptors.js';

const KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  // Found by profiling a VGG training step (see bench/kernels.ts profileTrainingStep).
  tileConfig,
  sumConfig,
  meanConfig,
  maxPoolGradConfig,
  fusedBatchNormConfig,
  identityConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
];

/** Names of every kernel registerTrainingKernels() registers. */
export const TRAINING_KERNEL_NAMES: readonly string[] = KERNELS.map((k) => k.kernelName);

/**
 * Registers Tandem's kernels on the 'wasm' backend (replacing wasm's own where it has one) and
 * returns their names. Idempotent; works before or after tf.setBackend('wasm'). `only` restricts it
 * to some of them (benchmarks measuring one kernel's effect).
 */
export function registerTrainingKernels(only?: readonly string[]): string[] {
  const chosen = KERNELS.filter((k) => !only || only.includes(k.kernelName));
  for (const k of chosen) {
    const existing = tf.getKernel(k.kernelName, BACKEND);
    if (existing?.kernelFunc === k.kernelFunc) continue;
    if (!existing) {
      tf.registerKernel(k);
      continue;
    }
    rememberReplaced(existing);
    tf.unregisterKernel(k.kernelName, BACKEND);
    // Ours may fall back on the original, whose setup (binding its wasm function) must then run too.
    const setups = [originalKernel(k.kernelName)?.setupFunc, k.setupFunc].filter((f) => f !== undefined);
    tf.registerKernel({ ...k, setupFunc: setups.length ? (b) => setups.forEach((f) => f(b)) : undefined });
  }
  return chosen.map((k) => k.kernelName);
}

/** Which of Tandem's kernels are registered on wasm right now. */
export function registeredTrainingKernels(): string[] {
  return KERNELS.filter((k) => tf.getKernel(k.kernelName, BACKEND)?.kernelFunc === k.kernelFunc).map((k) => k.kernelName);
}

/** The wasm backend's original kernel that `registerTrainingKernels` replaced, if any. */
export function originalWasmKernel(name: string): KernelConfig | undefined {
  return originalKernel(name);
}

/** Puts wasm's own kernels back and removes ours (benchmark baselines). */
export function unregisterTrainingKernels(): void {
  for (const k of KERNELS) {
    if (tf.getKernel(k.kernelName, BACKEND)?.kernelFunc !== k.kernelFunc) continue;
    tf.unregisterKernel(k.kernelName, BACKEND);
    const orig = originalKernel(k.kernelName);
    if (!orig) continue;
    tf.registerKernel(orig);
    // An initialised backend ran setup functions only for the kernels registered at the time.
    const wasm = (tf.engine() as unknown as { registry: Record<string, KernelBackend | undefined> }).registry[BACKEND];
    if (wasm && orig.setupFunc) orig.setupFunc(wasm);
  }
}
