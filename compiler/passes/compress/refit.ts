// Data-driven refit (the first pass of Two-Pass decomposition, SEEDS §1): the last factor of a
// decomposed layer (its output 1×1 conv or dense, with the bias) is solved by ridge least squares so
// the layer reproduces the ORIGINAL network's output of that layer on calibration images, given the
// compressed network's own input to it. Refitting layers in order therefore also absorbs the error
// of the layers refitted before. No gradient flows through the factors.
import { solveSpd } from '../decompose/linalg.js';
import { nodesOfLayer } from '../decompose/layers.js';
import { relativeError } from '../decompose/tensor.js';
import { type Graph, IrError, type Node, type Tensor } from '../../ir/types.js';
import { runGraph } from '../../train/executor.js';

export interface Calibration {
  /** Batch-major input images. */
  readonly x: Float32Array;
  readonly n: number;
}

export interface RefitInfo {
  readonly layer: string;
  /** Relative output error of the layer on the calibration set, before and after the refit. */
  readonly before: number;
  readonly after: number;
  readonly rows: number;
}

/** Values of a graph on the calibration batch. */
export async function valuesOf(graph: Graph, calib: Calibration, values: readonly string[]): Promise<Float32Array[]> {
  return runGraph({ ...graph, outputs: values }, calib.x, calib.n, { chunk: 128 });
}

/**
 * Refit the output factor of `layer` in `compressed` against `layer`'s value in `original`.
 * `ridge` is relative to the mean diagonal of ZᵀZ.
 */
export async function refitLayer(original: Graph, compressed: Graph, layer: string, calib: Calibration, ridge = 1e-4): Promise<{ graph: Graph; info: RefitInfo }> {
  const nodes = nodesOfLayer(compressed, layer);
  if (nodes.length < 2) throw new IrError(`layer '${layer}' is not decomposed; nothing to refit`);
  const last = nodes.at(-1)!;
  const prev = last.inputs[0];
  const [z, yHat] = await valuesOf(compressed, calib, [prev, last.id]);
  const [y] = await valuesOf(original, calib, [layer]);
  const T = (last.weights.kernel.shape.at(-1) as number) ?? 0;
  const R = last.weights.kernel.shape.at(-2) as number;
  const rows = y.length / T;
  if (z.length !== rows * R) throw new IrError(`refit of '${layer}': the factor input has ${z.length / rows} features per row, expected ${R}`);
  const useBias = !!last.weights.bias;
  const d = R + (useBias ? 1 : 0);
  // Normal equations [Z 1]ᵀ[Z 1] W = [Z 1]ᵀ Y, accumulated row by row in float64.
  const g = new Float64Array(d * d);
  const b = new Float64Array(d * T);
  const zr = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    for (let p = 0; p < R; p++) zr[p] = z[i * R + p];
    if (useBias) zr[R] = 1;
    for (let p = 0; p < d; p++) {
      const v = zr[p];
      if (v === 0) continue;
      const gp = p * d;
      for (let q = p; q < d; q++) g[gp + q] += v * zr[q];
      const bp = p * T;
      const yo = i * T;
      for (let t = 0; t < T; t++) b[bp + t] += v * y[yo + t];
    }
  }
  let diag = 0;
  for (let p = 0; p < d; p++) {
    for (let q = 0; q < p; q++) g[p * d + q] = g[q * d + p];
    diag += g[p * d + p];
  }
  const w = solveSpd(g, b, d, T, (ridge * diag) / d);
  const kernel: Tensor = { dtype: 'float32', shape: last.weights.kernel.shape, data: Float32Array.from(w.subarray(0, R * T)) };
  const weights: Record<string, Tensor> = { kernel };
  if (useBias) weights.bias = { dtype: 'float32', shape: [T], data: Float32Array.from(w.subarray(R * T)) };
  const refitted = { ...last, weights } as Node;
  const graph: Graph = { ...compressed, nodes: compressed.nodes.map((n) => (n.id === last.id ? refitted : n)) };
  const [after] = await valuesOf(graph, calib, [last.id]);
  return { graph, info: { layer, before: relativeError(yHat, y), after: relativeError(after, y), rows } };
}
