// The test-set evaluation on the simulated accelerator: exact mode counts every code of every value
// against the integer-only executor (the bit-exactness check `tandem simulate --mode exact` prints).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lower } from '../compiler/lower/lower.js';
import { runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { evaluateOnAccelerator } from '../sim/evaluate.js';
import { fashionImages } from './helpers.js';
import { quantizedVgg, specWith } from './sim-helpers.js';

describe('evaluateOnAccelerator, exact mode against the integer executor', () => {
  it('a lossless ADC: 0 codes differ, and every value of every image is counted', async () => {
    const g = await quantizedVgg();
    const n = 3;
    const { x, y } = await fashionImages('test', n);
    const e = await evaluateOnAccelerator(g, lower(g, specWith(128, 2, 'offset')), x, y, n, { mode: 'exact', seeds: [1], timeS: 0, digits: true, batch: 2 });
    // the integer values of one image (every node's output but the real-valued softmax)
    const one = runInt8(g, x.subarray(0, 784), 1, { keep: new Set(g.nodes.map((q) => q.id)) }).codes;
    const perImage = [...one.values()].reduce((a, v) => a + v.length, 0);
    assert.ok(one.size >= g.nodes.length - 1 && perImage > 100000, `${one.size} values, ${perImage} codes per image`);
    assert.deepEqual(e.vsInt8, { codes: n * perImage, differing: 0, top1Differing: 0 });
    assert.equal(e.accuracy[0], e.exactInt8Accuracy);
  });

  it('a 4-bit ADC over the largest column sum rounds: codes differ and are counted', async () => {
    const g = await quantizedVgg();
    const n = 2;
    const { x, y } = await fashionImages('test', n);
    const spec = specWith(128, 2, 'offset');
    const e = await evaluateOnAccelerator(g, lower(g, { ...spec, adc: { ...spec.adc, bits: 4 } }), x, y, n, { mode: 'exact', seeds: [1], timeS: 0 });
    assert.ok(e.vsInt8 && e.vsInt8.differing > 0.1 * e.vsInt8.codes, `${e.vsInt8?.differing} of ${e.vsInt8?.codes} differ`);
  });
});
