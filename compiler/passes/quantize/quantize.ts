// Post-training quantization: fold batchNorms, calibrate every value's real range on calibration images
// (min-max, percentile, or the MSE-optimal clipping), set (scale, zero point) per value and per-channel
// symmetric weight scales, and round weights and biases onto their integer grids (so the float graph IS
// the fake-quantized model). Graph in, quantized Graph out; per-layer SQNR of the result.
import * as tf from '@tensorflow/tfjs';
import { type Graph, IrError, type Node, type NodeQuant, OpKind } from '../../ir/types.js';
import { disposeParams, forward, paramsFromGraph } from '../../train/executor.js';
import { mixSeed, Rng } from '../../util/rng.js';
import { foldBatchNorms } from '../fold-bn.js';
import { fakeQuantForward } from './fake-quant.js';
import { clamp, roundHalfAway } from './fixed-point.js';
import { fusedActivation } from './qat-ranges.js';
import { snapWeights } from './snap-weights.js';
import { type ActivationScheme, checkBits, OWN_PARAMS, paramsFromRange, unsupported, type ValueParams, WEIGHTED } from './scheme.js';

export type Calibration = 'minmax' | 'percentile' | 'mse';

export interface QuantizeConfig {
  readonly weightBits: number;
  /** Weight bits of single layers (original layer id -> bits), overriding `weightBits` (mixed precision). */
  readonly layerWeightBits?: Readonly<Record<string, number>>;
  readonly activationBits: number;
  readonly activations: ActivationScheme;
  readonly calibration: Calibration;
  /** percentile calibration: the kept share of each side, default 99.99. */
  readonly percentile?: number;
  readonly seed?: number;
}

export const DEFAULT_QUANTIZE: QuantizeConfig = { weightBits: 8, activationBits: 8, activations: 'asymmetric', calibration: 'minmax', percentile: 99.99, seed: 1 };

export interface CalibrationSet {
  /** Batch-major NHWC inputs. */
  readonly x: Float32Array;
  readonly n: number;
}

export interface LayerQuantRow {
  readonly value: string;
  readonly op: OpKind | 'input';
  readonly scale: number;
  readonly zeroPoint: number;
  readonly range: readonly [number, number];
  /** 10·log10(Σ y² / Σ (y - y_q)²) of this value on the calibration images, fake-quant vs float. */
  readonly sqnrDb: number;
}

/** Where a node's range is observed: after a fused relu / relu6 (its only consumer). */
export const observedAt = (graph: Graph, node: Node): string => fusedActivation(graph, node)?.id ?? node.id;

const SAMPLE = 1 << 18;

/** Running statistics of one value: min/max and a seeded uniform sample of its elements. */
class Observer {
  lo = Infinity;
  hi = -Infinity;
  readonly sample = new Float32Array(SAMPLE);
  seen = 0;
  constructor(private readonly rng: Rng) {}
  add(v: Float32Array): void {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x < this.lo) this.lo = x;
      if (x > this.hi) this.hi = x;
      // reservoir sampling
      if (this.seen < SAMPLE) this.sample[this.seen] = x;
      else {
        const j = Math.floor(this.rng.next() * (this.seen + 1));
        if (j < SAMPLE) this.sample[j] = x;
      }
      this.seen++;
    }
  }
  values(): Float32Array {
    return this.sample.subarray(0, Math.min(this.seen, SAMPLE));
  }
}

function quantError(values: Float32Array, p: ValueParams): number {
  const qmin = -(2 ** (p.bits - 1));
  const qmax = 2 ** (p.bits - 1) - 1;
  let e = 0;
  for (const v of values) {
    const q = clamp(roundHalfAway(v / p.scale) + p.zeroPoint, qmin, qmax);
    const d = v - p.scale * (q - p.zeroPoint);
    e += d * d;
  }
  return e;
}

function rangeParams(o: Observer, bits: number, cfg: QuantizeConfig): { params: ValueParams; range: [number, number] } {
  if (cfg.calibration === 'minmax') return { params: paramsFromRange(o.lo, o.hi, bits, cfg.activations), range: [o.lo, o.hi] };
  const sorted = Float32Array.from(o.values()).sort();
  if (cfg.calibration === 'percentile') {
    const p = cfg.percentile ?? 99.99;
    if (!(p > 50 && p <= 100)) throw new Error(`percentile ${p} must be in (50, 100]`);
    const at = (f: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(f * (sorted.length - 1))))];
    const range: [number, number] = [at(1 - p / 100), at(p / 100)];
    return { params: paramsFromRange(range[0], range[1], bits, cfg.activations), range };
  }
  // mse: shrink the min-max range by a factor in [0.3, 1] (100 steps), keep the lowest squared error
  let best = { params: paramsFromRange(o.lo, o.hi, bits, cfg.activations), range: [o.lo, o.hi] as [number, number], err: Infinity };
  for (let k = 0; k <= 100; k++) {
    const a = 1 - (0.7 * k) / 100;
    const range: [number, number] = [o.lo * a, o.hi * a];
    const params = paramsFromRange(range[0], range[1], bits, cfg.activations);
    const err = quantError(sorted, params);
    if (err < best.err) best = { params, range, err };
  }
  return { params: best.params, range: best.range };
}

/** Runs `graph` on the calibration images in batches, calling `visit` with each requested value. */
function observe(graph: Graph, calib: CalibrationSet, values: readonly string[], visit: (value: string, data: Float32Array) => void, run?: (g: Graph, p: ReturnType<typeof paramsFromGraph>, x: tf.Tensor) => tf.Tensor[]): void {
  const params = paramsFromGraph(graph);
  const shape = graph.inputs[0].shape;
  const per = shape.reduce((a, b) => a * b, 1);
  const inputs = values.filter((v) => graph.inputs.some((i) => i.id === v));
  const nodes = values.filter((v) => !inputs.includes(v));
  try {
    for (let s = 0; s < calib.n; s += 64) {
      const b = Math.min(64, calib.n - s);
      const xs = calib.x.subarray(s * per, (s + b) * per);
      for (const v of inputs) visit(v, xs);
      const outs = tf.tidy(() => {
        const x = tf.tensor(xs, [b, ...shape]);
        return run ? run(graph, params, x) : forward(graph, params, [x], { outputs: nodes });
      });
      outs.forEach((t, i) => visit(nodes[i], t.dataSync() as Float32Array));
      tf.dispose(outs);
    }
  } finally {
    disposeParams(params);
  }
}

export interface QuantizeResult {
  readonly graph: Graph;
  readonly rows: readonly LayerQuantRow[];
}

/** Each weighted node's weight bits: its layer's entry in `layerWeightBits`, else `weightBits`. Checks that every named layer has weights. */
export function layerBitsResolver(graph: Graph, cfg: Pick<QuantizeConfig, 'weightBits' | 'layerWeightBits'>): (n: Node) => number {
  const layers = new Set(graph.nodes.filter((n) => WEIGHTED.has(n.op)).map((n) => n.origin));
  for (const [layer, bits] of Object.entries(cfg.layerWeightBits ?? {})) {
    if (!layers.has(layer)) throw new IrError(`no conv2d/dense/depthwise layer '${layer}' to give ${bits}-bit weights (layers: ${[...layers].join(', ')})`);
    checkBits(`layer ${layer}: weight`, bits);
  }
  const own = cfg.layerWeightBits ?? {};
  return (n) => (Object.hasOwn(own, n.origin) ? own[n.origin] : cfg.weightBits);
}

/** Post-training quantization of a float graph. */
export function quantizeGraph(float: Graph, calib: CalibrationSet, cfg: QuantizeConfig = DEFAULT_QUANTIZE): QuantizeResult {
  checkBits('weight', cfg.weightBits);
  checkBits('activation', cfg.activationBits);
  const weightBitsOf = layerBitsResolver(float, cfg);
  if (!Number.isInteger(calib.n) || calib.n < 1) throw new Error(`calibration set has ${calib.n} images: at least 1 is needed`);
  const graph = foldBatchNorms(float);
  for (const n of graph.nodes) {
    const why = unsupported(n);
    if (why) throw new IrError(`cannot quantize: ${why}`, n.id);
  }
  if (graph.inputs.length !== 1) throw new IrError(`quantization handles one graph input, '${graph.name}' has ${graph.inputs.length}`);
  // 1. ranges of the input and of every value with its own params (after a fused relu)
  const owners = graph.nodes.filter((n) => OWN_PARAMS.has(n.op));
  const watch = new Map<string, string>([[graph.inputs[0].id, graph.inputs[0].id], ...owners.map((n) => [n.id, observedAt(graph, n)] as [string, string])]);
  const observers = new Map<string, Observer>();
  [...watch.values()].forEach((v, i) => observers.set(v, new Observer(new Rng(mixSeed(cfg.seed ?? 1, i)))));
  observe(graph, calib, [...observers.keys()], (v, d) => observers.get(v)!.add(d));
  const chosen = new Map<string, { params: ValueParams; range: [number, number] }>();
  for (const [value, at] of watch) chosen.set(value, rangeParams(observers.get(at)!, cfg.activationBits, cfg));

  // 2. annotate: input params, output params, per-channel weight scales; then round weights and biases
  const inp = chosen.get(graph.inputs[0].id)!.params;
  const annotated: Graph = {
    ...graph,
    inputs: graph.inputs.map((i) => ({ ...i, quant: { bits: inp.bits, scale: inp.scale, zeroPoint: inp.zeroPoint } })),
    nodes: graph.nodes.map((n): Node => {
      const c = chosen.get(n.id);
      if (!c) return n;
      const quant: NodeQuant = { activationBits: cfg.activationBits, outputScale: c.params.scale, outputZeroPoint: c.params.zeroPoint };
      return { ...n, quant: WEIGHTED.has(n.op) ? { ...quant, weightBits: weightBitsOf(n) } : quant } as Node;
    }),
  };
  const q = snapWeights(annotated);

  // 3. SQNR per value where its range was observed (after a fused relu): fake-quant vs float
  const values = [...chosen.keys()];
  const nodeValues = values.filter((v) => v !== graph.inputs[0].id).map((v) => watch.get(v)!);
  const signal = new Map<string, number>();
  const noise = new Map<string, number>();
  const floatOut: Float32Array[][] = [];
  observe(graph, calib, nodeValues, (v, d) => {
    if (v === nodeValues[0]) floatOut.push([]);
    floatOut.at(-1)!.push(Float32Array.from(d));
  });
  let batch = 0;
  let k = 0;
  observe(q, calib, nodeValues, (v, d) => {
    if (k === 0) batch++;
    const f = floatOut[batch - 1][k];
    let s = 0;
    let e = 0;
    for (let i = 0; i < d.length; i++) {
      s += f[i] * f[i];
      e += (f[i] - d[i]) ** 2;
    }
    signal.set(v, (signal.get(v) ?? 0) + s);
    noise.set(v, (noise.get(v) ?? 0) + e);
    k = (k + 1) % nodeValues.length;
  }, (g, p, x) => fakeQuantForward(g, p, x, { outputs: nodeValues }));
  const byId = new Map(q.nodes.map((n) => [n.id, n] as const));
  const rows: LayerQuantRow[] = values.map((v) => {
    const c = chosen.get(v)!;
    const at = watch.get(v)!;
    const sq = v === graph.inputs[0].id ? Infinity : 10 * Math.log10(signal.get(at)! / Math.max(noise.get(at)!, 1e-30));
    return { value: v, op: byId.get(v)?.op ?? 'input', scale: c.params.scale, zeroPoint: c.params.zeroPoint, range: c.range, sqnrDb: sq };
  });
  return { graph: q, rows };
}
