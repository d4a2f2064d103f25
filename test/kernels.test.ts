// Tandem's wasm training kernels against the tfjs cpu backend, on seeded random convolutions.
//
// Error measure: rel = max|wasm - cpu| / max(1, max|cpu|), required <= 1e-4.
// Dilation: tfjs's cpu conv gradients ignore dilation (the depthwise ones compute dilated padding but
// undilated taps), so for dilation d the reference runs the undilated kernel on the filter with d-1
// zeros inserted between taps, which is the same convolution; filter gradients are read back at
// every d-th tap.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { conv2DBackpropInputWith } from '../compiler/train/kernels/Conv2DBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterWith } from '../compiler/train/kernels/DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputWith } from '../compiler/train/kernels/DepthwiseConv2dNativeBackpropInput.js';
import { CONV_GRADIENT_KERNELS, registeredTrainingKernels, registerTrainingKernels, TRAINING_KERNEL_NAMES, unregisterTrainingKernels } from '../compiler/train/kernels/index.js';
import { Rng } from '../compiler/util/rng.js';

type Vec4 = [number, number, number, number];
type Pad = 'same' | 'valid' | Vec4[] | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  readonly label: string;
  readonly x: Vec4; // in the case's data format
  readonly filter: Vec4;
  readonly strides: [number, number];
  readonly dilation: number;
  readonly pad: Pad;
  readonly nchw: boolean;
  readonly xData: Float32Array;
  readonly wData: Float32Array;
  readonly dyShape: Vec4;
  readonly dyData: Float32Array;
}

const TOL = 1e-4;
const CASES_PER_KERNEL = 24;

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The filter with d-1 zero taps between its taps: the same convolution without dilation. */
function expandFilter(w: Float32Array, [kh, kw, ci, co]: Vec4, d: number): { data: Float32Array; shape: Vec4 } {
  if (d === 1) return { data: w, shape: [kh, kw, ci, co] };
  const eh = (kh - 1) * d + 1;
  const ew = (kw - 1) * d + 1;
  const out = new Float32Array(eh * ew * ci * co);
  const inner = ci * co;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) out.set(w.subarray((i * kw + j) * inner, (i * kw + j + 1) * inner), (i * d * ew + j * d) * inner);
  }
  return { data: out, shape: [eh, ew, ci, co] };
}

/** Every d-th tap of an expanded filter gradient. */
function shrinkFilter(g: Float32Array, [kh, kw, ci, co]: Vec4, d: number): Float32Array {
  if (d === 1) return g;
  const ew = (kw - 1) * d + 1;
  const inner = ci * co;
  const out = new Float32Array(kh * kw * inner);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) out.set(g.subarray((i * d * ew + j * d) * inner, (i * d * ew + j * d + 1) * inner), (i * kw + j) * inner);
  }
  return out;
}

// Every (stride, dilation, padding) combination, each twice with random sizes.
const COMBOS: Array<[number, number, 'same' | 'valid' | 'explicit']> = [];
for (const s of [1, 2]) for (const d of [1, 2]) for (const p of ['same', 'valid', 'explicit'] as const) COMBOS.push([s, d, p]);

function makeCases(seed: number, depthwise: boolean, n: number, nchwCases = 0): Case[] {
  const rng = new Rng(seed);
  const cases: Case[] = [];
  for (let i = 0; i < n + nchwCases; i++) {
    const [s, d, padKind] = COMBOS[i % COMBOS.length];
    const nchw = i >= n;
    // Sometimes only one axis is strided.
    const strides: [number, number] = s === 1 ? [1, 1] : rng.int(3) === 0 ? (rng.int(2) === 0 ? [1, 2] : [2, 1]) : [2, 2];
    const kh = 1 + rng.int(4);
    const kw = 1 + rng.int(4);
    const eh = (kh - 1) * d + 1;
    const ew = (kw - 1) * d + 1;
    const b = 1 + rng.int(4);
    let h = eh + rng.int(9);
    let w = ew + rng.int(9);
    const c = 1 + rng.int(16);
    const co = depthwise ? 1 + rng.int(3) : 1 + rng.int(16);
    const [t, bo, l, r] = padKind === 'explicit' ? [rng.int(eh), rng.int(eh), rng.int(ew), rng.int(ew)] : [0, 0, 0, 0];
    // Second round: strided outputs that leave input rows/cols unread (the awkward shapes).
    if (i >= COMBOS.length && padKind !== 'same') {
      if (strides[0] === 2 && (h + t + bo - eh) % 2 === 0) h++;
      if (strides[1] === 2 && (w + l + r - ew) % 2 === 0) w++;
    }
    let pad: Pad = padKind === 'same' ? 'same' : 'valid';
    if (padKind === 'explicit') pad = nchw ? [[0, 0], [0, 0], [t, bo], [l, r]] : [[0, 0], [t, bo], [l, r], [0, 0]];
    const filter: Vec4 = [kh, kw, c, co];
    const xShape: Vec4 = nchw ? [b, c, h, w] : [b, h, w, c];
    const expanded: Vec4 = [eh, ew, c, co];
    const info = backend_util.computeConv2DInfo(xShape, expanded, strides, 1, pad as backend_util.ExplicitPadding, undefined, depthwise, nchw ? 'channelsFirst' : 'channelsLast');
    const dyShape = info.outShape as Vec4;
    cases.push({
      label: `x=[${xShape}] f=[${filter}] s=[${strides}] d=${d} pad=${JSON.stringify(pad)}${nchw ? ' NCHW' : ''}`,
      x: xShape,
      filter,
      strides,
      dilation: d,
      pad,
      nchw,
      xData: randn(rng, size(xShape)),
      wData: randn(rng, size(filter)),
      dyShape,
      dyData: randn(rng, size(dyShape)),
    });
  }
  return cases;
}

function unevenCases(cases: readonly Case[]): number {
  return cases.filter((c) => {
    const [h, w] = c.nchw ? [c.x[2], c.x[3]] : [c.x[1], c.x[2]];
    const k = [(c.filter[0] - 1) * c.dilation + 1, (c.filter[1] - 1) * c.dilation + 1];
    const pads = c.pad === 'same' || c.pad === 'valid' ? [0, 0] : c.nchw ? [c.pad[2][0] + c.pad[2][1], c.pad[3][0] + c.pad[3][1]] : [c.pad[1][0] + c.pad[1][1], c.pad[2][0] + c.pad[2][1]];
    return c.pad !== 'same' && ((h + pads[0] - k[0]) % c.strides[0] !== 0 || (w + pads[1] - k[1]) % c.strides[1] !== 0);
  }).length;
}

function relErr(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  let diff = 0;
  let big = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    big = Math.max(big, Math.abs(want[i]));
  }
  assert.ok(Number.isFinite(diff), 'non-finite result');
  return diff / Math.max(1, big);
}

/** Runs `f` on `backend`, reads its result, disposes everything, and checks nothing leaked. */
async function onBackend(backend: 'wasm' | 'cpu', f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const tensors = tf.memory().numTensors;
  const data = tf.backend().numDataIds();
  const out = f();
  const values = (await out.data()) as Float32Array;
  out.dispose();
  assert.equal(tf.memory().numTensors, tensors, `${backend}: engine tensors leaked`);
  assert.equal(tf.backend().numDataIds(), data, `${backend}: backend data leaked`);
  return values;
}

const attrsOf = (c: Case, depthwise: boolean) => ({
  strides: c.strides,
  pad: c.pad,
  dimRoundingMode: undefined,
  ...(depthwise ? {} : { dataFormat: c.nchw ? 'NCHW' : 'NHWC' }),
});

function filterGrad(c: Case, backend: 'wasm' | 'cpu', depthwise: boolean): Promise<Float32Array> {
  const kernel = depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter';
  const expanded = expandFilter(c.wData, c.filter, c.dilation);
  return onBackend(backend, () =>
    tf.tidy(() => {
      const x = tf.tensor(c.xData, c.x);
      const dy = tf.tensor(c.dyData, c.dyShape);
      const attrs = backend === 'wasm'
        ? { ...attrsOf(c, depthwise), filterShape: c.filter, dilations: c.dilation }
        : { ...attrsOf(c, depthwise), filterShape: expanded.shape, dilations: 1 };
      const g = tf.engine().runKernel(kernel, { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      return backend === 'wasm' ? g : tf.tensor(shrinkFilter(g.dataSync() as Float32Array, c.filter, c.dilation), c.filter);
    }),
  );
}

function inputGrad(c: Case, backend: 'wasm' | 'cpu', depthwise: boolean): Promise<Float32Array> {
  const kernel = depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
  const expanded = expandFilter(c.wData, c.filter, c.dilation);
  return onBackend(backend, () =>
    tf.tidy(() => {
      const dy = tf.tensor(c.dyData, c.dyShape);
      const filter = backend === 'wasm' ? tf.tensor(c.wData, c.filter) : tf.tensor(expanded.data, expanded.shape);
      const attrs = { ...attrsOf(c, depthwise), inputShape: c.x, dilations: backend === 'wasm' ? c.dilation : 1 };
      return tf.engine().runKernel(kernel, { dy, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    }),
  );
}

/** The depthwise filter gradient by the strategy the registered kernel does not use for this case. */
function depthwiseFilterGradOther(c: Case): Promise<Float32Array> {
  return onBackend('wasm', () =>
    tf.tidy(() => {
      const x = tf.tensor(c.xData, c.x);
      const dy = tf.tensor(c.dyData, c.dyShape);
      const attrs = { ...attrsOf(c, true), filterShape: c.filter, dilations: c.dilation } as never;
      const usesTaps = c.strides[0] === 1 && c.strides[1] === 1 && c.filter[3] === 1;
      return tf.engine().makeTensorFromTensorInfo(depthwiseConv2dNativeBackpropFilterWith(usesTaps ? 'loop' : 'taps', { inputs: { x, dy }, backend: tf.backend(), attrs }));
    }),
  );
}

/** The input gradient by the stride strategy the registered kernel does not use (phases for depthwise, zeros otherwise). */
function inputGradOtherStrategy(c: Case, depthwise: boolean): Promise<Float32Array> {
  return onBackend('wasm', () =>
    tf.tidy(() => {
      const dy = tf.tensor(c.dyData, c.dyShape);
      const filter = tf.tensor(c.wData, c.filter);
      const attrs = { ...attrsOf(c, depthwise), inputShape: c.x, dilations: c.dilation } as never;
      const args = { inputs: { dy, filter }, backend: tf.backend(), attrs };
      const out: TensorInfo = depthwise ? depthwiseConv2dNativeBackpropInputWith('phases', args) : conv2DBackpropInputWith('zeros', args);
      return tf.engine().makeTensorFromTensorInfo(out);
    }),
  );
}

before(async () => {
  registerTrainingKernels();
  assert.ok(await tf.setBackend('wasm'));
});

describe('registerTrainingKernels', () => {
  it('registers each kernel once for wasm only, and again is a no-op', () => {
    const names = registerTrainingKernels();
    const again = registerTrainingKernels();
    assert.deepEqual(again, names);
    for (const k of CONV_GRADIENT_KERNELS) assert.ok(names.includes(k.kernel), k.kernel);
    for (const n of names) {
      assert.ok(tf.getKernel(n, 'wasm'), `${n} registered for wasm`);
      assert.ok(tf.getKernel(n, 'cpu'), `${n} still the cpu backend's own`);
    }
    assert.deepEqual(registeredTrainingKernels(), names);
  });

  it('can be undone and redone after the backend started, and fallbacks to wasm kernels still work', async () => {
    await tf.setBackend('wasm');
    unregisterTrainingKernels();
    assert.deepEqual(registeredTrainingKernels(), []);
    assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
    // wasm's own Sum, put back after init, must have been set up again.
    const plain = tf.tidy(() => Array.from(tf.sum(tf.tensor([[1, 2], [3, 4]]), 1).dataSync()));
    registerTrainingKernels();
    // Ours, registered after init, falling back on wasm's own (innermost axis).
    const ours = tf.tidy(() => Array.from(tf.sum(tf.tensor([[1, 2], [3, 4]]), 1).dataSync()));
    assert.deepEqual(plain, [3, 7]);
    assert.deepEqual(ours, [3, 7]);
    assert.deepEqual(registeredTrainingKernels(), TRAINING_KERNEL_NAMES);
  });
});

for (const depthwise of [false, true]) {
  const name = depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
  describe(`${name} gradients vs cpu`, () => {
    const cases = makeCases(depthwise ? 2 : 1, depthwise, CASES_PER_KERNEL, depthwise ? 0 : 2);

    it('cases cover outputs that do not tile the input evenly', () => {
      assert.ok(unevenCases(cases) >= 3, `only ${unevenCases(cases)} uneven cases`);
    });

    it(`${name}BackpropFilter: ${cases.length} random cases`, async (t) => {
      let worst = 0;
      for (const c of cases) {
        const want = await filterGrad(c, 'cpu', depthwise);
        const err = relErr(await filterGrad(c, 'wasm', depthwise), want);
        assert.ok(err <= TOL, `${c.label}: rel err ${err}`);
        worst = Math.max(worst, err);
        if (depthwise) {
          const errOther = relErr(await depthwiseFilterGradOther(c), want);
          assert.ok(errOther <= TOL, `${c.label} (other strategy): rel err ${errOther}`);
          worst = Math.max(worst, errOther);
        }
      }
      t.diagnostic(`max rel err ${worst.toExponential(2)}`);
    });

    it(`${name}BackpropInput: ${cases.length} random cases, both stride strategies`, async (t) => {
      let worst = 0;
      for (const c of cases) {
        const want = await inputGrad(c, 'cpu', depthwise);
        const err = relErr(await inputGrad(c, 'wasm', depthwise), want);
        const errOther = relErr(await inputGradOtherStrategy(c, depthwise), want);
        assert.ok(err <= TOL, `${c.label}: rel err ${err}`);
        assert.ok(errOther <= TOL, `${c.label} (other stride strategy): rel err ${errOther}`);
        worst = Math.max(worst, err, errOther);
      }
      t.diagnostic(`max rel err ${worst.toExponential(2)}`);
    });
  });
}

/** The same op on wasm (Tandem's kernels) and cpu; returns the relative error. */
async function compareOp(f: () => tf.Tensor): Promise<number> {
  return relErr(await onBackend('wasm', f), await onBackend('cpu', f));
}

async function sweep(t: { diagnostic: (m: string) => void }, n: number, seed: number, body: (rng: Rng, i: number) => { label: string; f: () => tf.Tensor }): Promise<void> {
  const rng = new Rng(seed);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const { label, f } = body(rng, i);
    const err = await compareOp(f);
    assert.ok(err <= TOL, `${label}: rel err ${err}`);
    worst = Math.max(worst, err);
  }
  t.diagnostic(`${n} cases, max rel err ${worst.toExponential(2)}`);
}

const randShape = (rng: Rng, rank: number, max: number): number[] => Array.from({ length: rank }, () => 1 + rng.int(max));

describe('kernels found by profiling a training step, vs cpu', () => {
  it('Tile: float32, int32 and bool, ranks 1-5', async (t) => {
    await sweep(t, 24, 21, (rng, i) => {
      const shape = randShape(rng, 1 + (i % 5), 5);
      const reps = shape.map(() => 1 + rng.int(3));
      const dtype = (['float32', 'int32', 'bool'] as const)[i % 3];
      const data = Array.from(randn(rng, size(shape)), (v) => (dtype === 'float32' ? v : dtype === 'int32' ? Math.round(v * 10) : v > 0 ? 1 : 0));
      return { label: `[${shape}] x [${reps}] ${dtype}`, f: () => tf.tidy(() => tf.cast(tf.tile(tf.tensor(data, shape, dtype), reps), 'float32')) };
    });
  });

  it('Identity (tf.clone) shares data, outlives its source, and frees it with the last holder', async () => {
    await tf.setBackend('wasm');
    const before = tf.backend().numDataIds();
    const a = tf.tensor([1, 2, 3]);
    const b = tf.clone(a);
    assert.equal(tf.backend().numDataIds(), before + 1, 'clone shares the data');
    a.dispose();
    assert.deepEqual(Array.from(await b.data()), [1, 2, 3]);
    b.dispose();
    assert.equal(tf.backend().numDataIds(), before);
  });

  for (const op of ['sum', 'mean'] as const) {
    it(`${op === 'sum' ? 'Sum' : 'Mean'}: leading, middle, innermost and scattered axes`, async (t) => {
      await sweep(t, 24, op === 'sum' ? 22 : 23, (rng, i) => {
        const rank = 2 + (i % 4);
        const shape = randShape(rng, rank, 9);
        const a = rng.int(rank);
        const b = a + rng.int(rank - a);
        // Mostly contiguous runs (ours); every fourth case a scattered set (wasm's own).
        const axes = i % 4 === 3 && rank > 2 ? [0, rank - 1] : Array.from({ length: b - a + 1 }, (_, k) => a + k);
        const keepDims = rng.int(2) === 1;
        const x = randn(rng, size(shape));
        return { label: `[${shape}] axes [${axes}] keepDims ${keepDims}`, f: () => tf.tidy(() => tf[op](tf.tensor(x, shape), axes, keepDims)) };
      });
    });
  }

  for (const fused of [false, true]) {
    it(`${fused ? '_FusedMatMul' : 'BatchMatMul'}: transposes, ${fused ? 'one or two matrices, bias and every activation' : 'broadcast batches'}`, async (t) => {
      await sweep(t, 24, fused ? 27 : 26, (rng, i) => {
        const [m, k, n] = [1 + rng.int(40), 1 + rng.int(40), 1 + rng.int(40)];
        const [tA, tB] = [(i & 1) === 1, (i & 2) === 2];
        // Batch dims: none, equal, or broadcast; fused runs on rank 3 (tfjs reshapes to it).
        const kind = (i >> 2) % 4;
        const [ba, bb] = fused ? (kind % 2 ? [[1], [1]] : [[2], [2]]) : kind === 0 ? [[], []] : kind === 1 ? [[2], [2]] : kind === 2 ? [[1, 3], [2, 3]] : [[3], [1]];
        const aShape = [...ba, ...(tA ? [k, m] : [m, k])];
        const bShape = [...bb, ...(tB ? [n, k] : [k, n])];
        const a = randn(rng, size(aShape));
        const b = randn(rng, size(bShape));
        const bias = i % 5 === 4 ? undefined : randn(rng, n);
        const activation = (['linear', 'relu', 'relu6', 'sigmoid', 'elu', 'leakyrelu'] as const)[i % 6];
        return {
          label: `a [${aShape}] b [${bShape}] tA ${tA} tB ${tB}${fused ? ` bias ${bias !== undefined} ${activation}` : ''}`,
          f: () => tf.tidy(() => {
            const [at, bt] = [tf.tensor(a, aShape), tf.tensor(b, bShape)];
            if (!fused) return tf.matMul(at, bt, tA, tB);
            return tf.fused.matMul({ a: at, b: bt, transposeA: tA, transposeB: tB, bias: bias && tf.tensor1d(bias), activation });
          }),
        };
      });
    });
  }

  it('Identity (tf.clone): float32, int32 and bool values unchanged', async (t) => {
    await sweep(t, 20, 28, (rng, i) => {
      const shape = randShape(rng, 1 + (i % 4), 6);
      const dtype = (['float32', 'int32', 'bool'] as const)[i % 3];
      const data = Array.from(randn(rng, size(shape)), (v) => (dtype === 'float32' ? v : dtype === 'int32' ? Math.round(v * 10) : v > 0 ? 1 : 0));
      return { label: `[${shape}] ${dtype}`, f: () => tf.tidy(() => tf.cast(tf.clone(tf.tensor(data, shape, dtype)), 'float32')) };
    });
  });

  it('MaxPoolGrad: windows 1-3, strides 1-3, same/valid, with ties', async (t) => {
    await sweep(t, 24, 24, (rng, i) => {
      const shape: Vec4 = [1 + rng.int(4), 2 + rng.int(9), 2 + rng.int(9), 1 + rng.int(16)];
      const filter: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
      // Every third case windows that tile the input (2x2 stride 2 and the like), ours' fast path.
      const strides: [number, number] = i % 3 === 0 ? [...filter] : [1 + rng.int(3), 1 + rng.int(3)];
      const pad = i % 2 ? 'same' : 'valid';
      if (pad === 'valid') [shape[1], shape[2]] = [Math.max(shape[1], filter[0]), Math.max(shape[2], filter[1])];
      // relu of values rounded to halves: many equal maxima, as after a relu in a real net.
      const x = Array.from(randn(rng, size(shape)), (v) => Math.max(0, Math.round(v * 2) / 2));
      const r = randn(rng, 4096);
      return {
        label: `[${shape}] f [${filter}] s [${strides}] ${pad}`,
        f: () => tf.tidy(() => tf.grad((a: tf.Tensor) => {
          const y = tf.maxPool(a as tf.Tensor4D, filter, strides, pad);
          return tf.sum(tf.mul(y, tf.tensor(r.subarray(0, y.size), y.shape)));
        })(tf.tensor(x, shape))),
      };
    });
  });

  it('FusedBatchNorm: per-channel and scalar statistics, with and without scale/offset', async (t) => {
    await sweep(t, 24, 25, (rng, i) => {
      const shape = randShape(rng, 2 + (i % 3), 8);
      const c = shape[shape.length - 1];
      const stat = (positive: boolean) => {
        const n = rng.int(4) === 0 ? 1 : c;
        return Array.from(randn(rng, n), (v) => (positive ? 0.1 + v * v : v));
      };
      const [m, v, o, sc] = [stat(false), stat(true), stat(false), stat(false)];
      const useOffset = i % 4 !== 1;
      const useScale = i % 4 !== 2;
      const x = randn(rng, size(shape));
      const eps = [1e-3, 1e-5][i % 2];
      return {
        label: `[${shape}] stats ${m.length}/${v.length} offset ${useOffset} scale ${useScale}`,
        f: () => tf.tidy(() => tf.batchNorm(tf.tensor(x, shape), m, v, useOffset ? o : undefined, useScale ? sc : undefined, eps)),
      };
    });
  });
});

describe('tf.grad through the registered kernels', () => {
  it('a VGG block (conv, batch norm by tf.moments, relu, max pool, dense) matches cpu for every variable', async () => {
    const rng = new Rng(31);
    const data = { x: randn(rng, 4 * 10 * 10 * 3), w1: randn(rng, 3 * 3 * 3 * 8), w2: randn(rng, 3 * 3 * 8 * 8), g: randn(rng, 8), b: randn(rng, 8), d: randn(rng, 200 * 5), lab: randn(rng, 4 * 5) };
    const grads = async (backend: 'wasm' | 'cpu') => {
      const out: Float32Array[] = [];
      for (let which = 0; which < 5; which++) {
        out.push(
          await onBackend(backend, () =>
            tf.tidy(() => {
              const x = tf.tensor4d(data.x, [4, 10, 10, 3]);
              const labels = tf.softmax(tf.tensor2d(data.lab, [4, 5]));
              const vars = [tf.tensor4d(data.w1, [3, 3, 3, 8]), tf.tensor4d(data.w2, [3, 3, 8, 8]), tf.tensor1d(data.g), tf.tensor1d(data.b), tf.tensor2d(data.d, [200, 5])];
              const loss = (...[w1, w2, g, b, d]: tf.Tensor[]) => {
                let h = tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same');
                const { mean, variance } = tf.moments(h, [0, 1, 2]);
                h = tf.relu(tf.batchNorm(h, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3)) as tf.Tensor4D;
                h = tf.maxPool(tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same')), 2, 2, 'valid');
                return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.reshape(h, [4, 200]), d as tf.Tensor2D));
              };
              return tf.grads(loss)(vars)[which];
            }),
          ),
        );
      }
      return out;
    };
    const got = await grads('wasm');
    const want = await grads('cpu');
    for (let i = 0; i < got.length; i++) {
      const err = relErr(got[i], want[i]);
      assert.ok(err <= TOL, `variable ${i}: rel err ${err}`);
    }
  });

  it('conv (stride 2) -> relu -> depthwise (multiplier 2) matches cpu for x and both filters', async () => {
    for (const seed of [11, 12, 13]) {
      const rng = new Rng(seed);
      const x = randn(rng, 2 * 9 * 10 * 3);
      const w1 = randn(rng, 3 * 3 * 3 * 5);
      const w2 = randn(rng, 3 * 3 * 5 * 2);
      const r = randn(rng, 2 * 5 * 5 * 10);
      const grads = async (backend: 'wasm' | 'cpu') => {
        const parts: Float32Array[] = [];
        for (const which of [0, 1, 2]) {
          parts.push(
            await onBackend(backend, () =>
              tf.tidy(() => {
                const inputs = [tf.tensor4d(x, [2, 9, 10, 3]), tf.tensor4d(w1, [3, 3, 3, 5]), tf.tensor4d(w2, [3, 3, 5, 2])];
                const loss = (...[a, b, c]: tf.Tensor[]) =>
                  tf.sum(tf.mul(tf.depthwiseConv2d(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')), c as tf.Tensor4D, 1, 'same'), tf.tensor4d(r, [2, 5, 5, 10])));
                return tf.grads(loss)(inputs)[which];
              }),
            ),
          );
        }
        return parts;
      };
      const got = await grads('wasm');
      const want = await grads('cpu');
      for (let i = 0; i < 3; i++) {
        const err = relErr(got[i], want[i]);
        assert.ok(err <= TOL, `seed ${seed} grad ${i}: rel err ${err}`);
      }
    }
  });
});
