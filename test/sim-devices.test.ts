// Device and converter non-idealities (sim/devices): statistical known-answer checks, seeded.
//
// Tolerances: sample statistics are checked against their formulas with margins of several standard
// errors of the estimator at the sample size used (stated per check), so a correct model fails with
// negligible probability and a wrong coefficient (≥ a few %) fails for certain.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../compiler/util/rng.js';
import type { CrossbarSpec, DeviceSpec, DriftSpec } from '../sim/spec/types.js';
import {
  adcCode,
  adcConvert,
  adcStep,
  addReadNoise,
  AIHWKIT_PCM_PROG_COEFFICIENTS_US,
  applyDrift,
  convertInPlace,
  dacDigitPlanes,
  dacDigits,
  fillCategories,
  fillNormal,
  fillUniform,
  globalDriftFactor,
  pcmDriftNuMoments,
  pcmReadQs,
  perColumnDriftFactors,
  programConductances,
  programmingNoiseStdUs,
  readNoiseStdUs,
  sampleDriftNu,
  STUCK_NONE,
  STUCK_OFF,
  STUCK_ON,
  type AdcTransfer,
} from '../sim/devices/index.js';

const XBAR: CrossbarSpec = { rows: 256, cols: 256, cellBits: 2, gMinUs: 0.5, gMaxUs: 25, readVoltageV: 0.2, rowWireResistanceOhm: 1, colWireResistanceOhm: 1, inputDrive: 'voltage' };
const IDEAL: DeviceSpec = {
  programmingNoise: { model: 'none' },
  readNoise: { model: 'none' },
  drift: { model: 'none' },
  driftCompensation: false,
  stuckOnRate: 0,
  stuckOffRate: 0,
};

function stats(a: ArrayLike<number>, sub?: ArrayLike<number>): { mean: number; std: number } {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i] - (sub ? sub[i] : 0);
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - (sub ? sub[i] : 0) - m;
    v += d * d;
  }
  return { mean: m, std: Math.sqrt(v / (a.length - 1)) };
}

function median(a: ArrayLike<number>): number {
  const s = Float64Array.from(a).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

const close = (actual: number, expected: number, relTol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= relTol * Math.abs(expected), `${what}: ${actual} vs ${expected} (rel tol ${relTol})`);

describe('random fills', () => {
  it('fillNormal: moments and CDF of 2M samples match N(0,1); seeded and reproducible', (t) => {
    const n = 2_000_000;
    const z = new Float32Array(n);
    const t0 = performance.now();
    fillNormal(z, new Rng(1));
    const dt = performance.now() - t0;
    t.diagnostic(`fillNormal: ${(n / dt / 1e3).toFixed(1)} M normals/s (cold, in-test)`);
    const { mean, std } = stats(z);
    // standard errors: mean 1/√n = 7e-4, std 1/√(2n) = 5e-4; 5 SE margins
    assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
    assert.ok(Math.abs(std - 1) < 5 / Math.sqrt(2 * n), `std ${std}`);
    // CDF at several points, including the Ziggurat tail (|z| > 3.44): binomial 5 SE
    for (const x of [-3.6, -2.5, -1, -0.3, 0, 0.7, 1.5, 3, 3.6]) {
      let c = 0;
      for (let i = 0; i < n; i++) if (z[i] <= x) c++;
      const p = phi(x);
      assert.ok(Math.abs(c / n - p) < 5 * Math.sqrt((p * (1 - p)) / n) + 1e-7, `P(z <= ${x}) = ${c / n}, expected ${p}`);
    }
    // mean/std arguments, reproducibility, independence of successive streams
    const a = fillNormal(new Float64Array(1000), 42, 3, 0.5);
    const b = fillNormal(new Float64Array(1000), 42, 3, 0.5);
    assert.deepEqual(a, b);
    const s = stats(a);
    assert.ok(Math.abs(s.mean - 3) < 0.1 && Math.abs(s.std - 0.5) < 0.05, `N(3, 0.5²): ${s.mean}, ${s.std}`);
    const rng = new Rng(7);
    const c1 = fillNormal(new Float32Array(1000), rng);
    const c2 = fillNormal(new Float32Array(1000), rng);
    assert.notDeepEqual(c1, c2);
    assert.deepEqual(fillNormal(new Float32Array(1000), new Rng(7)), c1);
  });

  it('fillUniform and fillCategories follow their distributions', () => {
    const n = 1_000_000;
    const u = fillUniform(new Float64Array(n), 3, -2, 6);
    const s = stats(u);
    assert.ok(Math.abs(s.mean - 2) < 5 * (8 / Math.sqrt(12 * n)), `uniform mean ${s.mean}`);
    close(s.std, 8 / Math.sqrt(12), 0.005, 'uniform std');
    const c = fillCategories(new Uint8Array(n), 4, 0.1, 0.25);
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[c[i]]++;
    for (const [k, p] of [[1, 0.1], [2, 0.25], [0, 0.65]] as const) {
      assert.ok(Math.abs(counts[k] / n - p) < 4 * Math.sqrt((p * (1 - p)) / n), `category ${k}: ${counts[k] / n} vs ${p}`);
    }
  });
});

describe('programming', () => {
  it('gaussian programming noise: std = stdFractionOfRange·(Gmax − Gmin) within 5%, unbiased', () => {
    const n = 200_000;
    const target = new Float32Array(n).fill(12.5);
    const devices: DeviceSpec = { ...IDEAL, programmingNoise: { model: 'gaussian', stdFractionOfRange: 0.02 } };
    const { gUs, stuck } = programConductances(target, XBAR, devices, new Rng(11));
    const sigma = 0.02 * (25 - 0.5);
    assert.equal(programmingNoiseStdUs(12.5, devices.programmingNoise, XBAR), sigma);
    const s = stats(gUs, target);
    close(s.std, sigma, 0.05, 'programmed std'); // SE of the std: 1/√(2n) = 0.16%
    assert.ok(Math.abs(s.mean) < 5 * (sigma / Math.sqrt(n)), `programmed mean offset ${s.mean}`);
    assert.ok(stuck.every((v) => v === STUCK_NONE));
    // same seed, same cells; another seed, other cells
    assert.deepEqual(programConductances(target, XBAR, devices, new Rng(11)).gUs, gUs);
    assert.notDeepEqual(programConductances(target, XBAR, devices, new Rng(12)).gUs, gUs);
  });

  it("pcm programming noise: std = max(c0 + c1·g + c2·g², 0)·scale at several levels within 5%; clipped at 0", () => {
    const n = 100_000;
    const coefficientsUs = AIHWKIT_PCM_PROG_COEFFICIENTS_US;
    assert.deepEqual(coefficientsUs, [0.26348, 1.965, -1.1731]);
    const noise = { model: 'pcm', coefficientsUs, scale: 1.5 } as const;
    const devices: DeviceSpec = { ...IDEAL, programmingNoise: noise };
    for (const level of [0.25, 0.5, 0.75, 1]) {
      const g0 = level * XBAR.gMaxUs;
      const expected = (0.26348 + 1.965 * level - 1.1731 * level * level) * 1.5;
      close(programmingNoiseStdUs(g0, noise, XBAR), expected, 1e-12, `pcm std formula at g = ${level}`);
      const target = new Float32Array(n).fill(g0);
      const { gUs } = programConductances(target, XBAR, devices, new Rng(100 + level * 8));
      const s = stats(gUs, target);
      close(s.std, expected, 0.05, `pcm programmed std at g = ${level}`); // SE 0.22%
      assert.ok(Math.abs(s.mean) < 5 * (expected / Math.sqrt(n)), `pcm mean offset at g = ${level}: ${s.mean}`);
    }
    // a negative polynomial gives no noise
    assert.equal(programmingNoiseStdUs(20, { model: 'pcm', coefficientsUs: [-1, 0, 0], scale: 1 }, XBAR), 0);
    // target 0: half the writes would go negative and are clipped to exactly 0
    const zeros = programConductances(new Float32Array(n), XBAR, devices, new Rng(5)).gUs;
    let atZero = 0;
    for (const v of zeros) {
      assert.ok(v >= 0);
      if (v === 0) atZero++;
    }
    assert.ok(Math.abs(atZero / n - 0.5) < 4 * Math.sqrt(0.25 / n), `clipped fraction ${atZero / n}`);
  });

  it('stuck-at rates within binomial error; stuck cells sit exactly at Gmax / Gmin and do not drift', () => {
    const n = 1_000_000;
    const pOn = 0.01;
    const pOff = 0.03;
    const target = new Float32Array(n).fill(10);
    const devices: DeviceSpec = { ...IDEAL, programmingNoise: { model: 'gaussian', stdFractionOfRange: 0.05 }, stuckOnRate: pOn, stuckOffRate: pOff };
    const { gUs, stuck } = programConductances(target, XBAR, devices, new Rng(3));
    let on = 0;
    let off = 0;
    for (let i = 0; i < n; i++) {
      if (stuck[i] === STUCK_ON) {
        on++;
        assert.equal(gUs[i], XBAR.gMaxUs);
      } else if (stuck[i] === STUCK_OFF) {
        off++;
        assert.equal(gUs[i], XBAR.gMinUs);
      }
    }
    assert.ok(Math.abs(on / n - pOn) < 4 * Math.sqrt((pOn * (1 - pOn)) / n), `stuck on ${on / n}`);
    assert.ok(Math.abs(off / n - pOff) < 4 * Math.sqrt((pOff * (1 - pOff)) / n), `stuck off ${off / n}`);
    const nu = sampleDriftNu(target, { model: 'power-law', nuMean: 0.05, nuStd: 0.01, t0S: 20 }, XBAR.gMaxUs, new Rng(4), stuck);
    const drifted = applyDrift(gUs, nu, 86400, 20);
    for (let i = 0; i < n; i++) if (stuck[i] !== STUCK_NONE) assert.equal(drifted[i], gUs[i]);
    // no noise, no faults: the targets, clipped at 0
    const exact = programConductances(Float32Array.from([3, 0, -1, 25.5]), XBAR, IDEAL, 1).gUs;
    assert.deepEqual(Array.from(exact), [3, 0, 0, 25.5]);
  });
});

describe('read noise', () => {
  it('gaussian: per-read std = stdFractionOfRange·(Gmax − Gmin) within 5%; resampled every read, reproducible by seed', () => {
    const n = 200_000;
    const g = new Float32Array(n).fill(10);
    const spec = { model: 'gaussian', stdFractionOfRange: 0.01 } as const;
    const sd = readNoiseStdUs(g, spec, XBAR, 1);
    const sigma = 0.01 * 24.5;
    close(sd[0], sigma, 1e-6, 'std');
    const rng = new Rng(21);
    const r1 = addReadNoise(g, sd, rng);
    const r2 = addReadNoise(g, sd, rng);
    close(stats(r1, g).std, sigma, 0.05, 'read std');
    close(stats(r2, g).std, sigma, 0.05, 'read std (second read)');
    let same = 0;
    for (let i = 0; i < n; i++) if (r1[i] === r2[i]) same++;
    assert.ok(same < n / 100, `two reads agree on ${same} of ${n} cells`);
    const again = new Rng(21);
    assert.deepEqual(addReadNoise(g, sd, again), r1);
    assert.deepEqual(addReadNoise(g, sd, again), r2);
    assert.ok(readNoiseStdUs(g, { model: 'none' }, XBAR, 1).every((v) => v === 0));
  });

  it('pcm 1/f: std = |G|·min(0.0088/max(g^0.65, 1e-3), 0.2)·sqrt(ln((t + tRead)/(2·tRead)))·scale, sampled within 5%', () => {
    const n = 100_000;
    const spec = { model: 'pcm', tReadS: 250e-9, scale: 1.2 } as const;
    const t = 3600 + 20;
    const k = Math.sqrt(Math.log((t + 250e-9) / (2 * 250e-9))) * 1.2;
    for (const level of [0.1, 0.5, 1]) {
      const g0 = level * XBAR.gMaxUs;
      const qs = Math.min(0.0088 / Math.max(level ** 0.65, 1e-3), 0.2);
      close(pcmReadQs(level), qs, 1e-12, `Q_s at ${level}`);
      const g = new Float32Array(n).fill(g0);
      const sd = readNoiseStdUs(g, spec, XBAR, t);
      const expected = g0 * qs * k;
      close(sd[0], expected, 1e-6, `pcm std formula at g = ${level}`);
      const r = addReadNoise(g, sd, new Rng(level * 100));
      close(stats(r, g).std, expected, 0.05, `pcm read std at g = ${level}`);
    }
    // guards: G = 0 has no noise, Q_s is capped at 0.2 for tiny G, no noise before t_read
    const tiny = Float32Array.from([0, 1e-4, 12.5]);
    const sd = readNoiseStdUs(tiny, spec, XBAR, t);
    assert.equal(sd[0], 0);
    close(sd[1], 1e-4 * 0.2 * k, 1e-5, 'capped Q_s');
    assert.ok(readNoiseStdUs(tiny, spec, XBAR, 100e-9).every((v) => v === 0));
    // Q_s from the programmed conductance, applied to the drifted one
    const prog = Float32Array.from([12.5]);
    const drifted = Float32Array.from([10]);
    close(readNoiseStdUs(drifted, spec, XBAR, t, undefined, prog)[0], 10 * pcmReadQs(0.5) * k, 1e-6, 'Q_s at the programmed G');
  });
});

describe('drift', () => {
  const times = [1, 3600, 86400, 365.25 * 86400];
  it('power law with nuStd = 0 is exact: G(t)/G0 = ((t + t0)/t0)^(−ν) at 1 s, 1 h, 1 day, 1 year', () => {
    const n = 10_000;
    const target = fillUniform(new Float32Array(n), 1, 1, 25);
    const drift: DriftSpec = { model: 'power-law', nuMean: 0.06, nuStd: 0, t0S: 20 };
    const nu = sampleDriftNu(target, drift, 25, new Rng(2));
    assert.ok(nu.every((v) => v === Math.fround(0.06)));
    for (const t of times) {
      const g = applyDrift(target, nu, t, 20);
      const expected = Math.pow((t + 20) / 20, -Math.fround(0.06));
      for (let i = 0; i < n; i++) close(g[i] / target[i], expected, 1e-6, `G(${t})/G0`);
    }
    assert.deepEqual(applyDrift(target, nu, 0, 20), target);
  });

  it('power law with spread: the median of G(t)/G0 is ((t + t0)/t0)^(−nuMean) within 1%', () => {
    const n = 100_000;
    const target = new Float32Array(n).fill(20);
    const nu = sampleDriftNu(target, { model: 'power-law', nuMean: 0.05, nuStd: 0.02, t0S: 20 }, 25, new Rng(9));
    const s = stats(nu);
    assert.ok(Math.abs(s.mean - 0.05) < 5 * (0.02 / Math.sqrt(n)) && Math.abs(s.std - 0.02) < 0.001, `ν ~ N(${s.mean}, ${s.std}²)`);
    assert.ok(nu.every((v) => v >= 0));
    const ratio = new Float64Array(n);
    for (const t of times) {
      const g = applyDrift(target, nu, t, 20);
      for (let i = 0; i < n; i++) ratio[i] = g[i] / target[i];
      close(median(ratio), Math.pow((t + 20) / 20, -0.05), 0.01, `median G(${t})/G0`);
    }
  });

  it("pcm drift coefficients follow aihwkit's conductance-dependent mean and std", () => {
    assert.deepEqual(pcmDriftNuMoments(1), { mean: 0.049, std: 0.008 });
    assert.deepEqual(pcmDriftNuMoments(1e-9), { mean: 0.1, std: 0.045 });
    const m = pcmDriftNuMoments(0.3);
    close(m.mean, Math.max(-0.0155 * Math.log(0.3) + 0.0244, 0.049), 1e-12, 'μ_ν(0.3)');
    close(m.std, -0.0125 * Math.log(0.3) - 0.0059, 1e-12, 'σ_ν(0.3)');
    const n = 100_000;
    for (const level of [0.2, 0.5, 1]) {
      const target = new Float32Array(n).fill(level * 25);
      const nu = sampleDriftNu(target, { model: 'pcm', t0S: 20 }, 25, new Rng(level * 10));
      const { mean, std } = pcmDriftNuMoments(level);
      const s = stats(nu);
      assert.ok(Math.abs(s.mean - mean) < 5 * (std / Math.sqrt(n)), `ν mean at ${level}: ${s.mean} vs ${mean}`);
      close(s.std, std, 0.03, `ν std at ${level}`);
    }
  });
});

describe('drift compensation', () => {
  // differential weights w ∈ [−1, 1] of a k×n block: |w| on one cell of the pair, the other at Gmin;
  // effective weights W = G⁺ − G⁻, read with inputs x
  const k = 64;
  const n = 16;
  const rng = new Rng(31);
  const w = fillUniform(new Float32Array(k * n), rng, -1, 1);
  const gPos = w.map((v) => 0.5 + Math.max(v, 0) * 24.5);
  const gNeg = w.map((v) => 0.5 + Math.max(-v, 0) * 24.5);
  const x = fillUniform(new Float32Array(8 * k), rng, 0, 1);
  const effective = (p: Float32Array, q: Float32Array) => p.map((v, i) => v - q[i]);
  /** y (8×n) = x (8×k)·w (k×n). */
  const outputs = (w: Float32Array) => {
    const y = new Float32Array(8 * n);
    for (let r = 0; r < 8; r++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += x[r * k + p] * w[p * n + j];
        y[r * n + j] = s;
      }
    }
    return y;
  };
  const w0 = effective(gPos, gNeg);
  const y0 = outputs(w0);
  const err = (y: Float32Array, scale = 1) => {
    let e = 0;
    for (let i = 0; i < y.length; i++) e += (scale * y[i] - y0[i]) ** 2;
    return Math.sqrt(e);
  };

  it('restores the outputs exactly (1e-6) when every device drifts with the same ν', () => {
    const drift: DriftSpec = { model: 'power-law', nuMean: 0.05, nuStd: 0, t0S: 20 };
    const t = 86400;
    const wt = effective(applyDrift(gPos, sampleDriftNu(gPos, drift, 25, 1), t, 20), applyDrift(gNeg, sampleDriftNu(gNeg, drift, 25, 2), t, 20));
    const alpha = globalDriftFactor(w0, wt);
    close(alpha, Math.pow((t + 20) / 20, Math.fround(0.05)), 1e-6, 'α');
    const yt = outputs(wt);
    let maxY = 0;
    for (const v of y0) maxY = Math.max(maxY, Math.abs(v));
    for (let i = 0; i < yt.length; i++) assert.ok(Math.abs(alpha * yt[i] - y0[i]) <= 1e-6 * maxY, `output ${i}: ${alpha * yt[i]} vs ${y0[i]}`);
    const perColumn = perColumnDriftFactors(w0, wt, n);
    for (const a of perColumn) close(a, alpha, 1e-6, 'per-column α');
    close(globalDriftFactor(w0, wt, 'ones', n), alpha, 1e-6, 'α from an all-ones read');
  });

  it('reduces the output error when ν varies between devices (power law with spread, pcm)', () => {
    for (const drift of [{ model: 'power-law', nuMean: 0.05, nuStd: 0.02, t0S: 20 }, { model: 'pcm', t0S: 20 }] as DriftSpec[]) {
      for (const t of [3600, 86400, 365.25 * 86400]) {
        const wt = effective(applyDrift(gPos, sampleDriftNu(gPos, drift, 25, 3), t, 20), applyDrift(gNeg, sampleDriftNu(gNeg, drift, 25, 4), t, 20));
        const yt = outputs(wt);
        const alpha = globalDriftFactor(w0, wt);
        assert.ok(alpha > 1, `α ${alpha}`);
        const before = err(yt);
        const after = err(yt, alpha);
        // observed ratios 0.2-0.58 (seeded); required < 0.7
        assert.ok(after < 0.7 * before, `${drift.model} at ${t} s: error ${after} compensated vs ${before}`);
      }
    }
    assert.equal(globalDriftFactor([0, 0], [0, 0]), 1);
  });
});

describe('ADC and DAC', () => {
  const ramp = (lo: number, hi: number, count: number) => {
    const v = new Float64Array(count);
    for (let i = 0; i < count; i++) v[i] = lo + ((i + 0.5) / count) * (hi - lo);
    return v;
  };

  it('quantisation error of a uniform ramp is LSB/√12 within 2% (4, 6, 8 bits, signed and unsigned)', () => {
    for (const bits of [4, 6, 8]) {
      for (const signed of [false, true]) {
        const adc: AdcTransfer = { bits, signed, fullScale: 3 };
        const step = adcStep(adc);
        const v = ramp(signed ? -3 : 0, 3, 200_000);
        const y = convertInPlace(Float64Array.from(v), adc);
        let e2 = 0;
        for (let i = 0; i < v.length; i++) e2 += (y[i] - v[i]) ** 2;
        close(Math.sqrt(e2 / v.length), step / Math.sqrt(12), 0.02, `${bits}-bit ${signed ? 'signed' : 'unsigned'} RMS error`);
      }
    }
  });

  it('saturates outside the range', () => {
    const u: AdcTransfer = { bits: 6, signed: false, fullScale: 2 };
    const s: AdcTransfer = { bits: 6, signed: true, fullScale: 2 };
    assert.equal(adcCode(5, u), 63);
    assert.equal(adcCode(-5, u), 0);
    assert.equal(adcConvert(5, u), 2);
    assert.equal(adcCode(5, s), 31);
    assert.equal(adcCode(-5, s), -31);
    close(adcConvert(-5, s), -2, 1e-15, 'signed negative full scale');
    assert.deepEqual(Array.from(convertInPlace(Float32Array.from([-1e9, 1e9]), s, 'code')), [-31, 31]);
  });

  it('a centred range converts v − center and adds the centre back; 0 stays 0 when the centre is on the step grid', () => {
    // 3-bit signed: codes −3..3; step 1 around −4: [−7, −1]
    const c: AdcTransfer = { bits: 3, signed: true, fullScale: 3, center: -4 };
    assert.deepEqual([-9, -7, -5.4, -4, -1, 0, 5].map((v) => adcConvert(v, c)), [-7, -7, -5, -4, -1, -1, -1]);
    assert.deepEqual([-9, -4, 0].map((v) => adcCode(v, c)), [-3, 0, 3]);
    // step 2 (full scale 6) around −4 = −2 steps: [−10, 2], and 0 is the level −4 + 2·2
    const g: AdcTransfer = { bits: 3, signed: true, fullScale: 6, center: -4 };
    assert.deepEqual([-11, -8.9, -3.1, 0, 0.9, 1.1, 7].map((v) => adcConvert(v, g)), [-10, -8, -4, 0, 0, 2, 2]);
    assert.deepEqual(Array.from(convertInPlace(Float64Array.from([-11, 0, 7]), g)), [-10, 0, 2]);
    assert.deepEqual(Array.from(convertInPlace(Float64Array.from([-11, 0, 7]), g, 'code')), [-3, 2, 3]);
    assert.throws(() => adcConvert(1, { bits: 3, signed: false, fullScale: 6, center: 2 }), { message: 'ADC centre 2: only a signed converter has a centred range' });
  });

  it('offset, gain error and INL shift the transfer by the expected amounts', () => {
    const base: AdcTransfer = { bits: 8, signed: false, fullScale: 255 * 0.01 };
    const step = adcStep(base);
    // offset: the k → k+1 transition moves from (k + 0.5)·step to (k + 0.5 − offset)·step
    const transition = (adc: AdcTransfer, code: number) => {
      let lo = 0;
      let hi = adc.fullScale;
      for (let it = 0; it < 60; it++) {
        const mid = (lo + hi) / 2;
        if (adcCode(mid, adc) > code) hi = mid;
        else lo = mid;
      }
      return hi;
    };
    for (const offsetLsb of [0.3, -1.25]) {
      const adc = { ...base, offsetLsb };
      for (const c of [10, 100, 200]) close(transition(adc, c), (c + 0.5 - offsetLsb) * step, 1e-9, `offset ${offsetLsb}, transition ${c}`);
    }
    // gain: transitions at (k + 0.5)·step/(1 + g); a least-squares slope of 1 + g over the range
    const gainError = 0.02;
    const gained = { ...base, gainError };
    for (const c of [10, 100, 200]) close(transition(gained, c), ((c + 0.5) * step) / (1 + gainError), 1e-9, `gain transition ${c}`);
    const v = ramp(0, 240 * step, 100_000);
    const y = convertInPlace(Float64Array.from(v), gained);
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < v.length; i++) {
      sxy += v[i] * y[i];
      sxx += v[i] * v[i];
    }
    close(sxy / sxx, 1 + gainError, 0.002, 'slope');
    // INL: over whole LSBs the mean reconstruction error is the bow inl(v) = inlLsb·step·(1 − (2u − 1)²)
    const inlLsb = 0.6;
    const bowed = { ...base, inlLsb };
    for (const centre of [0.5, 0.25, 0.05]) {
      const c0 = Math.round(centre * 255);
      const w = ramp((c0 - 4) * step, (c0 + 4) * step, 80_000);
      const yw = convertInPlace(Float64Array.from(w), bowed);
      let meanErr = 0;
      let meanBow = 0;
      for (let i = 0; i < w.length; i++) {
        meanErr += yw[i] - w[i];
        const u = w[i] / base.fullScale;
        meanBow += inlLsb * step * (1 - (2 * u - 1) ** 2);
      }
      assert.ok(Math.abs(meanErr - meanBow) / w.length < 0.01 * step, `INL near ${centre}: mean error ${meanErr / w.length} vs bow ${meanBow / w.length}`);
    }
    // zero at both ends: the end codes are unaffected
    assert.equal(adcCode(0, bowed), 0);
    assert.equal(adcCode(base.fullScale, bowed), 255);
  });

  it('is exact with step 1 and no errors; rounds ties away from zero', () => {
    for (const signed of [false, true]) {
      for (const bits of [4, 8, 12]) {
        const maxCode = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
        const adc: AdcTransfer = { bits, signed, fullScale: maxCode, offsetLsb: 0, gainError: 0, inlLsb: 0 };
        assert.equal(adcStep(adc), 1);
        const ints = new Float64Array(signed ? 2 * maxCode + 1 : maxCode + 1).map((_, i) => (signed ? i - maxCode : i));
        assert.deepEqual(convertInPlace(Float64Array.from(ints), adc), ints);
        assert.deepEqual(convertInPlace(Float32Array.from(ints), adc), Float32Array.from(ints));
        for (const v of ints) assert.equal(adcConvert(v, adc), v);
      }
    }
    const adc: AdcTransfer = { bits: 8, signed: true, fullScale: 127 };
    assert.deepEqual(
      [2.5, -2.5, 0.5, -0.5, 1.4999, -0.2].map((v) => adcCode(v, adc)),
      [3, -3, 1, -1, 1, 0],
    );
    assert.ok(Object.is(adcCode(-0.2, adc), 0), 'no negative zero');
  });

  it('dacDigits splits codes into LSB-first digits (unsigned, and two’s complement with a negative top digit)', () => {
    assert.deepEqual(dacDigits(5, 2, 8), [1, 1, 0, 0]);
    assert.deepEqual(dacDigits(255, 3, 8), [7, 7, 3]);
    assert.deepEqual(dacDigits(-1, 1, 8, true), [1, 1, 1, 1, 1, 1, 1, -1]);
    assert.deepEqual(dacDigits(-128, 3, 8, true), [0, 0, -2]);
    assert.deepEqual(dacDigits(127, 4, 8, true), [15, 7]);
    for (const signed of [false, true]) {
      for (const dacBits of [1, 2, 3, 4, 5, 8]) {
        const lo = signed ? -128 : 0;
        const count = Math.ceil(8 / dacBits);
        const topWidth = 8 - dacBits * (count - 1);
        for (let c = lo; c < lo + 256; c++) {
          const d = dacDigits(c, dacBits, 8, signed);
          assert.equal(d.length, count);
          let sum = 0;
          d.forEach((v, i) => {
            const top = i === count - 1;
            const [min, max] = signed && top ? [-(2 ** (topWidth - 1)), 2 ** (topWidth - 1) - 1] : [0, 2 ** (top ? topWidth : dacBits) - 1];
            assert.ok(v >= min && v <= max, `code ${c}, digit ${i} = ${v}`);
            sum += v * 2 ** (dacBits * i);
          });
          assert.equal(sum, c, `code ${c} with ${dacBits}-bit digits`);
        }
      }
    }
    assert.throws(() => dacDigits(256, 1, 8), RangeError);
    assert.throws(() => dacDigits(-129, 1, 8, true), RangeError);
    const planes = dacDigitPlanes([3, -2, 0], 1, 4, true);
    assert.deepEqual(planes.map((p) => Array.from(p)), [[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, -1, 0]]);
  });
});
