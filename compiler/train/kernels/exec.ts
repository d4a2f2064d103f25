// Composing wasm kernels from other wasm kernels.
//
// A kernel function may not go through the engine (that would put its pieces on the gradient tape and
// in profiles), so it calls the backend's registered kernel functions directly, the way tfjs's own
// backends compose kernels. Every intermediate is a backend data id that only we know about: a
// KernelScope records them and frees all but the one handed back.

import * as tf from '@tensorflow/tfjs';
import type { DataType, KernelBackend, KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const BACKEND = 'wasm';

/** wasm's own configs of the kernels Tandem replaced: fallbacks for cases ours do not cover. */
const replaced = new Map<string, KernelConfig>();

export function rememberReplaced(config: KernelConfig): void {
  if (!replaced.has(config.kernelName)) replaced.set(config.kernelName, config);
}

export function originalKernel(name: string): KernelConfig | undefined {
  return replaced.get(name);
}

/** Runs wasm's own kernel `name` (a kernel function falling back on it for an uncovered case). */
export function runOriginal(name: string, args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs?: NamedAttrMap }): TensorInfo {
  const config = replaced.get(name);
  if (!config) throw new Error(`wasm has no kernel '${name}' of its own`);
  return config.kernelFunc(args) as TensorInfo;
}

export type Pads4 = readonly [top: number, bottom: number, left: number, right: number];

export class KernelScope {
  private readonly live: TensorInfo[] = [];

  constructor(readonly backend: KernelBackend) {}

  /**
   * Runs `kernel` as registered for wasm; the result is freed with the scope unless kept. `inputs`
   * is a list for the kernels that take one (Concat, AddN).
   */
  run(kernel: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: object = {}): TensorInfo {
    const config = tf.getKernel(kernel, BACKEND);
    if (config === undefined) throw new Error(`kernel '${kernel}' is not registered for '${BACKEND}'`);
    const out = config.kernelFunc({ inputs: inputs as NamedTensorInfoMap, backend: this.backend, attrs: attrs as NamedAttrMap });
    if (Array.isArray(out)) throw new Error(`kernel '${kernel}' returned several outputs`);
    this.live.push(out);
    return out;
  }

  /** Puts a result produced outside run() (e.g. by runOriginal) under the scope. */
  adopt(t: TensorInfo): TensorInfo {
    this.live.push(t);
    return t;
  }

  /** Takes `t` out of the scope: the caller (the engine, for a kernel's result) now owns it. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.live.lastIndexOf(t);
    if (i >= 0) this.live.splice(i, 1);
    return t;
  }

  dispose(): void {
    for (const t of this.live) this.backend.disposeData(t.dataId);
    this.live.length = 0;
  }

  /** A new uninitialised tensor, to be filled through heap(). */
  alloc(shape: readonly number[], dtype: DataType = 'float32'): TensorInfo {
    const out = (this.backend as BackendWasm).makeOutput([...shape], dtype);
    this.live.push(out);
    return out;
  }

  /**
   * A view of `t`'s data in the wasm heap. Take it after the last allocation: growing the heap
   * detaches earlier views.
   */
  heap(t: TensorInfo): Float32Array {
    if (t.dtype !== 'float32') throw new Error(`expected float32, got ${t.dtype}`);
    return (this.backend as BackendWasm).typedArrayFromHeap(t) as Float32Array;
  }

  /** heap() for any numeric dtype (Int32Array for int32, Uint8Array for bool). */
  heapAny(t: TensorInfo): Float32Array | Int32Array | Uint8Array {
    return (this.backend as BackendWasm).typedArrayFromHeap(t);
  }

  reshape(x: TensorInfo, shape: readonly number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape: [...shape] });
  }

  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm: [...perm] });
  }

  /** Zero padding; a no-op pad returns a reshape (shared data), not a copy. */
  pad(x: TensorInfo, paddings: ReadonlyArray<readonly [number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return this.reshape(x, x.shape);
    return this.run('PadV2', { x }, { paddings: paddings.map((p) => [...p]), constantValue: 0 });
  }

  slice(x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return this.reshape(x, x.shape);
    return this.run('Slice', { x }, { begin: [...begin], size: [...size] });
  }

  /** Elements [offset, offset + size(shape)) of x's flat data, as a new tensor of `shape` (a memcpy). */
  sliceFlat(x: TensorInfo, offset: number, shape: readonly number[]): TensorInfo {
    const out = this.alloc(shape, x.dtype);
    const dst = this.heapAny(out);
    dst.set(this.heapAny(x).subarray(offset, offset + dst.length));
    return out;
  }

  reverse(x: TensorInfo, dims: readonly number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims: [...dims] });
  }

  /** NHWC forward convolution with explicit pads; wasm (XNNPACK) accepts stride and dilation together. */
  conv2d(x: TensorInfo, filter: TensorInfo, strides: readonly [number, number], dilations: readonly [number, number], pads: Pads4): TensorInfo {
    return this.run('Conv2D', { x, filter }, convAttrs(strides, dilations, pads));
  }

  depthwiseConv2d(x: TensorInfo, filter: TensorInfo, strides: readonly [number, number], dilations: readonly [number, number], pads: Pads4): TensorInfo {
    return this.run('DepthwiseConv2dNative', { x, filter }, convAttrs(strides, dilations, pads));
  }
}

function convAttrs(strides: readonly [number, number], dilations: readonly [number, number], [t, b, l, r]: Pads4): object {
  const pad = t === 0 && b === 0 && l === 0 && r === 0 ? 'valid' : [[0, 0], [t, b], [l, r], [0, 0]];
  return { strides: [...strides], dilations: [...dilations], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
}

/** Runs `body` in a fresh scope and returns its result, freeing every other intermediate (also on throw). */
export function composed(backend: KernelBackend, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}
