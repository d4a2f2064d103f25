// The quantization scheme (docs/int8-semantics.md): which values carry their own (scale, zero point),
// which inherit their input's, integer ranges, and (scale, zero point) from a real range.
import { type Graph, IrError, type Node, OpKind } from '../../ir/types.js';
import { roundHalfAway } from './fixed-point.js';

export type ActivationScheme = 'symmetric' | 'asymmetric';

export interface ValueParams {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly bits: number;
}

/** Ops whose output gets its own calibrated (scale, zero point). */
export const OWN_PARAMS = new Set<OpKind>([OpKind.Conv2d, OpKind.DepthwiseConv2d, OpKind.Dense, OpKind.Add, OpKind.Concat]);
/** Ops computed on the integer codes in the input's (scale, zero point). */
export const INHERIT_PARAMS = new Set<OpKind>([OpKind.Relu, OpKind.Relu6, OpKind.MaxPool, OpKind.AvgPool, OpKind.GlobalAvgPool, OpKind.Flatten, OpKind.Reshape, OpKind.Dropout, OpKind.Pad]);
/** Ops with weights quantized per output channel. */
export const WEIGHTED = new Set<OpKind>([OpKind.Conv2d, OpKind.DepthwiseConv2d, OpKind.Dense]);

export function checkBits(what: string, bits: number): void {
  if (!Number.isInteger(bits) || bits < 2 || bits > 16) throw new Error(`${what} bits ${bits}: expected an integer in 2..16`);
}

/** Activation codes: [-2^(b-1), 2^(b-1) - 1]. */
export const activationRange = (bits: number): [number, number] => [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
/** Weight codes: symmetric narrow range [-(2^(b-1) - 1), 2^(b-1) - 1], so -q is always a code. */
export const weightMax = (bits: number): number => 2 ** (bits - 1) - 1;

/** (scale, zero point) covering [lo, hi] (widened to include 0, so that real 0 is a code). */
export function paramsFromRange(lo: number, hi: number, bits: number, scheme: ActivationScheme): ValueParams {
  const [qmin, qmax] = activationRange(bits);
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  if (scheme === 'symmetric') {
    const m = Math.max(-lo, hi);
    return { scale: m > 0 ? m / qmax : 1, zeroPoint: 0, bits };
  }
  if (hi - lo <= 0) return { scale: 1, zeroPoint: 0, bits };
  const scale = (hi - lo) / (qmax - qmin);
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfAway(qmin - lo / scale)));
  return { scale, zeroPoint, bits };
}

/** Why a node cannot run integer-only, or undefined. */
export function unsupported(node: Node): string | undefined {
  if (OWN_PARAMS.has(node.op) || INHERIT_PARAMS.has(node.op) || node.op === OpKind.Softmax) return undefined;
  if (node.op === OpKind.BatchNorm) return 'batchNorm that does not follow a conv/dense (nothing to fold it into)';
  return `${node.op} has no integer-only definition`;
}

/**
 * (scale, zero point, bits) of every value of a quantized graph (the input's and the nodes' own, the
 * inherited ones resolved). Softmax outputs are real (not in the map). Throws IrError naming a node
 * that is not quantized or has no integer-only definition.
 */
export function valueParams(graph: Graph): Map<string, ValueParams> {
  const out = new Map<string, ValueParams>();
  for (const i of graph.inputs) {
    if (!i.quant) throw new IrError(`graph input '${i.id}' has no quantization parameters: run the quantize pass first`);
    out.set(i.id, i.quant);
  }
  for (const n of graph.nodes) {
    const why = unsupported(n);
    if (why) throw new IrError(`integer-only inference: ${why}`, n.id);
    if (n.op === OpKind.Softmax) continue;
    if (OWN_PARAMS.has(n.op)) {
      const q = n.quant;
      if (!q || q.outputScale === undefined || q.outputZeroPoint === undefined || q.activationBits === undefined) throw new IrError('not quantized (no output scale / zero point): run the quantize pass first', n.id);
      out.set(n.id, { scale: q.outputScale, zeroPoint: q.outputZeroPoint, bits: q.activationBits });
      continue;
    }
    const p = out.get(n.inputs[0]);
    if (!p) throw new IrError(`input '${n.inputs[0]}' is a real value (softmax output), not a quantized one`, n.id);
    out.set(n.id, p);
  }
  return out;
}
