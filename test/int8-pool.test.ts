// The integer executor's max and average pooling (compiler/passes/quantize/int8-executor.ts) against
// their definition (docs/int8-semantics.md), code by code: padding, strides, windows that cover
// padding with and without counting it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { roundedDivide } from '../compiler/passes/quantize/fixed-point.js';
import { runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { Rng } from '../compiler/util/rng.js';

/** y[b, oh, ow, c] over the window's inside positions: their max, or z + roundedDivide(Σ(q − z), count). */
function reference(x: Int32Array, B: number, [H, W, C]: number[], k: number, s: number, pad: number, kind: 'max' | 'avg', includePad: boolean, z: number): Int32Array {
  const Ho = Math.floor((H + 2 * pad - k) / s) + 1;
  const Wo = Math.floor((W + 2 * pad - k) / s) + 1;
  const y = new Int32Array(B * Ho * Wo * C);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let sum = 0;
          let count = 0;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const ih = oh * s - pad + i;
              const iw = ow * s - pad + j;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
                if (includePad) count++;
                continue;
              }
              const v = x[((b * H + ih) * W + iw) * C + c];
              best = Math.max(best, v);
              sum += v - z;
              count++;
            }
          y[((b * Ho + oh) * Wo + ow) * C + c] = kind === 'max' ? best : z + roundedDivide(sum, count);
        }
  return y;
}

test('max and average pooling equal their definition code by code (same padding, strides 1 and 2, count_include_pad on and off)', () => {
  const b = new GraphBuilder('pools', 1);
  const x = b.input('image', [9, 11, 5]);
  const h = b.conv2d(x, { id: 'c', filters: 6, kernel: 3, padding: 'same' });
  const outs = [
    b.maxPool(h, 3, { id: 'max3s2', strides: 2, padding: 'same' }),
    b.avgPool(h, 3, { id: 'avg3s1', strides: 1, padding: 'same', countIncludePad: false }),
    b.avgPool(h, 3, { id: 'avg3s2inc', strides: 2, padding: 'same', countIncludePad: true }),
    b.maxPool(h, 2, { id: 'max2', strides: 2 }),
  ];
  const g = b.build(outs);
  const rng = new Rng(5);
  const B = 4;
  const input = Float32Array.from({ length: B * 9 * 11 * 5 }, () => rng.next() * 2 - 1);
  const q = quantizeGraph(g, { x: input, n: B }, DEFAULT_QUANTIZE).graph;
  const r = runInt8(q, input, B, { keep: new Set(['c', 'max3s2', 'avg3s1', 'avg3s2inc', 'max2']) });
  const c = r.codes.get('c')!;
  const z = valueParams(q).get('c')!.zeroPoint;
  const want: Record<string, Int32Array> = {
    max3s2: reference(c, B, [9, 11, 6], 3, 2, 1, 'max', false, z),
    avg3s1: reference(c, B, [9, 11, 6], 3, 1, 1, 'avg', false, z),
    avg3s2inc: reference(c, B, [9, 11, 6], 3, 2, 1, 'avg', true, z),
    max2: reference(c, B, [9, 11, 6], 2, 2, 0, 'max', false, z),
  };
  for (const [id, w] of Object.entries(want)) assert.deepEqual(Array.from(r.codes.get(id)!), Array.from(w), id);
});
