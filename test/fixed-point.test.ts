// The fixed-point primitives of the int8 semantics against a BigInt transcription of their C form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INT32_MAX, INT32_MIN, multiplyByQuantizedMultiplier, quantizeMultiplier, roundedDivide, roundHalfAway } from '../compiler/passes/quantize/fixed-point.js';
import { Rng } from '../compiler/util/rng.js';

/** The C of docs/int8-semantics.md: p = (int64)x * m0; y = (p + (1 << (n-1)) - (p < 0)) >> n; saturate. */
function refMul(x: number, m0: number, shift: number): number {
  const p = BigInt(x) * BigInt(m0);
  const n = BigInt(31 - shift);
  const y = (p + (1n << (n - 1n)) - (p < 0n ? 1n : 0n)) >> n;
  return Number(y > BigInt(INT32_MAX) ? BigInt(INT32_MAX) : y < BigInt(INT32_MIN) ? BigInt(INT32_MIN) : y);
}

test('multiplyByQuantizedMultiplier equals the int64 formula bit for bit (300k random and edge cases)', () => {
  const rng = new Rng(11);
  const int32 = () => Math.floor(rng.next() * 2 ** 32) - 2 ** 31;
  const xs = [INT32_MIN, INT32_MIN + 1, -65537, -65536, -1, 0, 1, 65535, 65536, INT32_MAX - 1, INT32_MAX];
  let n = 0;
  for (let i = 0; i < 300000; i++) {
    const x = i < 2000 ? xs[i % xs.length] : i % 2 ? int32() : Math.floor((rng.next() - 0.5) * 2 ** 24);
    const m0 = i % 97 === 0 ? 2 ** 30 : (1 << 30) + Math.floor(rng.next() * 2 ** 30);
    const shift = -21 + (i % 52);
    assert.equal(multiplyByQuantizedMultiplier(x, { m0, shift }), refMul(x, m0, shift), `x ${x} m0 ${m0} shift ${shift}`);
    n++;
  }
  assert.equal(n, 300000);
});

test('quantizeMultiplier represents M to 2^-30 relative; x·M is rounded once to the nearest integer, ties away from zero', () => {
  const rng = new Rng(3);
  for (let i = 0; i < 5000; i++) {
    const M = Math.exp((rng.next() - 0.7) * 20); // ~1e-6 .. ~400
    const q = quantizeMultiplier(M);
    assert.ok(q.m0 >= 2 ** 30 && q.m0 < 2 ** 31, `m0 ${q.m0}`);
    const back = q.m0 * 2 ** (q.shift - 31);
    assert.ok(Math.abs(back - M) <= M * 2 ** -30, `M ${M} -> ${back}`);
    const x = Math.floor((rng.next() - 0.5) * 2 ** 20);
    if (Math.abs(x * M) < 2 ** 30) {
      const y = multiplyByQuantizedMultiplier(x, q);
      assert.ok(Math.abs(y - x * back) <= 0.5, `${x} * ${back} = ${x * back} -> ${y}`);
    }
  }
  assert.deepEqual(quantizeMultiplier(0.5), { m0: 2 ** 30, shift: 0 });
  assert.deepEqual(quantizeMultiplier(1), { m0: 2 ** 30, shift: 1 });
  assert.equal(multiplyByQuantizedMultiplier(5, quantizeMultiplier(0.5)), 3);
  assert.equal(multiplyByQuantizedMultiplier(-5, quantizeMultiplier(0.5)), -3);
  assert.equal(multiplyByQuantizedMultiplier(-7, quantizeMultiplier(0.5)), -4);
  assert.throws(() => quantizeMultiplier(1e-7), { message: 'multiplier 1e-7 is below 2^-21: the scales are inconsistent' });
  assert.deepEqual([2.5, -2.5, 0.49999999999999994, -0.5, 3.4999].map(roundHalfAway), [3, -3, 0, -1, 3]);
  assert.deepEqual([[5, 2], [-5, 2], [7, 3], [-8, 3], [0, 4]].map(([s, c]) => roundedDivide(s, c)), [3, -3, 2, -3, 0]);
});
