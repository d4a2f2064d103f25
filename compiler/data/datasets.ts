// Fashion-MNIST subsets as the trainer's Dataset: classification (class ids) and denoising
// (noisy input, clean target; noise fixed per sample by seed so every run sees the same data).
import type { Dataset } from '../train/dataset.js';
import { Rng } from '../util/rng.js';
import { mixSeed } from '../util/rng.js';
import { imageSize, imagesToFloat } from './images.js';
import { DNCNN_SIGMA } from './noise.js';
import type { Subset } from './split.js';

export function classificationSet(s: Subset): Dataset {
  const d = s.data;
  return {
    size: s.indices.length,
    inputShape: [d.height, d.width, d.channels],
    targetSize: 1,
    fill(indices, x, y) {
      const rows = Array.from(indices, (i) => s.indices[i]);
      imagesToFloat(d, rows, x);
      rows.forEach((r, k) => (y[k] = d.labels[r]));
    },
  };
}

export function denoisingSet(s: Subset, opts: { seed: number; sigma?: number }): Dataset {
  const d = s.data;
  const per = imageSize(d);
  const sigma = opts.sigma ?? DNCNN_SIGMA;
  return {
    size: s.indices.length,
    inputShape: [d.height, d.width, d.channels],
    targetSize: per,
    fill(indices, x, y) {
      const rows = Array.from(indices, (i) => s.indices[i]);
      imagesToFloat(d, rows, y);
      rows.forEach((r, k) => {
        const rng = new Rng(mixSeed(opts.seed, r));
        for (let p = k * per, e = p + per; p < e; p++) x[p] = y[p] + sigma * rng.normal();
      });
    },
  };
}
