// Known-answer tests of the simulator's matrix kernels (sim/kernels): gemmI16 bit-exact against a naive
// integer triple loop (ragged edges, k = 1, odd k, k across several k-blocks, the extreme values of the
// documented range, accumulate mode, zero sizes), gemmF32 against a float64 triple loop, one thread vs
// two and the JS fallback vs the SIMD path bit for bit.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import {
  gemmF32, gemmI16, setSimKernelThreads, simKernelBackend, simKernelFma, simKernelSplits, simKernelThreads, simKernelTiling, useSimKernelBackend,
} from '../sim/kernels/index.js';
import { Rng } from '../compiler/util/rng.js';

/** Uniform integers in [lo, hi]. */
function ints(rng: Rng, n: number, lo: number, hi: number): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + rng.int(hi - lo + 1);
  return a;
}

function naiveI16(m: number, k: number, n: number, a: Int16Array, b: Int16Array, c0?: Int32Array): Int32Array {
  const c = c0 ? Int32Array.from(c0.subarray(0, m * n)) : new Int32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = c[i * n + j];
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s; // exact in a double for these ranges; the store wraps like int32
    }
  }
  return c;
}

/** float64 reference and Σ|a||b| per element (the scale of the float32 rounding error). */
function naiveF64(m: number, k: number, n: number, a: Float32Array, b: Float32Array, c0?: Float32Array): { c: Float64Array; abs: Float64Array } {
  const c = new Float64Array(m * n);
  const abs = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = c0 ? c0[i * n + j] : 0;
      let t = Math.abs(s);
      for (let p = 0; p < k; p++) {
        const x = a[i * k + p] * b[p * n + j];
        s += x;
        t += Math.abs(x);
      }
      c[i * n + j] = s;
      abs[i * n + j] = t;
    }
  }
  return { c, abs };
}

/** max over elements of |c - ref| / Σ|a||b| (0/0 counts as 0). */
function relErr(c: Float32Array, ref: { c: Float64Array; abs: Float64Array }): number {
  let e = 0;
  for (let i = 0; i < ref.c.length; i++) {
    const d = Math.abs(c[i] - ref.c[i]);
    if (d > 0) e = Math.max(e, d / ref.abs[i]);
  }
  return e;
}

function firstDiff(x: ArrayLike<number>, y: ArrayLike<number>): string {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `element ${i}: ${x[i]} vs ${y[i]}`;
  return x.length === y.length ? 'equal' : `lengths ${x.length} vs ${y.length}`;
}

// Ragged shapes around the tile sizes (MR, NR, 2·MR...), k = 1, odd k, k across k-blocks (the f32
// k-block is tiling.f32.kc values, the i16 one 2·tiling.i16.kc), m = 1, n = 1, and simulator-like ones.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 1], [3, 1, 5], [1, 300, 37], [37, 300, 1], [5, 9, 17], [7, 27, 33], [17, 72, 31],
  [64, 64, 64], [65, 129, 47], [130, 9, 32], [31, 513, 50], [9, 1153, 23], [66, 1025, 40], [200, 128, 96],
];

describe('sim kernels: gemmI16 (exact int16 × int16 → int32)', () => {
  it('runs the WebAssembly SIMD kernels on Node 20', () => {
    assert.equal(simKernelBackend(), 'wasm');
  });

  it('matches a naive integer triple loop bit for bit on ragged and edge shapes', () => {
    const rng = new Rng(11);
    for (const [m, k, n] of SHAPES) {
      const a = ints(rng, m * k, -255, 255);
      const b = ints(rng, k * n, -127, 127);
      const c = new Int32Array(m * n).fill(12345);
      gemmI16(m, k, n, a, b, c);
      const ref = naiveI16(m, k, n, a, b);
      assert.deepEqual(c, ref, `${m}×${k}×${n}: ${firstDiff(c, ref)}`);
    }
  });

  it('is exact at the extremes of the documented range (k · 255 · 127 < 2³¹ up to k = 65536)', () => {
    for (const [sa, sb] of [[-255, -127], [-255, 127], [255, 127], [255, -127]] as const) {
      for (const [m, k, n] of [[5, 4608, 19], [2, 65536, 9]] as const) {
        const a = new Int16Array(m * k).fill(sa);
        const b = new Int16Array(k * n).fill(sb);
        const c = new Int32Array(m * n);
        gemmI16(m, k, n, a, b, c);
        assert.ok(c.every((v) => v === k * sa * sb), `${sa}·${sb}, k = ${k}: ${c[0]} vs ${k * sa * sb}`);
      }
    }
    // mixed extremes
    const rng = new Rng(12);
    const [m, k, n] = [33, 4099, 21];
    const a = Int16Array.from({ length: m * k }, () => (rng.next() < 0.5 ? -255 : 255));
    const b = Int16Array.from({ length: k * n }, () => (rng.next() < 0.5 ? -127 : 127));
    const c = new Int32Array(m * n);
    gemmI16(m, k, n, a, b, c);
    assert.deepEqual(c, naiveI16(m, k, n, a, b));
  });

  it('accumulates into C when asked', () => {
    const rng = new Rng(13);
    for (const [m, k, n] of [[37, 301, 45], [6, 5, 7], [128, 128, 128]] as const) {
      const a = ints(rng, m * k, -15, 15);
      const b = ints(rng, k * n, -127, 127);
      const c0 = Int32Array.from({ length: m * n }, () => rng.int(2_000_001) - 1_000_000);
      const c = Int32Array.from(c0);
      gemmI16(m, k, n, a, b, c, true);
      assert.deepEqual(c, naiveI16(m, k, n, a, b, c0), `${m}×${k}×${n}`);
    }
  });

  it('handles zero sizes: k = 0 gives zeros (or leaves C when accumulating), m or n = 0 writes nothing', () => {
    const c = new Int32Array(6).fill(7);
    gemmI16(2, 0, 3, new Int16Array(0), new Int16Array(0), c, true);
    assert.deepEqual([...c], [7, 7, 7, 7, 7, 7]);
    gemmI16(2, 0, 3, new Int16Array(0), new Int16Array(0), c);
    assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
    c.fill(7);
    gemmI16(0, 5, 3, new Int16Array(0), new Int16Array(15), c);
    gemmI16(2, 5, 0, new Int16Array(10), new Int16Array(0), c);
    assert.deepEqual([...c], [7, 7, 7, 7, 7, 7]);
  });

  it('rejects operands shorter than the shape and non-integer sizes', () => {
    assert.throws(() => gemmI16(2, 3, 4, new Int16Array(5), new Int16Array(12), new Int32Array(8)), /a has 5 values/);
    assert.throws(() => gemmI16(2, 3, 4, new Int16Array(6), new Int16Array(11), new Int32Array(8)), /b has 11 values/);
    assert.throws(() => gemmI16(2, 3, 4, new Int16Array(6), new Int16Array(12), new Int32Array(7)), /c has 7 values/);
    assert.throws(() => gemmI16(1.5, 3, 4, new Int16Array(6), new Int16Array(12), new Int32Array(8)), /m = 1.5/);
  });
});

describe('sim kernels: gemmF32', () => {
  it('matches a float64 triple loop within float32 rounding (digits 0..15 × conductances, and signed data)', () => {
    const rng = new Rng(21);
    for (const [m, k, n] of [...SHAPES, [100, 4608, 24]] as [number, number, number][]) {
      // the simulator's operands: input digits 0..15 and positive conductances
      const a = Float32Array.from({ length: m * k }, () => rng.int(16));
      const b = Float32Array.from({ length: k * n }, () => rng.uniform(1e-6, 1e-4));
      const c = new Float32Array(m * n).fill(NaN);
      gemmF32(m, k, n, a, b, c);
      const ref = naiveF64(m, k, n, a, b);
      assert.ok(relErr(c, ref) <= 1e-5, `digits ${m}×${k}×${n}: ${relErr(c, ref)}`);
      // all terms positive: the elementwise relative error itself
      for (let i = 0; i < m * n; i++) {
        if (ref.c[i] !== 0) assert.ok(Math.abs(c[i] - ref.c[i]) <= 1e-5 * ref.c[i], `digits ${m}×${k}×${n} element ${i}: ${c[i]} vs ${ref.c[i]}`);
        else assert.equal(c[i], 0);
      }
      const s = Float32Array.from({ length: m * k }, () => rng.normal());
      const t = Float32Array.from({ length: k * n }, () => rng.normal());
      gemmF32(m, k, n, s, t, c);
      const refS = naiveF64(m, k, n, s, t);
      assert.ok(relErr(c, refS) <= 1e-5, `signed ${m}×${k}×${n}: ${relErr(c, refS)}`);
    }
  });

  it('accumulates into C when asked', () => {
    const rng = new Rng(22);
    for (const [m, k, n] of [[37, 301, 45], [6, 5, 7], [128, 700, 128]] as const) {
      const a = Float32Array.from({ length: m * k }, () => rng.int(16));
      const b = Float32Array.from({ length: k * n }, () => rng.normal());
      const c0 = Float32Array.from({ length: m * n }, () => 10 * rng.normal());
      const c = Float32Array.from(c0);
      gemmF32(m, k, n, a, b, c, true);
      const ref = naiveF64(m, k, n, a, b, c0);
      assert.ok(relErr(c, ref) <= 1e-5, `${m}×${k}×${n}: ${relErr(c, ref)}`);
    }
  });

  it('handles zero sizes and reads only the first m·k, k·n values of longer arrays', () => {
    const c = new Float32Array(6).fill(7);
    gemmF32(2, 0, 3, new Float32Array(0), new Float32Array(0), c, true);
    assert.deepEqual([...c], [7, 7, 7, 7, 7, 7]);
    gemmF32(2, 0, 3, new Float32Array(0), new Float32Array(0), c);
    assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
    const rng = new Rng(23);
    const [m, k, n] = [50, 70, 30];
    const a = Float32Array.from({ length: m * k + 13 }, () => rng.normal());
    const b = Float32Array.from({ length: k * n + 5 }, () => rng.normal());
    const big = new Float32Array(m * n + 4).fill(-1);
    gemmF32(m, k, n, a, b, big);
    assert.deepEqual([...big.subarray(m * n)], [-1, -1, -1, -1]);
    const exact = new Float32Array(m * n);
    gemmF32(m, k, n, a.slice(0, m * k), b.slice(0, k * n), exact);
    assert.deepEqual(big.subarray(0, m * n), exact);
  });
});

describe('sim kernels: threads and the JS fallback', () => {
  it('two threads give the same products bit for bit as one (C copied out whole, and chunk by chunk)', async () => {
    assert.equal(simKernelThreads(), availableParallelism() >= 2 && process.env.TANDEM_GEMM_THREADS !== '1' ? 2 : 1);
    const rng = new Rng(31);
    // ~91 M and ~40 M multiply-adds, split across the threads even while the other core is busy; n = 263
    // is compacted at the end, n = 256 (a multiple of the tile width) copied out chunk by chunk
    for (const [m, k, n] of [[301, 1153, 263], [517, 300, 256]] as const) {
      const af = Float32Array.from({ length: m * k }, () => rng.normal());
      const bf = Float32Array.from({ length: k * n }, () => rng.normal());
      const ai = ints(rng, m * k, -255, 255);
      const bi = ints(rng, k * n, -127, 127);
      const run = () => {
        const cf = new Float32Array(m * n);
        const ci = new Int32Array(m * n);
        gemmF32(m, k, n, af, bf, cf);
        gemmI16(m, k, n, ai, bi, ci);
        return { cf, ci };
      };
      setSimKernelThreads(2);
      // the helper thread boots in the background and takes chunks once it runs: retry until it took some
      let two = run();
      for (let attempt = 0; simKernelThreads() === 2 && attempt < 40; attempt++) {
        const before = simKernelSplits();
        two = run();
        const after = simKernelSplits();
        assert.equal(after.products - before.products, 2, 'both products were posted to two threads');
        if (after.workerChunks > before.workerChunks) break;
        assert.ok(attempt < 39, 'the helper thread never took a chunk');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      setSimKernelThreads(1);
      try {
        const one = run();
        assert.deepEqual(two.cf, one.cf, firstDiff(two.cf, one.cf));
        assert.deepEqual(two.ci, one.ci, firstDiff(two.ci, one.ci));
      } finally {
        setSimKernelThreads(2);
      }
      assert.deepEqual(two.ci, naiveI16(m, k, n, ai, bi));
      assert.ok(relErr(two.cf, naiveF64(m, k, n, af, bf)) <= 1e-5);
    }
  });

  it('the JS fallback gives the same results (bit for bit for int16, and for float32 without FMA)', () => {
    const rng = new Rng(41);
    const cases = [...SHAPES, [300, 600, 70]] as [number, number, number][];
    const data = cases.map(([m, k, n]) => ({
      m, k, n,
      af: Float32Array.from({ length: m * k }, () => rng.normal()),
      bf: Float32Array.from({ length: k * n }, () => rng.normal()),
      ai: ints(rng, m * k, -255, 255),
      bi: ints(rng, k * n, -127, 127),
      c0: Float32Array.from({ length: m * n }, () => rng.normal()),
      ci0: Int32Array.from({ length: m * n }, () => rng.int(1000) - 500),
    }));
    const run = () =>
      data.map(({ m, k, n, af, bf, ai, bi, c0, ci0 }) => {
        const cf = new Float32Array(m * n);
        const ca = Float32Array.from(c0);
        const ci = new Int32Array(m * n);
        const cia = Int32Array.from(ci0);
        gemmF32(m, k, n, af, bf, cf);
        gemmF32(m, k, n, af, bf, ca, true);
        gemmI16(m, k, n, ai, bi, ci);
        gemmI16(m, k, n, ai, bi, cia, true);
        return { cf, ca, ci, cia };
      });
    const fma = simKernelFma();
    const wasm = run();
    const tilingBefore = simKernelTiling();
    assert.equal(useSimKernelBackend('js'), 'js');
    try {
      assert.equal(simKernelTiling(), tilingBefore);
      const js = run();
      data.forEach(({ m, k, n, af, bf }, i) => {
        const label = `${m}×${k}×${n}`;
        assert.deepEqual(js[i].ci, wasm[i].ci, `${label}: ${firstDiff(js[i].ci, wasm[i].ci)}`);
        assert.deepEqual(js[i].cia, wasm[i].cia, `${label} accumulate: ${firstDiff(js[i].cia, wasm[i].cia)}`);
        if (!fma) {
          assert.deepEqual(js[i].cf, wasm[i].cf, `${label}: ${firstDiff(js[i].cf, wasm[i].cf)}`);
          assert.deepEqual(js[i].ca, wasm[i].ca, `${label} accumulate: ${firstDiff(js[i].ca, wasm[i].ca)}`);
        }
        assert.ok(relErr(js[i].cf, naiveF64(m, k, n, af, bf)) <= 1e-5, label);
      });
    } finally {
      useSimKernelBackend('auto');
    }
    assert.equal(simKernelBackend(), 'wasm');
  });
});
