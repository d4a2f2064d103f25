// Sums over a contiguous run of axes that is not the innermost, for Sum and Mean. wasm's own
// reductions first transpose the reduced axes innermost (a full copy: ~6-15 ms for a batch-norm
// statistic of [64,28,28,32]). Viewed as [P, A, B, Q] (A*B = the reduced size) the mean is an
// average pooling over the whole A x B window, which XNNPACK does in ~1 ms; a sum is that times A*B.
// (A product with a vector of ones is as fast only when XNNPACK has already packed x as weights,
// i.e. never in training.) Like wasm's own, it accumulates in float32.

import { backend_util, util } from '@tensorflow/tfjs';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { composed } from './exec.js';

/** The reduced axes (sorted) if this reduction is ours to do, else undefined. */
export function leadingReduction(x: TensorInfo, axis: number | number[] | undefined): number[] | undefined {
  if (x.dtype !== 'float32' || x.shape.length < 2) return undefined;
  const axes = util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape).sort((a, b) => a - b);
  if (axes.length === 0) return undefined;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[0] + i) return undefined;
  return axes[axes.length - 1] < x.shape.length - 1 ? axes : undefined;
}

/** sum (or mean) of x over `axes`, which leadingReduction accepted. */
export function reduceLeading(backend: KernelBackend, x: TensorInfo, axes: number[], keepDims: boolean, mean: boolean): TensorInfo {
  const shape = x.shape;
  const p = util.sizeFromShape(shape.slice(0, axes[0]));
  const r = util.sizeFromShape(shape.slice(axes[0], axes[axes.length - 1] + 1));
  const q = util.sizeFromShape(shape.slice(axes[axes.length - 1] + 1));
  const [outShape] = backend_util.computeOutAndReduceShapes(shape, axes);
  const finalShape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  const b = shape[axes[axes.length - 1]];
  const a = r / b;
  return composed(backend, (s) => {
    const avg = s.run('AvgPool', { x: s.reshape(x, [p, a, b, q]) }, { filterSize: [a, b], strides: 1, pad: 'valid', dimRoundingMode: undefined });
    const y = mean ? avg : s.run('Multiply', { a: avg, b: s.run('Fill', {}, { shape: [], value: r, dtype: 'float32' }) });
    return s.reshape(y, finalShape);
  });
}
