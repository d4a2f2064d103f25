// The per-layer error histogram `tandem simulate --json` carries for the UI: counts accumulated batch by batch
// equal a direct binning of all the values at once, and on the simulator the histogram agrees with the
// layer's relative error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferShapes } from '../compiler/ir/graph.js';
import { lower } from '../compiler/lower/lower.js';
import { evaluateOnAccelerator } from '../sim/evaluate.js';
import { ErrorHistogramAcc } from '../sim/error-histogram.js';
import { fashionImages } from './helpers.js';
import { quantizedVgg, specWith } from './sim-helpers.js';

/** A seeded LCG, uniform in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('ErrorHistogramAcc', () => {
  it('counts over three batches equal a direct binning of (y − ref) / rms(ref) with the final edges', () => {
    const r = rng(7);
    const batches = [500, 300, 200].map((len) => {
      const ref = Float32Array.from({ length: len }, () => 4 * r() - 1);
      // errors of varied size, so some fall past the range fixed by the first batch
      const y = ref.map((v, i) => v + (r() - 0.5) * (i % 10 === 0 ? 1 : 0.1));
      return { y, ref };
    });
    const h = new ErrorHistogramAcc(20);
    for (const b of batches) h.add(b.y, b.ref);
    const out = h.result();

    const ref = batches.flatMap((b) => [...b.ref]);
    const err = batches.flatMap((b) => [...b.y].map((v, i) => v - b.ref[i]));
    const rms = Math.sqrt(ref.reduce((a, v) => a + v * v, 0) / ref.length);
    const e = err.map((d) => d / rms);
    const { edges } = out;
    assert.equal(edges.length, 21);
    const counts = edges.slice(0, -1).map((lo, k) => e.filter((v) => v >= lo && v < edges[k + 1]).length);
    assert.deepEqual(out.counts, counts);
    assert.equal(out.below, e.filter((v) => v < edges[0]).length);
    assert.equal(out.above, e.filter((v) => v >= edges[20]).length);
    assert.ok(out.below + out.above > 0, 'the test has tails past the range');
    // symmetric about zero, ±4 error rms of the first batch
    assert.ok(Math.abs(edges[0] + edges[20]) < 1e-9);
    const first = batches[0];
    const firstRms = Math.sqrt(first.y.reduce((a, v, i) => a + (v - first.ref[i]) ** 2, 0) / first.y.length);
    assert.ok(Math.abs(edges[20] * rms - 4 * firstRms) < 1e-6 * firstRms);
  });
});

describe('evaluateOnAccelerator: the error histogram', () => {
  it('counts every element of every image, and bounds the relative error by its bins', async () => {
    const g = await quantizedVgg();
    const n = 2;
    const { x, y } = await fashionImages('test', n);
    const e = await evaluateOnAccelerator(g, lower(g, specWith(128, 2, 'offset')), x, y, n, { mode: 'exact', seeds: [1], timeS: 0, batch: 1 });
    const shapes = inferShapes(g);
    assert.ok(e.layers.length >= 4);
    for (const l of e.layers) {
      const h = l.histogram;
      const elements = h.counts.reduce((a, b) => a + b, 0) + h.below + h.above;
      assert.equal(elements, n * shapes.get(l.value)!.reduce((a, b) => a * b, 1), l.layer);
      // mean of e² over all elements is err2 / ref2 = relativeError², and each e lies in its bin
      const rel2 = l.vsFloat[0].relativeError! ** 2;
      const sq = (k: number) => [h.edges[k] ** 2, h.edges[k + 1] ** 2];
      const lower = (h.counts.reduce((a, c, k) => a + c * (h.edges[k] * h.edges[k + 1] > 0 ? Math.min(...sq(k)) : 0), 0) + (h.below + h.above) * h.edges[0] ** 2) / elements;
      assert.ok(lower <= rel2 * (1 + 1e-9), `${l.layer}: ${lower} > ${rel2}`);
      if (h.below + h.above === 0) {
        const upper = h.counts.reduce((a, c, k) => a + c * Math.max(...sq(k)), 0) / elements;
        assert.ok(rel2 <= upper * (1 + 1e-9), `${l.layer}: ${rel2} > ${upper}`);
      }
      assert.ok(h.counts.filter((c) => c > 0).length >= 3, `${l.layer}: the error spreads over bins`);
    }
  });
});
