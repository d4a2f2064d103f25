// NCHW (ONNX) <-> NHWC (Tandem IR) weight rearrangements. Pure index permutations, so values stay
// bit-identical both ways. Shared by the ONNX importer and exporter.

/** Generic N-D transpose of a row-major array: out dims = dims permuted by perm. */
export function transpose(data: Float32Array, dims: readonly number[], perm: readonly number[]): Float32Array {
  const r = dims.length;
  const outDims = perm.map((p) => dims[p]);
  const inStrides = new Array<number>(r);
  for (let i = r - 1, s = 1; i >= 0; s *= dims[i], i--) inStrides[i] = s;
  const strideOf = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < r; i++) src += idx[i] * strideOf[i];
    out[o] = data[src];
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < outDims[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** ONNX Conv weight [O, I, kh, kw] -> IR kernel [kh, kw, I, O]. */
export const oihwToHwio = (w: Float32Array, [o, i, h, k]: readonly number[]) => transpose(w, [o, i, h, k], [2, 3, 1, 0]);
/** IR kernel [kh, kw, I, O] -> ONNX Conv weight [O, I, kh, kw]. */
export const hwioToOihw = (w: Float32Array, [h, k, i, o]: readonly number[]) => transpose(w, [h, k, i, o], [3, 2, 0, 1]);

/**
 * Depthwise: ONNX weight [C*M, 1, kh, kw] (output channel c*M + m) <-> IR kernel [kh, kw, C, M].
 * Viewed as [C, M, kh, kw] the permutation is a plain transpose.
 */
export const onnxDepthwiseToIr = (w: Float32Array, c: number, m: number, kh: number, kw: number) => transpose(w, [c, m, kh, kw], [2, 3, 0, 1]);
export const irDepthwiseToOnnx = (w: Float32Array, kh: number, kw: number, c: number, m: number) => transpose(w, [kh, kw, c, m], [2, 3, 0, 1]);

/**
 * Dense rows after a flatten: ONNX flattens NCHW in (c, h, w) order, the IR flattens NHWC in (h, w, c)
 * order. chwRowsToHwc reorders kernel rows [C*H*W, units] so the IR dense sees the same features.
 */
export const chwRowsToHwc = (k: Float32Array, [h, w, c]: readonly number[], units: number) => transpose(k, [c, h, w, units], [1, 2, 0, 3]);
export const hwcRowsToChw = (k: Float32Array, [h, w, c]: readonly number[], units: number) => transpose(k, [h, w, c, units], [2, 0, 1, 3]);
