// The fused bit-serial crossbar kernel (sim/kernels/bitserial.ts): exact against naive loops over vectors,
// cycles, digits, columns and rows (integer levels; identity and float64 ADCs with offset, gain error and
// INL; DACs of 1..4 bits; ragged shapes), the WebAssembly kernel bit for bit equal to the plain-JS one and
// across 1 and 2 threads, seeded reproducible read noise of the right variance, and its normal
// generator's distribution (moments, Kolmogorov-Smirnov distance, tails); the WebAssembly input quantization
// and requantization against the integer executor's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../compiler/util/rng.js';
import { adcCode, type AdcTransfer, prepareAdc } from '../sim/devices/adc.js';
import {
  bitSerialBlock, type BitSerialBlock, bitSerialInputs, bitSerialSupported, fillStandardNormals, quantizeCodes, requantizeCodes, setSimKernelThreads, simKernelSplits, useBitSerialBackend,
} from '../sim/kernels/index.js';
import { quantizeMultiplier } from '../compiler/passes/quantize/fixed-point.js';
import { quantizeInput, requantize } from '../compiler/passes/quantize/int8-executor.js';

/** Φ(x) to ~1e-7 (Abramowitz & Stegun 7.1.26). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

function firstDiff(x: ArrayLike<number>, y: ArrayLike<number>): string {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `element ${i}: ${x[i]} vs ${y[i]}`;
  return x.length === y.length ? 'equal' : `lengths ${x.length} vs ${y.length}`;
}

interface Case {
  u: Int16Array;
  P: number;
  K: number;
  cycles: number;
  dac: number;
  block: BitSerialBlock;
  transfers: AdcTransfer[];
}

/** A random block: u codes of `inputBits` bits, integer levels in ±(2^cellBits − 1) (or reals when `analog`). */
function makeCase(rng: Rng, o: { P: number; K: number; k0: number; rows: number; cols: number; slices: number; dac: number; inputBits: number; adc: (s: number) => AdcTransfer; analog?: boolean; noise?: 'uniform' | 'cells'; identity?: boolean; seed?: number }): Case {
  const cycles = Math.ceil(o.inputBits / o.dac);
  const u = Int16Array.from({ length: o.P * o.K }, () => rng.int(2 ** o.inputBits));
  const levels = Float32Array.from({ length: o.rows * o.slices * o.cols }, () => (o.analog ? rng.normal() * 1.5 : rng.int(7) - 3));
  const transfers = Array.from({ length: o.slices }, (_, s) => o.adc(s));
  const adc = transfers.map(prepareAdc);
  const readVariance = o.noise ? Float32Array.from(levels, () => (o.noise === 'cells' ? rng.uniform(0.001, 0.01) : 0.004)) : undefined;
  const block: BitSerialBlock = {
    k0: o.k0,
    rows: o.rows,
    cols: o.cols,
    slices: o.slices,
    levels,
    readVariance,
    uniformReadVariance: o.noise === 'uniform' ? 0.004 : undefined,
    adc,
    coef: adc.map((a, s) => 4 ** s * a.step * 1.01),
    identity: o.identity ?? false,
    seed: o.seed ?? 77,
  };
  return { u, P: o.P, K: o.K, cycles, dac: o.dac, block, transfers };
}

/** Σ_s coef_s·Σ_t 2^(t·dac)·adcCode(Y) by loops, no noise. */
function naive(c: Case): Float64Array {
  const b = c.block;
  const out = new Float64Array(c.P * b.cols);
  const mask = 2 ** c.dac - 1;
  for (let p = 0; p < c.P; p++) {
    for (let n = 0; n < b.cols; n++) {
      for (let s = 0; s < b.slices; s++) {
        let acc = 0;
        for (let t = 0; t < c.cycles; t++) {
          let y = 0;
          for (let k = 0; k < b.rows; k++) y += ((c.u[p * c.K + b.k0 + k] >> (t * c.dac)) & mask) * b.levels[(k * b.slices + s) * b.cols + n];
          acc += 2 ** (t * c.dac) * adcCode(y, c.transfers[s]);
        }
        out[p * b.cols + n] += b.coef[s] * acc;
      }
    }
  }
  return out;
}

const run = (c: Case) => bitSerialBlock(bitSerialInputs(c.u, c.P, c.K, c.cycles, c.dac), c.block);

/** Runs f with the plain-JS kernel. */
function withJs<T>(f: () => T): T {
  assert.equal(useBitSerialBackend('js'), 'js');
  try {
    return f();
  } finally {
    assert.equal(useBitSerialBackend('auto'), 'wasm');
  }
}

describe('bit-serial kernel: exact arithmetic', () => {
  const shapes = [
    // P, K, k0, rows, cols, slices, dac, inputBits
    [5, 128, 0, 128, 31, 4, 1, 8],
    [7, 300, 37, 129, 17, 3, 2, 8],
    [3, 64, 5, 59, 8, 2, 3, 8],
    [9, 40, 0, 40, 40, 2, 4, 8],
    [1, 9, 2, 7, 1, 1, 1, 5],
    [33, 256, 128, 128, 16, 4, 1, 8],
  ] as const;

  it('integer levels, an ADC that only clips: equals the naive loops exactly (wasm and JS), and clips where the sums exceed it', () => {
    const rng = new Rng(1);
    for (const [P, K, k0, rows, cols, slices, dac, inputBits] of shapes) {
      for (const bits of [14, 6]) {
        const c = makeCase(rng, { P, K, k0, rows, cols, slices, dac, inputBits, adc: () => ({ bits, signed: true, fullScale: 2 ** (bits - 1) - 1 }), identity: true });
        const ref = naive(c);
        const label = `${P}×${rows}(+${k0})×${cols}, ${slices} digits, dac ${dac}, ${bits}-bit ADC`;
        const w = run(c);
        assert.deepEqual(w, ref, `${label}: ${firstDiff(w, ref)}`);
        const js = withJs(() => run(c));
        assert.deepEqual(js, ref, `${label} (JS): ${firstDiff(js, ref)}`);
        if (bits === 6 && rows > 60) assert.ok(ref.some((v, i) => v !== naive({ ...c, transfers: c.transfers.map((t) => ({ ...t, bits: 20, fullScale: 2 ** 19 - 1 })) })[i]), `${label}: the 6-bit ADC clipped nothing`);
      }
    }
  });

  it('integer levels, float64 ADC with rounding step, offset, gain error and INL: equals adcCode in naive loops exactly', () => {
    const rng = new Rng(2);
    for (const [P, K, k0, rows, cols, slices, dac, inputBits] of shapes) {
      for (const inl of [0, 0.5]) {
        const c = makeCase(rng, { P, K, k0, rows, cols, slices, dac, inputBits, adc: (s) => ({ bits: 5 + s, signed: true, fullScale: 40 + 17.3 * s, offsetLsb: 0.2, gainError: 0.01, inlLsb: inl }) });
        const ref = naive(c);
        const label = `${P}×${rows}×${cols}, dac ${dac}, INL ${inl}`;
        const w = run(c);
        assert.deepEqual(w, ref, `${label}: ${firstDiff(w, ref)}`);
        assert.deepEqual(withJs(() => run(c)), ref, `${label} (JS)`);
      }
    }
  });

  it('refuses what it cannot do exactly: DACs over 4 bits, shift-adds beyond int32', () => {
    assert.equal(bitSerialSupported(1, 8, 2 ** 12 - 1), true);
    assert.equal(bitSerialSupported(4, 2, 2 ** 20), true);
    assert.equal(bitSerialSupported(8, 1, 15), false);
    assert.equal(bitSerialSupported(1, 8, 2 ** 24), false);
  });
});

describe('bit-serial kernel: analog levels and read noise', () => {
  const analogCases = (rng: Rng) =>
    (['uniform', 'cells', undefined] as const).flatMap((noise) =>
      [1, 2].map((dac) => makeCase(rng, { P: 67, K: 300, k0: 11, rows: 255, cols: 45, slices: 3, dac, inputBits: 8, analog: true, noise, adc: () => ({ bits: 7, signed: true, fullScale: 300, offsetLsb: -0.3, gainError: -0.02, inlLsb: 0.4 }) })),
    );

  it('WebAssembly and plain JS agree bit for bit; so do 1 and 2 threads; the seed reproduces the noise', async () => {
    const cases = analogCases(new Rng(3));
    const wasm = cases.map(run);
    const js = withJs(() => cases.map(run));
    wasm.forEach((w, i) => assert.deepEqual(js[i], w, `case ${i}: ${firstDiff(js[i], w)}`));
    // a product big enough to split: retry until the helper thread took chunks (it boots in the background)
    const big = makeCase(new Rng(4), { P: 512, K: 256, k0: 0, rows: 256, cols: 64, slices: 4, dac: 1, inputBits: 8, analog: true, noise: 'uniform', adc: () => ({ bits: 6, signed: true, fullScale: 200, inlLsb: 0.5 }) });
    let two = run(big);
    for (let attempt = 0; attempt < 40; attempt++) {
      const before = simKernelSplits();
      two = run(big);
      if (simKernelSplits().workerChunks > before.workerChunks) break;
      assert.ok(attempt < 39, 'the helper thread never took a chunk');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    setSimKernelThreads(1);
    try {
      assert.deepEqual(run(big), two, 'one thread vs two');
    } finally {
      setSimKernelThreads(2);
    }
    const again = run(big);
    assert.deepEqual(again, two, 'same seed, same noise');
    const other = run({ ...big, block: { ...big.block, seed: 78 } });
    let diff = 0;
    for (let i = 0; i < other.length; i++) if (other[i] !== two[i]) diff++;
    assert.ok(diff > 0.5 * other.length, `another seed changed only ${diff} of ${other.length} outputs`);
  });

  it('the read noise of a column sum has variance var·Σ_k d² (uniform) or Σ_k d²·var_k (per cell), within 5%', () => {
    const rng = new Rng(5);
    for (const noise of ['uniform', 'cells'] as const) {
      // the same vector 4000 times: every output sees its own noise; a fine ADC adds ~nothing
      const base = makeCase(rng, { P: 1, K: 64, k0: 0, rows: 64, cols: 3, slices: 2, dac: 2, inputBits: 8, analog: true, noise, adc: () => ({ bits: 20, signed: true, fullScale: 500 }) });
      const P = 4000;
      const u = new Int16Array(P * 64);
      for (let p = 0; p < P; p++) u.set(base.u, p * 64);
      const c = { ...base, u, P, block: { ...base.block, coef: [1, 4] } };
      const y = run(c);
      const b = c.block;
      const v0 = b.readVariance!;
      for (let n = 0; n < b.cols; n++) {
        let m = 0;
        for (let p = 0; p < P; p++) m += y[p * b.cols + n] / P;
        let v = 0;
        for (let p = 0; p < P; p++) v += (y[p * b.cols + n] - m) ** 2 / (P - 1);
        let expected = 0;
        for (let s = 0; s < b.slices; s++) {
          for (let t = 0; t < c.cycles; t++) {
            let colVar = 0;
            for (let k = 0; k < b.rows; k++) colVar += ((base.u[k] >> (2 * t)) & 3) ** 2 * v0[(k * b.slices + s) * b.cols + n];
            expected += ((4 ** t * b.coef[s]) / b.adc[s].step) ** 2 * colVar;
          }
        }
        // relative std of a sample variance of 4000 Gaussians: sqrt(2/4000) = 2.2%
        assert.ok(Math.abs(v / expected - 1) < 0.05, `${noise}, column ${n}: variance ${v} vs ${expected}`);
      }
    }
  });
});

describe('bit-serial kernel: the normal generator', () => {
  it('4M normals: mean, variance, skewness, kurtosis, Kolmogorov-Smirnov distance and tails of N(0, 1)', () => {
    const n = 4_000_000;
    const z = fillStandardNormals(new Float32Array(n), 12345);
    let m1 = 0;
    for (let i = 0; i < n; i++) m1 += z[i];
    m1 /= n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const d = z[i] - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
      max = Math.max(max, Math.abs(z[i]));
    }
    m2 /= n;
    const skew = m3 / n / m2 ** 1.5;
    const kurt = m4 / n / (m2 * m2) - 3;
    // standard errors: mean 1/√n = 5e-4, variance √(2/n) = 7e-4, skewness √(6/n) = 1.2e-3, kurtosis √(24/n) = 2.4e-3; 5 SE
    assert.ok(Math.abs(m1) < 5 / Math.sqrt(n), `mean ${m1}`);
    assert.ok(Math.abs(m2 - 1) < 5 * Math.sqrt(2 / n), `variance ${m2}`);
    assert.ok(Math.abs(skew) < 5 * Math.sqrt(6 / n), `skewness ${skew}`);
    assert.ok(Math.abs(kurt) < 5 * Math.sqrt(24 / n), `excess kurtosis ${kurt}`);
    assert.ok(max <= 6.67, `|z| up to ${max}: the float32 uniforms bound it at 6.66`);
    const sorted = Float64Array.from(z).sort();
    let ks = 0;
    for (let i = 0; i < n; i++) {
      const f = phi(sorted[i]);
      ks = Math.max(ks, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
    }
    // critical value at α = 0.001: 1.95/√n
    assert.ok(ks < 1.95 / Math.sqrt(n), `KS distance ${ks} (critical ${1.95 / Math.sqrt(n)})`);
    for (const x of [3, 4, 4.5]) {
      let c = 0;
      for (let i = 0; i < n; i++) if (Math.abs(z[i]) > x) c++;
      const p = 2 * (1 - phi(x));
      assert.ok(Math.abs(c / n - p) < 5 * Math.sqrt(p / n), `P(|z| > ${x}) = ${c / n}, expected ${p}`);
    }
  });

  it('is seeded, reproducible, the same in plain JS bit for bit, and independent across seeds', () => {
    const a = fillStandardNormals(new Float32Array(10_001), 9);
    assert.deepEqual(fillStandardNormals(new Float32Array(10_001), 9), a);
    const js = withJs(() => fillStandardNormals(new Float32Array(10_001), 9));
    assert.deepEqual(js, a, firstDiff(js, a));
    const b = fillStandardNormals(new Float32Array(10_001), 10);
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
    // correlation of independent streams: |r| < 5/√n
    assert.ok(Math.abs(dot / a.length) < 5 / Math.sqrt(a.length), `correlation ${dot / a.length}`);
    // the shorter fill is a prefix of the longer one
    assert.deepEqual(fillStandardNormals(new Float32Array(13), 9), a.subarray(0, 13));
  });
});

describe('quantizeCodes', () => {
  it("equals the integer executor's quantizeInput bit for bit: random values, rounding ties, ±0, NaN, ±Infinity, odd lengths", () => {
    const rng = new Rng(6);
    const p = { bits: 8, scale: 0.0170058, zeroPoint: -3 };
    for (const n of [1, 1023, 1024, 5001, 300_001]) {
      const x = Float32Array.from({ length: n }, () => rng.normal() * 1.5);
      // exact ties: (k + ½)·scale rounded to float32 lands on, next to and across the boundary
      for (let i = 0; i < Math.min(n, 400); i++) x[i] = Math.fround((i - 200 + 0.5) * p.scale);
      if (n > 500) x.set([0, -0, NaN, Infinity, -Infinity, 1e30, -1e30, 1e-40, -1e-40, 0.5 * p.scale, -0.5 * p.scale], 400);
      const ref = quantizeInput(x, p);
      const got = quantizeCodes(x, p);
      assert.deepEqual(got, ref, `n = ${n}: ${firstDiff(got, ref)}`);
    }
  });
});

describe('requantizeCodes', () => {
  it("equals the integer executor's requantize bit for bit: integer and real accumulators, ties, |x| past 2^21, saturation", () => {
    const rng = new Rng(7);
    for (const [rows, channels] of [[1000, 32], [37, 256], [500, 10], [300, 7]] as const) {
      const multipliers = Array.from({ length: channels }, () => quantizeMultiplier(10 ** rng.uniform(-6, -1)));
      const L = { weights: new Float64Array(0), bias: Int32Array.from({ length: channels }, () => rng.int(20001) - 10000), multipliers };
      const acc = Float64Array.from({ length: rows * channels }, (_, i) => {
        const kind = i % 7;
        if (kind === 0) return Math.round(rng.normal() * 4e6); // past 2^21 now and then
        if (kind === 1) return Math.round(rng.normal() * 3000) + 0.5; // ties
        if (kind === 2) return rng.normal() * 3000; // reals
        // exact ties of x·m0 / P: x = P/2·odd / m0 when that is an integer (rare), else near them
        return Math.round(rng.normal() * 30000);
      });
      for (const zeroPoint of [-128, 5]) {
        const pout = { bits: 8, scale: 0.05, zeroPoint };
        const ref = requantize(acc, channels, L, pout);
        const got = requantizeCodes(acc, channels, L, pout);
        assert.deepEqual(got, ref, `${rows}×${channels}, z = ${zeroPoint}: ${firstDiff(got, ref)}`);
        assert.ok(ref.some((v) => v === 127) && ref.some((v) => v === -128) && ref.some((v) => v > -128 && v < 127), 'saturates on both sides and passes values through');
      }
    }
  });
});
