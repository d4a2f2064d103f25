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
import { depthwiseConv2dNativeBackpropInputWith } from '../compiler/train/kernels/DepthwiseConv2dNativeBackpropInput.js';
import { CONV_GRADIENT_KERNELS, registerTrainingKernels } from '../compiler/train/kernels/index.js';
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

/** The input gradient through the zero-insertion path, which the registered kernel uses only for stride with dilation. */
function inputGradByZeros(c: Case, depthwise: boolean): Promise<Float32Array> {
  return onBackend('wasm', () =>
    tf.tidy(() => {
      const dy = tf.tensor(c.dyData, c.dyShape);
      const filter = tf.tensor(c.wData, c.filter);
      const attrs = { ...attrsOf(c, depthwise), inputShape: c.x, dilations: c.dilation } as never;
      const args = { inputs: { dy, filter }, backend: tf.backend(), attrs };
      const out: TensorInfo = depthwise ? depthwiseConv2dNativeBackpropInputWith('zeros', args) : conv2DBackpropInputWith('zeros', args);
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
    assert.deepEqual([...names].sort(), CONV_GRADIENT_KERNELS.map((k) => k.kernel).sort());
    for (const n of names) {
      assert.ok(tf.getKernel(n, 'wasm'), `${n} registered for wasm`);
      assert.ok(tf.getKernel(n, 'cpu'), `${n} still the cpu backend's own`);
    }
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
        const err = relErr(await filterGrad(c, 'wasm', depthwise), await filterGrad(c, 'cpu', depthwise));
        assert.ok(err <= TOL, `${c.label}: rel err ${err}`);
        worst = Math.max(worst, err);
      }
      t.diagnostic(`max rel err ${worst.toExponential(2)}`);
    });

    it(`${name}BackpropInput: ${cases.length} random cases, both stride strategies`, async (t) => {
      let worst = 0;
      for (const c of cases) {
        const want = await inputGrad(c, 'cpu', depthwise);
        const err = relErr(await inputGrad(c, 'wasm', depthwise), want);
        const errZeros = relErr(await inputGradByZeros(c, depthwise), want);
        assert.ok(err <= TOL, `${c.label}: rel err ${err}`);
        assert.ok(errZeros <= TOL, `${c.label} (zeros): rel err ${errZeros}`);
        worst = Math.max(worst, err, errZeros);
      }
      t.diagnostic(`max rel err ${worst.toExponential(2)}`);
    });
  });
}

describe('tf.grad through the registered kernels', () => {
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
