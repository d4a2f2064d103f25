// The tensor form of the fixed-point multiply (the fake-quant model's exact requantization) against the
// scalar definition, on the engine's backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { multiplyByQuantizedMultiplier, type QuantizedMultiplier, quantizeMultiplier, roundedDivide } from '../compiler/passes/quantize/fixed-point.js';
import { EXACT_LIMIT, mulQuantizedSplit, mulQuantizedTensor, roundedDivideTensor } from '../compiler/passes/quantize/fixed-point-tensor.js';
import { initBackend } from '../compiler/train/backend.js';
import { Rng } from '../compiler/util/rng.js';

test('mulQuantizedTensor equals multiplyByQuantizedMultiplier on every |x| < 2^24 tried (300k values, per-channel and scalar, every shift, exact ties)', async () => {
  await initBackend();
  const rng = new Rng(5);
  const C = 52;
  // one multiplier per channel, shift -21..30 (n = 52..1), m0 random in [2^30, 2^31) or 2^30 exactly
  const qs: QuantizedMultiplier[] = Array.from({ length: C }, (_, c) => ({ m0: c % 9 === 0 ? 2 ** 30 : 2 ** 30 + Math.floor(rng.next() * 2 ** 30), shift: -21 + c }));
  const rows = 4000;
  const x = new Float32Array(rows * C);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    const r = Math.floor(i / C);
    const n = 31 - qs[c].shift;
    if (r < 8) x[i] = [0, 1, -1, EXACT_LIMIT - 1, -(EXACT_LIMIT - 1), 2047, 2048, -4194304][r];
    else if (r % 5 === 0 && n <= 24 && qs[c].m0 === 2 ** 30) x[i] = (2 * Math.floor(rng.next() * 2 ** (n - 7)) + 1) * (r % 2 ? 1 : -1); // x·2^30 / 2^n: some land on exact halves
    else x[i] = Math.floor((rng.next() - 0.5) * 2 * (r % 3 ? 2 ** 24 : 2 ** (4 + (r % 20))));
  }
  const exactBelow = (v: number) => Math.abs(v) < EXACT_LIMIT;
  let compared = 0;
  let ties = 0;
  const got = tf.tidy(() => mulQuantizedTensor(tf.tensor2d(x, [rows, C]), qs).dataSync());
  for (let i = 0; i < x.length; i++) {
    const want = multiplyByQuantizedMultiplier(x[i], qs[i % C]);
    if (!exactBelow(want)) continue;
    const p = x[i] * qs[i % C].m0 * 2 ** (qs[i % C].shift - 31);
    if (Math.abs(p - Math.trunc(p)) === 0.5) ties++;
    assert.equal(got[i] + 0, want, `x ${x[i]} m0 ${qs[i % C].m0} shift ${qs[i % C].shift}`);
    compared++;
  }
  assert.ok(compared > 100000, `compared ${compared}`);
  assert.ok(ties > 100, `exact ties ${ties}`);
  // one multiplier for every element (got + 0: -0 and 0 are the same code)
  const q = { m0: 1518500250, shift: -7 };
  const xs = Float32Array.from({ length: 20000 }, () => Math.floor((rng.next() - 0.5) * 2 ** 25));
  const one = tf.tidy(() => mulQuantizedTensor(tf.tensor1d(xs), [q]).dataSync());
  xs.forEach((v, i) => assert.equal(one[i] + 0, multiplyByQuantizedMultiplier(v, q), `x ${v}`));
});

test('roundedDivideTensor equals roundedDivide (ties away from zero, exact multiples)', async () => {
  await initBackend();
  const rng = new Rng(6);
  for (const n of [1, 2, 3, 49, 64, 65536]) {
    // exact multiples (|s| + floor(n/2) = k·n), halves, random
    const s = Float32Array.from({ length: 6000 }, (_, i) => {
      const k = Math.floor(rng.next() * Math.min(2 ** 16, 2 ** 23 / n)) * (i % 2 ? 1 : -1);
      if (i < 2000) return k * n - Math.sign(k) * Math.floor(n / 2);
      if (i < 2200) return (i - 2100) * Math.ceil(n / 2);
      return Math.floor((rng.next() - 0.5) * 2 ** 23);
    });
    const got = tf.tidy(() => roundedDivideTensor(tf.tensor1d(s), n).dataSync());
    s.forEach((v, i) => assert.equal(got[i] + 0, roundedDivide(v, n) + 0, `${v} / ${n}`));
  }
});

test('mulQuantizedSplit: high·2^16 + low is mul(x, M) exactly, also far above 2^24 (add\'s rescaled inputs, M up to 100)', async () => {
  await initBackend();
  const rng = new Rng(7);
  for (const M of [0.37, 1, 1.9999, 3.3, 100]) {
    const q = quantizeMultiplier(M);
    const xs = Float32Array.from({ length: 20000 }, () => Math.floor((rng.next() - 0.5) * 2 * 255) * 65536 + Math.floor(rng.next() * 3));
    const { high, low } = mulQuantizedSplit(tf.tensor1d(xs), [q], 16);
    const h = high.dataSync();
    const l = low.dataSync();
    tf.dispose([high, low]);
    let big = 0;
    xs.forEach((v, i) => {
      const want = multiplyByQuantizedMultiplier(v, q);
      if (Math.abs(want) >= EXACT_LIMIT) big++;
      assert.equal(h[i] * 65536 + l[i], want, `x ${v} M ${M}`);
    });
    if (M > 1.5) assert.ok(big > 1000, `M ${M}: ${big} results >= 2^24`);
  }
});

test('tensors above a slice (2^20 elements) go through in slices along axis 0: same results, nothing left allocated', async () => {
  await initBackend();
  const rng = new Rng(8);
  const rows = 2 ** 14 + 3; // 16387 × 100: two full slices of 10485 rows and a partial one
  const C = 100;
  const qs = Array.from({ length: C }, (_, c) => quantizeMultiplier(0.001 + c / 37));
  const x = Float32Array.from({ length: rows * C }, () => Math.floor((rng.next() - 0.5) * 2 ** 20));
  const before = tf.memory().numTensors;
  const xt = tf.tensor2d(x, [rows, C]);
  const y = mulQuantizedTensor(xt, qs);
  const d = roundedDivideTensor(xt, 49);
  const { high, low } = mulQuantizedSplit(xt, qs, 16);
  assert.deepEqual([y.shape, d.shape, high.shape, low.shape], [[rows, C], [rows, C], [rows, C], [rows, C]]);
  const [yv, dv, hv, lv] = [y, d, high, low].map((t) => t.dataSync());
  for (let i = 0; i < x.length; i++) {
    const want = multiplyByQuantizedMultiplier(x[i], qs[i % C]);
    if (yv[i] + 0 !== want || hv[i] * 65536 + lv[i] !== want || dv[i] + 0 !== roundedDivide(x[i], 49) + 0) assert.fail(`element ${i} (row ${Math.floor(i / C)}): x ${x[i]}`);
  }
  tf.dispose([xt, y, d, high, low]);
  assert.equal(tf.memory().numTensors, before);
});
