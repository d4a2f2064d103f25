// The data module: IDX files, Fashion-MNIST, splits, batches, denoising noise, and quality metrics.
export * from './errors.js';
export * from './idx.js';
export * from './images.js';
export * from './fashion-mnist.js';
export * from './split.js';
export * from './batches.js';
export * from './noise.js';
export * from './metrics.js';
export { FetchError } from './download.js';
export * from './datasets.js';
