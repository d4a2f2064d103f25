// Graph in, Graph out: replace one original layer by its SVD / Tucker-2 / CP decomposition, or
// re-compress an already decomposed layer to lower ranks from its factors (SEEDS §5), never
// rebuilding the full kernel. Every new node keeps the layer's id as `origin`.
import { Matrix, QR } from 'ml-matrix';
import { inferShapes } from '../../ir/graph.js';
import { type Conv2dAttrs, type DepthwiseConv2dAttrs, type Graph, IrError, type Node, type NodeOf, OpKind, type Tensor } from '../../ir/types.js';
import { cpAls, cpAlsFromFactors } from './cp.js';
import { matmul, truncatedSvd } from './linalg.js';
import { type DecompositionKind, type LayerForm, type LayerGeometry, layerForm, PARTS, partId, spliceLayer } from './layers.js';
import { frobenius, relativeError } from './tensor.js';
import { tucker2 } from './tucker2.js';

export interface DecomposeOptions {
  /** Seed for CP-ALS (initial padding columns); recorded by callers. */
  readonly seed?: number;
  /** CP-ALS iterations / tolerance, Tucker-2 HOOI sweeps. */
  readonly cpMaxIter?: number;
  readonly cpTol?: number;
  readonly tuckerIter?: number;
  readonly signal?: AbortSignal;
}

export interface DecomposeInfo {
  readonly layer: string;
  readonly kind: DecompositionKind;
  readonly ranks: readonly number[];
  /** Ranks before, when this was a re-compression. */
  readonly fromRanks?: readonly number[];
  /** ||K - K_hat|| / ||K|| of the kernel this step approximated (the previous form's, for re-compression). */
  readonly relError: number;
  readonly seconds: number;
}

const f32 = (shape: readonly number[], data: Float32Array | Float64Array): Tensor => ({ dtype: 'float32', shape, data: data instanceof Float32Array ? data : Float32Array.from(data) });

function conv(id: string, origin: string, input: string, kernel: Tensor, attrs: Partial<Conv2dAttrs> & { filters: number }, bias?: Tensor): NodeOf<OpKind.Conv2d> {
  const [kh, kw] = [kernel.shape[0], kernel.shape[1]];
  const a: Conv2dAttrs = { kernel: [kh, kw], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], groups: 1, ...attrs, useBias: !!bias };
  return { id, op: OpKind.Conv2d, origin, inputs: [input], attrs: a, weights: bias ? { kernel, bias } : { kernel } };
}

function depthwise(id: string, origin: string, input: string, kernel: Tensor, attrs: Omit<DepthwiseConv2dAttrs, 'useBias' | 'depthMultiplier' | 'kernel'>): NodeOf<OpKind.DepthwiseConv2d> {
  return { id, op: OpKind.DepthwiseConv2d, origin, inputs: [input], attrs: { ...attrs, kernel: [kernel.shape[0], kernel.shape[1]], depthMultiplier: 1, useBias: false }, weights: { kernel } };
}

function dense(id: string, origin: string, input: string, kernel: Tensor, bias?: Tensor): NodeOf<OpKind.Dense> {
  return { id, op: OpKind.Dense, origin, inputs: [input], attrs: { units: kernel.shape[1], useBias: !!bias }, weights: bias ? { kernel, bias } : { kernel } };
}

function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** Balanced split of a truncated SVD: A = U √s (rows×r), B = √s Vᵀ (r×cols). */
function balancedFactors(u: Float64Array, s: Float64Array, v: Float64Array, rows: number, cols: number, r: number): [Float64Array, Float64Array] {
  const a = new Float64Array(rows * r);
  const b = new Float64Array(r * cols);
  for (let k = 0; k < r; k++) {
    const q = Math.sqrt(s[k]);
    for (let i = 0; i < rows; i++) a[i * r + k] = u[i * r + k] * q;
    for (let j = 0; j < cols; j++) b[k * cols + j] = v[j * r + k] * q;
  }
  return [a, b];
}

function relFro(num: number, den: number): number {
  return den === 0 ? 0 : Math.sqrt(Math.max(num, 0) / den);
}

/** The nodes of a two-factor (SVD) layer from A (S×R) and B (R×T). */
function svdNodes(g: LayerGeometry, input: string, a: Float64Array, b: Float64Array, r: number, first: NodeOf<OpKind.Conv2d> | NodeOf<OpKind.Dense>, bias?: Tensor): Node[] {
  const [inId, outId] = PARTS.svd.map((s) => partId(g.layer, s));
  if (g.op === OpKind.Dense) return [dense(inId, g.layer, input, f32([g.S, r], a)), dense(outId, g.layer, inId, f32([r, g.T], b), bias)];
  const c = first as NodeOf<OpKind.Conv2d>;
  // The stride and padding of a 1×1 conv go on the first factor, so the second runs at the output size.
  return [
    conv(inId, g.layer, input, f32([1, 1, g.S, r], a), { filters: r, strides: c.attrs.strides, pads: c.attrs.pads }),
    conv(outId, g.layer, inId, f32([1, 1, r, g.T], b), { filters: g.T }, bias),
  ];
}

function tuckerNodes(g: LayerGeometry, input: string, uIn: Float32Array | Float64Array, core: Float32Array | Float64Array, outKernel: Float64Array, r3: number, r4: number, geo: Pick<Conv2dAttrs, 'strides' | 'dilations' | 'pads'>, bias?: Tensor): Node[] {
  const [i, c, o] = PARTS.tucker2.map((s) => partId(g.layer, s));
  return [
    conv(i, g.layer, input, f32([1, 1, g.S, r3], uIn), { filters: r3 }),
    conv(c, g.layer, i, f32([g.kh, g.kw, r3, r4], core), { filters: r4, strides: geo.strides, dilations: geo.dilations, pads: geo.pads }),
    conv(o, g.layer, c, f32([1, 1, r4, g.T], outKernel), { filters: g.T }, bias),
  ];
}

/** CP factors in kernel mode order [h (kh×R), w (kw×R), s (S×R), t (T×R)] -> the four nodes. */
function cpNodes(g: LayerGeometry, input: string, f: readonly Float64Array[], lambda: Float64Array, r: number, geo: Pick<Conv2dAttrs, 'strides' | 'dilations' | 'pads'>, bias?: Tensor): Node[] {
  // Spread each component's weight evenly over the four factors (balanced norms train better).
  const scale = Array.from(lambda, (l) => Math.pow(Math.abs(l), 0.25));
  const scaled = (m: Float64Array, rows: number, sign: boolean) => {
    const out = new Float64Array(rows * r);
    for (let i = 0; i < rows; i++) for (let k = 0; k < r; k++) out[i * r + k] = m[i * r + k] * scale[k] * (sign && lambda[k] < 0 ? -1 : 1);
    return out;
  };
  const [hF, wF, sF, tF] = [scaled(f[0], g.kh, false), scaled(f[1], g.kw, false), scaled(f[2], g.S, false), scaled(f[3], g.T, true)];
  const [i, v, h, o] = PARTS.cp.map((s) => partId(g.layer, s));
  const [pt, pl, pb, pr] = geo.pads;
  return [
    conv(i, g.layer, input, f32([1, 1, g.S, r], sF), { filters: r }),
    // Vertical taps carry the vertical stride/dilation/padding, horizontal taps the horizontal ones.
    depthwise(v, g.layer, i, f32([g.kh, 1, r, 1], hF), { strides: [geo.strides[0], 1], dilations: [geo.dilations[0], 1], pads: [pt, 0, pb, 0] }),
    depthwise(h, g.layer, v, f32([1, g.kw, r, 1], wF), { strides: [1, geo.strides[1]], dilations: [1, geo.dilations[1]], pads: [0, pl, 0, pr] }),
    conv(o, g.layer, h, f32([1, 1, r, g.T], transpose(tF, g.T, r)), { filters: g.T }, bias),
  ];
}

/** Which decomposition kinds apply to a layer of this geometry. */
export function kindsFor(g: LayerGeometry): readonly DecompositionKind[] {
  return g.op === OpKind.Dense || (g.kh === 1 && g.kw === 1) ? ['svd'] : ['tucker2', 'cp'];
}

function checkRanks(form: LayerForm, kind: DecompositionKind, ranks: readonly number[]): void {
  const g = form.geometry;
  const what = `layer '${g.layer}'`;
  const want = kind === 'tucker2' ? 2 : 1;
  if (ranks.length !== want) throw new IrError(`${what}: ${kind} takes ${want} rank${want > 1 ? 's' : ''}, got ${ranks.length}`);
  for (const r of ranks) if (!Number.isInteger(r) || r < 1) throw new IrError(`${what}: rank ${r} is not a positive integer (ranks must be >= 1)`);
  if (!kindsFor(g).includes(kind)) {
    const desc = g.op === OpKind.Dense ? 'a dense layer' : `a ${g.kh}×${g.kw} conv`;
    throw new IrError(`${what} is ${desc}; ${kind} needs ${kind === 'svd' ? 'a dense or 1×1 conv layer' : 'a conv2d with a kernel larger than 1×1'} (use ${kindsFor(g).join(' or ')})`);
  }
  if (form.kind !== 'original' && form.kind !== kind) throw new IrError(`${what} is already ${form.kind}-decomposed; it can only be re-compressed with ${form.kind}`);
  const limits: [string, number][] =
    kind === 'svd' ? [['rank', Math.min(g.S, g.T)]] : kind === 'tucker2' ? [['R3 (input side)', g.S], ['R4 (output side)', g.T]] : [['rank', (g.kh * g.kw * g.S * g.T) / Math.max(g.kh, g.kw, g.S, g.T)]];
  const limitWhy = kind === 'svd' ? `min(inputs ${g.S}, outputs ${g.T})` : kind === 'tucker2' ? '' : 'the largest possible CP rank of the kernel';
  ranks.forEach((r, i) => {
    const [name, lim] = limits[i];
    if (r > lim) {
      const dim = kind === 'tucker2' ? (i === 0 ? `the input channels (${g.S})` : `the output channels (${g.T})`) : kind === 'svd' ? `${limitWhy} = ${lim}` : `${limitWhy} (${lim})`;
      throw new IrError(`${what}: ${kind} ${name} ${r} is larger than ${dim}`);
    }
  });
  if (form.kind === kind) {
    ranks.forEach((r, i) => {
      if (r > form.ranks[i]) throw new IrError(`${what}: re-compression can only lower ranks: it is ${kind} (${form.ranks.join(', ')}), asked (${ranks.join(', ')})`);
    });
  }
}

/** Throws IrError if `layer` cannot be decomposed with these kind and ranks (nothing is computed). */
export function checkDecomposition(graph: Graph, layer: string, kind: DecompositionKind, ranks: readonly number[]): void {
  checkRanks(layerForm(graph, layer), kind, ranks);
}

const float64 = (t: Tensor): Float64Array => Float64Array.from(t.data as Float32Array);

/**
 * Decompose (or re-compress) one original layer. Returns the new graph and what was done.
 * Throws IrError for unknown layers, wrong kinds and impossible ranks, before any work.
 */
export function decomposeLayer(graph: Graph, layer: string, kind: DecompositionKind, ranks: readonly number[], opts: DecomposeOptions = {}): { graph: Graph; info: DecomposeInfo } {
  const shapes = inferShapes(graph);
  const form = layerForm(graph, layer, shapes);
  checkRanks(form, kind, ranks);
  const g = form.geometry;
  const t0 = performance.now();
  let nodes: Node[];
  let relError: number;
  if (form.kind === 'original') {
    const node = form.node;
    const input = node.inputs[0];
    const bias = node.weights.bias;
    const k = node.weights.kernel.data as Float32Array;
    if (kind === 'svd') {
      const r = ranks[0];
      const svd = truncatedSvd(k, g.S, g.T, r);
      const [a, b] = balancedFactors(svd.u, svd.s, svd.v, g.S, g.T, r);
      nodes = svdNodes(g, input, a, b, r, node, bias);
      relError = relativeError(matmul(a, b, g.S, r, g.T), k);
    } else {
      const c = node as NodeOf<OpKind.Conv2d>;
      if (kind === 'tucker2') {
        const t = tucker2(k, [g.kh, g.kw, g.S, g.T], [ranks[0], ranks[1]], { maxIter: opts.tuckerIter, signal: opts.signal });
        nodes = tuckerNodes(g, input, t.uIn, t.core, transpose(t.uOut, g.T, ranks[1]), ranks[0], ranks[1], c.attrs, bias);
        relError = t.relError;
      } else {
        const cp = cpAls(k, [g.kh, g.kw, g.S, g.T], ranks[0], { seed: opts.seed ?? 0, maxIter: opts.cpMaxIter, tol: opts.cpTol, signal: opts.signal });
        nodes = cpNodes(g, input, cp.factors, cp.lambda, ranks[0], c.attrs, bias);
        relError = cp.relError;
      }
    }
  } else {
    const old = form.nodes;
    const input = old[0].inputs[0];
    // The bias lives on the last node of every decomposed form.
    const bias = old.at(-1)!.weights.bias;
    if (kind === 'svd') {
      const r0 = form.ranks[0];
      const r = ranks[0];
      const a = float64(old[0].weights.kernel);
      const b = float64(old[1].weights.kernel);
      // A·B = Qa (Ra Rbᵀ) Qbᵀ: the SVD of the small r0×r0 middle gives the truncation.
      const qa = new QR(matrixOf(a, g.S, r0));
      const qb = new QR(matrixOf(transpose(b, r0, g.T), g.T, r0));
      const ra = flat(qa.upperTriangularMatrix.to2DArray());
      const rb = flat(qb.upperTriangularMatrix.to2DArray());
      const mid = matmul(ra, transpose(rb, r0, r0), r0, r0, r0);
      const svd = truncatedSvd(mid, r0, r0, r);
      const [ma, mb] = balancedFactors(svd.u, svd.s, svd.v, r0, r0, r);
      const na = matmul(flat(qa.orthogonalMatrix.to2DArray()), ma, g.S, r0, r);
      const nb = matmul(mb, transpose(flat(qb.orthogonalMatrix.to2DArray()), g.T, r0), r, r0, g.T);
      const total = frobenius(mid) ** 2; // ||A·B||² = ||Ra Rbᵀ||²: Qa, Qb have orthonormal columns
      relError = relFro(total - frobenius(svd.s) ** 2, total);
      nodes = svdNodes(g, input, na, nb, r, old[0] as NodeOf<OpKind.Conv2d> | NodeOf<OpKind.Dense>, bias);
    } else if (kind === 'tucker2') {
      const [r3, r4] = form.ranks;
      const coreNode = old[1] as NodeOf<OpKind.Conv2d>;
      // Re-decompose only the core: C ≈ C* ×3 Uin* ×4 Uout*; merge Uin' = Uin Uin*, Uout' = Uout Uout*.
      const t = tucker2(coreNode.weights.kernel.data as Float32Array, [g.kh, g.kw, r3, r4], [ranks[0], ranks[1]], { maxIter: opts.tuckerIter, signal: opts.signal });
      const uIn = matmul(float64(old[0].weights.kernel), Float64Array.from(t.uIn), g.S, r3, ranks[0]);
      const outK = matmul(transpose(t.uOut, r4, ranks[1]), float64(old[2].weights.kernel), ranks[1], r4, g.T);
      nodes = tuckerNodes(g, input, uIn, t.core, outK, ranks[0], ranks[1], coreNode.attrs, bias);
      relError = t.relError;
    } else {
      const r0 = form.ranks[0];
      const v = old[1] as NodeOf<OpKind.DepthwiseConv2d>;
      const h = old[2] as NodeOf<OpKind.DepthwiseConv2d>;
      const factors = [float64(v.weights.kernel), float64(h.weights.kernel), float64(old[0].weights.kernel), transpose(float64(old[3].weights.kernel), r0, g.T)];
      const cp = cpAlsFromFactors(factors, new Float64Array(r0).fill(1), [g.kh, g.kw, g.S, g.T], ranks[0], { seed: opts.seed ?? 0, maxIter: opts.cpMaxIter, tol: opts.cpTol, signal: opts.signal });
      const geo = { strides: [v.attrs.strides[0], h.attrs.strides[1]], dilations: [v.attrs.dilations[0], h.attrs.dilations[1]], pads: [v.attrs.pads[0], h.attrs.pads[1], v.attrs.pads[2], h.attrs.pads[3]] } as const;
      nodes = cpNodes(g, input, cp.factors, cp.lambda, ranks[0], geo, bias);
      relError = cp.relError;
    }
  }
  const info: DecomposeInfo = { layer, kind, ranks: [...ranks], ...(form.kind !== 'original' ? { fromRanks: form.ranks } : {}), relError, seconds: (performance.now() - t0) / 1000 };
  return { graph: spliceLayer(graph, layer, nodes), info };
}

const flat = (rows: number[][]): Float64Array => Float64Array.from(rows.flat());
const matrixOf = (a: Float64Array, rows: number, cols: number): Matrix => Matrix.from1DArray(rows, cols, a);
