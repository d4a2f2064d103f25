// Tandem's wasm conv-gradient kernels against the tfjs cpu backend's, at VGG/MobileNet-like sizes.
// The cpu kernels are slow (filter gradient ~0.007 GFLOP/s), so each cpu case runs once on batch 1;
// GFLOP/s make the two comparable. wasm numbers are medians of `repeats` runs after one warm-up.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { CONV_GRADIENT_KERNELS, convMacs, originalWasmKernel, registerTrainingKernels, type ConvCase, type KernelDescriptor } from '../compiler/train/kernels/index.js';
import { Rng } from '../compiler/util/rng.js';

export interface KernelBenchRow {
  kernel: string;
  shape: string;
  gflopsWasm: number;
  gflopsCpu: number;
  /** gflopsWasm / gflopsCpu */
  ratio: number;
  /** wasm's own kernel where Tandem's replaced one (Conv2DBackpropInput). */
  gflopsWasmOriginal?: number;
}

const CPU_BATCH = 1;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function randomTensor(rng: Rng, shape: readonly number[]): tf.Tensor {
  const a = new Float32Array(shape.reduce((p, q) => p * q, 1));
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return tf.tensor(a, [...shape]);
}

function outShape(c: ConvCase, depthwise: boolean): number[] {
  const info = tf.backend_util.computeConv2DInfo([...c.x] as [number, number, number, number], [...c.filter] as [number, number, number, number], c.strides, 1, c.pad, undefined, depthwise);
  return info.outShape;
}

/** Inputs and attrs of the gradient kernel `d` for the forward conv `c`. */
function kernelCall(d: KernelDescriptor, c: ConvCase, rng: Rng): { inputs: Record<string, tf.Tensor>; attrs: NamedAttrMap } {
  const dy = randomTensor(rng, outShape(c, d.depthwise));
  const base = { strides: c.strides, pad: c.pad, dilations: 1, ...(d.depthwise ? {} : { dataFormat: 'NHWC' }) };
  if (d.gradOf === 'filter') return { inputs: { x: randomTensor(rng, c.x), dy }, attrs: { ...base, filterShape: [...c.filter] } };
  return { inputs: { dy, filter: randomTensor(rng, c.filter) }, attrs: { ...base, inputShape: [...c.x] } };
}

/** Milliseconds of each run; kernels on wasm and cpu finish synchronously inside runKernel. */
function timeRuns(runs: number, run: () => TensorInfo, dispose: (t: TensorInfo) => void): number[] {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = run();
    ms.push(performance.now() - t0);
    dispose(out);
  }
  return ms;
}

async function measure(backend: 'wasm' | 'cpu', d: KernelDescriptor, c: ConvCase, repeats: number, original = false): Promise<number> {
  await tf.setBackend(backend);
  const { inputs, attrs } = kernelCall(d, c, new Rng(7));
  let ms: number[];
  if (original) {
    const orig = originalWasmKernel(d.kernel);
    if (!orig) throw new Error(`no original wasm ${d.kernel}`);
    const be: KernelBackend = tf.backend();
    orig.setupFunc?.(be); // it was replaced before the backend ran setup functions
    const run = () => orig.kernelFunc({ inputs, backend: be, attrs }) as TensorInfo;
    run();
    ms = timeRuns(repeats, run, (t) => be.disposeData(t.dataId));
  } else {
    const run = () => tf.engine().runKernel(d.kernel, inputs, attrs) as tf.Tensor;
    if (backend === 'wasm') run().dispose();
    ms = timeRuns(backend === 'wasm' ? repeats : 1, run, (t) => (t as tf.Tensor).dispose());
  }
  tf.dispose(Object.values(inputs));
  return (2 * convMacs(c)) / (median(ms) * 1e6);
}

const describeCase = (c: ConvCase): string => `x[${c.x}] f[${c.filter}] s${c.strides} ${c.pad}`;

export async function benchKernels(opts: { repeats: number }): Promise<KernelBenchRow[]> {
  registerTrainingKernels();
  const before = tf.getBackend();
  const rows: KernelBenchRow[] = [];
  for (const d of CONV_GRADIENT_KERNELS) {
    for (const c of d.cases) {
      const gflopsWasm = await measure('wasm', d, c, opts.repeats);
      const small: ConvCase = { ...c, x: [CPU_BATCH, c.x[1], c.x[2], c.x[3]] };
      const gflopsCpu = await measure('cpu', d, small, 1);
      const row: KernelBenchRow = { kernel: d.kernel, shape: describeCase(c), gflopsWasm, gflopsCpu, ratio: gflopsWasm / gflopsCpu };
      if (originalWasmKernel(d.kernel)) row.gflopsWasmOriginal = await measure('wasm', d, c, Math.min(3, opts.repeats), true);
      rows.push(row);
    }
  }
  if (before) await tf.setBackend(before);
  return rows;
}
