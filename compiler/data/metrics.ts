// Quality metrics: classification accuracy, and PSNR / SSIM for the denoising model (data range 1.0).

export type Floats = Float32Array | Float64Array;

/** A batch of single-channel images, NHWC [n, height, width, 1]. */
export interface ImageBatchShape {
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly channels?: number;
}

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

function imageSize(a: Floats, b: Floats, s: ImageBatchShape): number {
  if ((s.channels ?? 1) !== 1) throw new RangeError(`expected single-channel images, got ${s.channels} channels`);
  const size = s.height * s.width;
  if (a.length !== s.n * size || b.length !== s.n * size) {
    throw new RangeError(`images hold ${a.length} and ${b.length} values, shape ${s.n}×${s.height}×${s.width}×1 needs ${s.n * size}`);
  }
  return size;
}

/** Index of the largest of row `row` of a [rows, width] matrix; the first one on ties. */
export function argmax(m: ArrayLike<number>, row: number, width: number): number {
  let best = 0;
  let bestV = m[row * width];
  for (let k = 1; k < width; k++) {
    const v = m[row * width + k];
    if (v > bestV) {
      best = k;
      bestV = v;
    }
  }
  return best;
}

/** Fraction of rows of `scores` [n, numClasses] whose argmax equals the label. */
export function accuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number {
  const n = labels.length;
  if (scores.length !== n * numClasses) throw new RangeError(`scores hold ${scores.length} values, need ${n}×${numClasses}`);
  if (n === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < n; i++) if (argmax(scores, i, numClasses) === labels[i]) correct++;
  return correct / n;
}

export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b, 'mse');
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s / a.length;
}

/** 10·log10(R² / MSE) dB; Infinity for identical signals. */
export function psnrFromMse(m: number, dataRange = 1): number {
  return 10 * Math.log10((dataRange * dataRange) / m);
}

/** PSNR treating the arrays as one signal. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, dataRange = 1): number {
  return psnrFromMse(mse(a, b), dataRange);
}

/** Mean over images of per-image PSNR (how denoising papers report it). */
export function meanPsnr(a: Floats, b: Floats, shape: ImageBatchShape, dataRange = 1): number {
  const size = imageSize(a, b, shape);
  let s = 0;
  for (let i = 0; i < shape.n; i++) s += psnr(a.subarray(i * size, (i + 1) * size), b.subarray(i * size, (i + 1) * size), dataRange);
  return s / shape.n;
}

/**
 * SSIM constants of Wang et al. 2004: an 11×11 Gaussian window, σ = 1.5, normalised to sum 1;
 * K1 = 0.01, K2 = 0.03; L = the data range.
 */
export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
const K1 = 0.01;
const K2 = 0.03;

function gaussian1d(size: number, sigma: number): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let k = 0; k < size; k++) {
    g[k] = Math.exp(-((k - c) * (k - c)) / (2 * sigma * sigma));
    sum += g[k];
  }
  return g.map((v) => v / sum);
}

const WINDOW = gaussian1d(SSIM_WINDOW, SSIM_SIGMA);

/**
 * Mean SSIM of one height×width image pair. Boundary: 'valid' — only window positions that lie fully
 * inside the image, (H-10)×(W-10) of them (18×18 for 28×28), like Wang et al.'s MATLAB ssim_index
 * (filter2 'valid') and equal to skimage's structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=1), which filters with reflection and then crops 5 pixels.
 * Local variances are the window-weighted population ones.
 */
export function ssim(a: Floats, b: Floats, height: number, width: number, dataRange = 1): number {
  if (a.length !== height * width || b.length !== height * width) {
    throw new RangeError(`ssim: images hold ${a.length} and ${b.length} values, ${height}×${width} needs ${height * width}`);
  }
  if (height < SSIM_WINDOW || width < SSIM_WINDOW) {
    throw new RangeError(`ssim: ${height}×${width} is smaller than the ${SSIM_WINDOW}×${SSIM_WINDOW} window`);
  }
  const c1 = (K1 * dataRange) ** 2;
  const c2 = (K2 * dataRange) ** 2;
  const wo = width - SSIM_WINDOW + 1;
  const ho = height - SSIM_WINDOW + 1;
  // Separable filtering: rows first into [height, wo] sums of x, y, x², y², xy; then columns.
  const rows = new Float64Array(5 * height * wo);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < wo; c++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let k = 0; k < SSIM_WINDOW; k++) {
        const w = WINDOW[k];
        const x = a[r * width + c + k];
        const y = b[r * width + c + k];
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        syy += w * y * y;
        sxy += w * x * y;
      }
      const o = 5 * (r * wo + c);
      rows[o] = sx;
      rows[o + 1] = sy;
      rows[o + 2] = sxx;
      rows[o + 3] = syy;
      rows[o + 4] = sxy;
    }
  }
  let total = 0;
  for (let r = 0; r < ho; r++) {
    for (let c = 0; c < wo; c++) {
      let mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
      for (let k = 0; k < SSIM_WINDOW; k++) {
        const w = WINDOW[k];
        const o = 5 * ((r + k) * wo + c);
        mx += w * rows[o];
        my += w * rows[o + 1];
        exx += w * rows[o + 2];
        eyy += w * rows[o + 3];
        exy += w * rows[o + 4];
      }
      const vx = exx - mx * mx;
      const vy = eyy - my * my;
      const cxy = exy - mx * my;
      total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
  }
  return total / (ho * wo);
}

/** Mean over images of per-image SSIM. */
export function meanSsim(a: Floats, b: Floats, shape: ImageBatchShape, dataRange = 1): number {
  const size = imageSize(a, b, shape);
  let s = 0;
  for (let i = 0; i < shape.n; i++) {
    s += ssim(a.subarray(i * size, (i + 1) * size), b.subarray(i * size, (i + 1) * size), shape.height, shape.width, dataRange);
  }
  return s / shape.n;
}
