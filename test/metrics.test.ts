// Metrics against known answers, an independent direct SSIM, and values from a scipy/skimage-style SSIM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accuracy, meanPsnr, meanSsim, psnr, ssim } from '../compiler/data/metrics.js';
import { Rng } from '../compiler/util/rng.js';

const close = (actual: number, expected: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} vs ${expected} (tol ${tol})`);

function random(n: number, seed: number): Float64Array {
  const r = new Rng(seed);
  return Float64Array.from({ length: n }, () => r.next());
}

/** Direct SSIM: 2D 11×11 Gaussian window summed at every fully-inside position, no separability. */
function ssimDirect(x: Float64Array, y: Float64Array, h: number, w: number): number {
  const g: number[][] = [];
  let sum = 0;
  for (let i = 0; i < 11; i++) {
    g.push([]);
    for (let j = 0; j < 11; j++) {
      const v = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * 1.5 * 1.5));
      g[i].push(v);
      sum += v;
    }
  }
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let total = 0;
  let count = 0;
  for (let r = 0; r + 11 <= h; r++) {
    for (let c = 0; c + 11 <= w; c++) {
      let mx = 0, my = 0;
      for (let i = 0; i < 11; i++) for (let j = 0; j < 11; j++) {
        mx += (g[i][j] / sum) * x[(r + i) * w + c + j];
        my += (g[i][j] / sum) * y[(r + i) * w + c + j];
      }
      let vx = 0, vy = 0, cxy = 0;
      for (let i = 0; i < 11; i++) for (let j = 0; j < 11; j++) {
        const dx = x[(r + i) * w + c + j] - mx;
        const dy = y[(r + i) * w + c + j] - my;
        vx += (g[i][j] / sum) * dx * dx;
        vy += (g[i][j] / sum) * dy * dy;
        cxy += (g[i][j] / sum) * dx * dy;
      }
      total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

describe('accuracy', () => {
  it('takes the argmax per row, first index on ties', () => {
    const scores = Float32Array.from([0.1, 0.7, 0.2, /**/ 0.5, 0.5, 0, /**/ 0, 0, 1, /**/ 3, 2, 1]);
    assert.equal(accuracy(scores, Uint8Array.from([1, 0, 1, 0]), 3), 0.75);
    assert.equal(accuracy(scores, Uint8Array.from([1, 1, 2, 0]), 3), 0.75);
  });
  it('rejects a score matrix of the wrong size', () => {
    assert.throws(() => accuracy(new Float32Array(5), new Uint8Array(2), 3), { message: 'scores hold 5 values, need 2×3' });
  });
});

describe('PSNR', () => {
  it('is 10·log10(1/MSE) for data range 1', () => {
    const a = new Float32Array(100);
    const b = new Float32Array(100).fill(0.1);
    close(psnr(a, b), 20, 1e-6, 'MSE 0.01'); // 0.1 is not exact in float32
    close(psnr(Float64Array.from([0, 0, 0, 0]), Float64Array.from([0.5, -0.5, 0.5, -0.5])), 10 * Math.log10(4), 1e-12);
    assert.equal(psnr(a, a), Infinity);
  });
  it('averages per-image PSNR over a batch', () => {
    const a = new Float64Array(2 * 16);
    const b = new Float64Array(2 * 16);
    b.fill(0.1, 0, 16); // MSE 0.01 -> 20 dB
    b.fill(0.01, 16); //  MSE 1e-4 -> 40 dB
    close(meanPsnr(a, b, { n: 2, height: 4, width: 4 }), 30, 1e-9);
  });
});

describe('SSIM', () => {
  it('is 1 for identical images', () => {
    const x = random(28 * 28, 1);
    close(ssim(x, x, 28, 28), 1, 1e-12);
  });

  it('is (2μxμy + C1)/(μx² + μy² + C1) for two constant images', () => {
    const c1 = 0.01 ** 2;
    const x = new Float64Array(28 * 28).fill(0.3);
    const y = new Float64Array(28 * 28).fill(0.6);
    close(ssim(x, y, 28, 28), (2 * 0.3 * 0.6 + c1) / (0.3 ** 2 + 0.6 ** 2 + c1), 1e-12);
  });

  it('matches a direct 2D-window implementation on random images', () => {
    for (const [h, w, seed] of [[28, 28, 2], [13, 20, 3], [11, 11, 4]]) {
      const x = random(h * w, seed);
      const noise = random(h * w, seed + 100);
      const y = x.map((v, i) => v + 0.2 * (noise[i] - 0.5));
      close(ssim(x, y, h, w), ssimDirect(x, y, h, w), 1e-6, `${h}×${w}`);
    }
  });

  it('matches skimage-style SSIM (Gaussian filter with reflection, cropped by 5) on fixed images', () => {
    // Reference values from scipy.ndimage.gaussian_filter(sigma=1.5, truncate=3.5, mode='reflect'),
    // cropped [5:-5, 5:-5], C1 = 0.01², C2 = 0.03², i.e. skimage structural_similarity with
    // gaussian_weights=True, use_sample_covariance=False, data_range=1.
    const x = new Float64Array(28 * 28);
    const y = new Float64Array(28 * 28);
    const z = new Float64Array(28 * 28);
    for (let i = 0; i < 28; i++) for (let j = 0; j < 28; j++) {
      x[i * 28 + j] = ((i * 7 + j * 13) % 29) / 28;
      y[i * 28 + j] = ((i * i + 3 * j) % 31) / 30;
      z[i * 28 + j] = Math.min(1, Math.max(0, x[i * 28 + j] + 0.1 * Math.sin(i * 1.3 + j * 0.7)));
    }
    close(ssim(x, y, 28, 28), -0.07907795047447826, 1e-9, 'x,y');
    close(ssim(x, z, 28, 28), 0.9742515316725844, 1e-9, 'x,z');
    close(psnr(x, y), 7.345339080033519, 1e-9, 'psnr x,y');
  });

  it('averages per-image SSIM over a batch and accepts float32', () => {
    const x = Float32Array.from(random(3 * 28 * 28, 5));
    const y = Float32Array.from(random(3 * 28 * 28, 6));
    const per = [0, 1, 2].map((i) => ssim(x.subarray(i * 784, (i + 1) * 784), y.subarray(i * 784, (i + 1) * 784), 28, 28));
    close(meanSsim(x, y, { n: 3, height: 28, width: 28, channels: 1 }), (per[0] + per[1] + per[2]) / 3, 1e-15);
  });

  it('rejects images smaller than the window and mismatched shapes', () => {
    assert.throws(() => ssim(new Float64Array(100), new Float64Array(100), 10, 10), { message: 'ssim: 10×10 is smaller than the 11×11 window' });
    assert.throws(() => meanSsim(new Float64Array(784), new Float64Array(784), { n: 1, height: 28, width: 28, channels: 3 }), {
      message: 'expected single-channel images, got 3 channels',
    });
    assert.throws(() => meanPsnr(new Float64Array(784), new Float64Array(783), { n: 1, height: 28, width: 28 }), {
      message: 'images hold 784 and 783 values, shape 1×28×28×1 needs 784',
    });
  });
});
