// im2col on integer codes (compiler/passes/quantize/im2col.ts) against its definition, element by
// element: strides, dilations, asymmetric padding, narrow and wide channel counts, every output type.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeOf, OpKind } from '../compiler/ir/types.js';
import { im2col } from '../compiler/passes/quantize/im2col.js';
import { Rng } from '../compiler/util/rng.js';

interface Case {
  readonly H: number;
  readonly W: number;
  readonly C: number;
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pads: [number, number, number, number];
}

/** The definition: row (b, oh, ow), column (i, j, c) = x[b, oh·sh − pt + i·dh, ow·sw − pl + j·dw, c] − sub, else pad. */
function reference(c: Case, x: Int32Array, B: number, Ho: number, Wo: number, sub: number, pad: number): Float64Array {
  const { H, W, C, kernel: [kh, kw], strides: [sh, sw], dilations: [dh, dw], pads: [pt, pl] } = c;
  const K = kh * kw * C;
  const out = new Float64Array(B * Ho * Wo * K).fill(pad);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++)
            for (let ch = 0; ch < C; ch++) {
              const ih = oh * sh - pt + i * dh;
              const iw = ow * sw - pl + j * dw;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) out[((b * Ho + oh) * Wo + ow) * K + (i * kw + j) * C + ch] = x[((b * H + ih) * W + iw) * C + ch] - sub;
            }
  return out;
}

test('im2col equals its definition for strides, dilations, asymmetric pads and every output type', () => {
  const cases: Case[] = [
    { H: 9, W: 11, C: 1, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] },
    { H: 9, W: 11, C: 20, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] },
    { H: 10, W: 7, C: 17, kernel: [3, 5], strides: [2, 3], dilations: [1, 1], pads: [0, 2, 1, 2] },
    { H: 12, W: 12, C: 8, kernel: [3, 3], strides: [1, 2], dilations: [2, 3], pads: [2, 3, 2, 1] },
    { H: 6, W: 6, C: 32, kernel: [1, 1], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0] },
    { H: 5, W: 5, C: 16, kernel: [7, 7], strides: [1, 1], dilations: [1, 1], pads: [3, 3, 3, 3] },
  ];
  const rng = new Rng(3);
  for (const c of cases) {
    const { H, W, C, kernel: [kh, kw], strides: [sh, sw], dilations: [dh, dw], pads: [pt, pl, pb, pr] } = c;
    const Ho = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
    const Wo = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
    const B = 3;
    const x = Int32Array.from({ length: B * H * W * C }, () => Math.floor(rng.next() * 256) - 128);
    const node = { attrs: { kernel: c.kernel, strides: c.strides, dilations: c.dilations, pads: c.pads } } as unknown as NodeOf<OpKind.Conv2d>;
    // images 1..2 only: the batch offset
    const want = reference(c, x, B, Ho, Wo, -128, 7).subarray(Ho * Wo * kh * kw * C);
    for (const make of [(n: number) => new Int16Array(n), (n: number) => new Float32Array(n), (n: number) => new Float64Array(n)]) {
      const out = make(want.length);
      im2col(node, x, 1, B, [H, W, C], [Ho, Wo, 1], -128, 7, out);
      assert.deepEqual(Array.from(out), Array.from(want), `${JSON.stringify(c)} ${out.constructor.name}`);
    }
  }
});
