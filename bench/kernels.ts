// Tandem's wasm conv-gradient kernels against the tfjs cpu backend's, at VGG/MobileNet-like sizes.
// The cpu kernels are slow (filter gradient ~0.007 GFLOP/s), so each cpu case runs once on batch 1;
// GFLOP/s make the two comparable. wasm numbers are medians of `repeats` runs after one warm-up.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { CONV_GRADIENT_KERNELS, convMacs, originalWasmKernel, registeredTrainingKernels, registerTrainingKernels, unregisterTrainingKernels, type ConvCase, type KernelDescriptor } from '../compiler/train/kernels/index.js';
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

// ---------------------------------------------------------------------------------------------
// A real training step: VGG-style net built from tf ops, profiled per kernel.

export interface StepProfile {
  /** Which Tandem kernels were registered. */
  readonly kernels: readonly string[];
  readonly batch: number;
  /** Median wall time of a training step (forward, backward, gradients read), without profiling. */
  readonly stepMs: number;
  readonly imgPerSec: number;
  /** 3 x forward FLOPs (2 x MACs) x img/s. */
  readonly gflops: number;
  /** Engine-level kernel times of one profiled step, largest first. */
  readonly breakdown: ReadonlyArray<{ kernel: string; ms: number; calls: number }>;
}

const VGG_CHANNELS: ReadonlyArray<readonly [number, number]> = [[1, 32], [32, 32], [32, 64], [64, 64], [64, 128], [128, 128]];

/** Forward multiply-adds of one 28x28x1 image through the VGG net below. */
export function vggForwardMacs(): number {
  let macs = 0;
  let side = 28;
  VGG_CHANNELS.forEach(([ci, co], i) => {
    macs += side * side * 9 * ci * co;
    if (i % 2 === 1) side = Math.floor(side / 2);
  });
  return macs + side * side * 128 * 128 + 128 * 10;
}

function vggStep(batch: number, seed: number): { step: () => void; dispose: () => void } {
  const rng = new Rng(seed);
  const init = (shape: number[], fanIn: number) => tf.variable(randomTensor(rng, shape).mul(Math.sqrt(2 / fanIn)));
  const convs = VGG_CHANNELS.map(([ci, co]) => ({ w: init([3, 3, ci, co], 9 * ci), gamma: tf.variable(tf.ones([co])), beta: tf.variable(tf.zeros([co])) }));
  const flat = 3 * 3 * 128;
  const d1 = init([flat, 128], flat);
  const b1 = tf.variable(tf.zeros([128]));
  const d2 = init([128, 10], 128);
  const b2 = tf.variable(tf.zeros([10]));
  const x = randomTensor(rng, [batch, 28, 28, 1]);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, () => rng.int(10)), 'int32'), 10);
  const loss = (): tf.Scalar => {
    let h = x as tf.Tensor4D;
    convs.forEach((c, i) => {
      h = tf.conv2d(h, c.w as tf.Variable<tf.Rank.R4>, 1, 'same');
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.relu(tf.batchNorm(h, mean, variance, c.beta as tf.Variable<tf.Rank.R1>, c.gamma as tf.Variable<tf.Rank.R1>, 1e-3)) as tf.Tensor4D;
      if (i % 2 === 1) h = tf.maxPool(h, 2, 2, 'valid');
    });
    const f = tf.relu(tf.add(tf.matMul(tf.reshape(h, [batch, flat]), d1 as tf.Variable<tf.Rank.R2>), b1));
    return tf.losses.softmaxCrossEntropy(labels, tf.add(tf.matMul(f, d2 as tf.Variable<tf.Rank.R2>), b2));
  };
  const vars = [...convs.flatMap((c) => [c.w, c.gamma, c.beta]), d1, b1, d2, b2];
  return {
    step: () => {
      const { value, grads } = tf.variableGrads(loss);
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    },
    dispose: () => tf.dispose([...vars, x, labels]),
  };
}

/**
 * Times and profiles a training step of the VGG net on wasm with `kernels` registered (the conv
 * gradients at least: without them wasm cannot run the step). Restores the registrations after.
 */
export async function profileTrainingStep(opts: { kernels: readonly string[]; batch?: number; steps?: number; seed?: number }): Promise<StepProfile> {
  const batch = opts.batch ?? 64;
  const had = registeredTrainingKernels();
  unregisterTrainingKernels();
  const kernels = registerTrainingKernels(opts.kernels);
  await tf.setBackend('wasm');
  const { step, dispose } = vggStep(batch, opts.seed ?? 1);
  step(); // warm-up: XNNPACK operators, JIT
  const ms: number[] = [];
  for (let i = 0; i < (opts.steps ?? 3); i++) {
    const t0 = performance.now();
    step();
    ms.push(performance.now() - t0);
  }
  const prof = await tf.profile(() => step());
  dispose();
  unregisterTrainingKernels();
  registerTrainingKernels(had);
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += k.kernelTimeMs as number;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const stepMs = median(ms);
  const imgPerSec = (batch * 1000) / stepMs;
  return {
    kernels,
    batch,
    stepMs,
    imgPerSec,
    gflops: (3 * 2 * vggForwardMacs() * imgPerSec) / 1e9,
    breakdown: [...byKernel.entries()].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms),
  };
}
