// State of one ONNX -> IR conversion: constants, the IR value (and its layout) behind every ONNX
// tensor name, id allocation and error messages that name the file and node.
import { GraphBuilder } from '../../ir/builder.js';
import { type AttrsByOp, IrError, type OpKind, type Shape, type Tensor } from '../../ir/types.js';
import { ModelFormatError, type NodeHint, uniqueId } from '../common.js';
import { Attrs, type Const, type NodeProto } from './read.js';

/**
 * How an ONNX activation relates to the IR value that stands for it.
 * - nchw:    ONNX [N, C, H, W] holds IR [H, W, C] (the usual conv activation).
 * - exact:   ONNX [N, ...s] holds IR s in the same element order.
 * - flatChw: ONNX [N, C*H*W] flattened in (c, h, w) order; the IR value is the (h, w, c) flatten of
 *            an [H, W, C] activation. Only a dense (which permutes its rows) or order-blind ops may use it.
 * - pooled:  ONNX [N, C, 1, 1] (GlobalAveragePool) holds IR [C].
 */
export type Layout = { kind: 'nchw' } | { kind: 'exact' } | { kind: 'flatChw'; hwc: readonly [number, number, number] } | { kind: 'pooled' };

export interface Value {
  readonly id: string;
  readonly layout: Layout;
}

export interface OnnxNode {
  readonly proto: NodeProto;
  /** ONNX node name, or `<OpType>_<index>` when the file leaves it empty. */
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
}

export function describeLayout(l: Layout): string {
  switch (l.kind) {
    case 'nchw':
      return 'an NCHW activation';
    case 'exact':
      return 'a tensor in NHWC/flat order (after a folded Transpose or Reshape)';
    case 'flatChw':
      return 'a flattened NCHW activation (its element order differs from a Tandem NHWC flatten)';
    case 'pooled':
      return 'a [N, C, 1, 1] pooled activation';
  }
}

export function sameLayout(a: Layout, b: Layout): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'flatChw' && b.kind === 'flatChw') return a.hwc.every((d, i) => d === b.hwc[i]);
  return true;
}

export class Ctx {
  readonly consts = new Map<string, Const>();
  readonly values = new Map<string, Value>();
  readonly usedIds = new Set<string>();
  /** ONNX nodes already consumed by a fusion (e.g. the Add after a MatMul), by index. */
  readonly fused = new Set<number>();
  readonly builder: GraphBuilder;

  constructor(
    readonly file: string,
    readonly opset: number,
    graphName: string,
    readonly hints: Readonly<Record<string, NodeHint>>,
    /** ONNX tensor name -> the nodes that read it (with their index). */
    readonly consumers: ReadonlyMap<string, readonly { node: OnnxNode; index: number }[]>,
    readonly graphOutputs: ReadonlySet<string>,
  ) {
    this.builder = new GraphBuilder(graphName);
  }

  error(n: OnnxNode, msg: string): ModelFormatError {
    return new ModelFormatError(`${this.file}: node '${n.name}' (op ${n.opType}) ${msg}`);
  }

  /** The activation behind input `i` of node `n` (not a constant). */
  act(n: OnnxNode, i: number): Value {
    const name = n.inputs[i];
    if (!name) throw this.error(n, `is missing input ${i}`);
    const v = this.values.get(name);
    if (v) return v;
    if (this.consts.has(name)) throw this.error(n, `has a constant as input ${i} ('${name}'), where Tandem expects an activation`);
    throw this.error(n, `reads '${name}', which no earlier node produces (the graph is not topologically sorted or is incomplete)`);
  }

  /** Input `i` as an NCHW activation, or a clear error saying why the layout does not fit. */
  nchw(n: OnnxNode, i: number): Value {
    const v = this.act(n, i);
    if (v.layout.kind !== 'nchw') throw this.error(n, `needs an NCHW activation, but input '${n.inputs[i]}' is ${describeLayout(v.layout)}`);
    return v;
  }

  /** Optional constant input `i` (absent or empty name -> undefined). */
  constOpt(n: OnnxNode, i: number): Const | undefined {
    const name = n.inputs[i];
    if (!name) return undefined;
    const c = this.consts.get(name);
    if (!c) throw this.error(n, `needs input ${i} ('${name}') to be an initializer or Constant; Tandem does not compute ${this.values.has(name) ? 'activation-dependent' : 'unknown'} parameters`);
    return c;
  }

  constFloat(n: OnnxNode, i: number, what: string): Const & { kind: 'float' } {
    const c = this.constOpt(n, i);
    if (!c) throw this.error(n, `is missing its ${what} (input ${i})`);
    if (c.kind !== 'float') throw this.error(n, `needs a float ${what}, got an integer tensor`);
    return c;
  }

  shape(v: Value): Shape {
    return this.builder.shape(v.id);
  }

  /** Per-sample dims of the ONNX tensor behind a value (what ONNX ops see after the batch dim). */
  onnxDims(v: Value): number[] {
    const s = this.shape(v);
    switch (v.layout.kind) {
      case 'nchw':
        return [s[2], s[0], s[1]];
      case 'pooled':
        return [s[0], 1, 1];
      case 'flatChw':
      case 'exact':
        return [...s];
    }
  }

  hint(n: OnnxNode): NodeHint {
    return this.hints[n.name] ?? {};
  }

  /** Adds one IR node for ONNX node `n` and binds its first output. */
  emit<K extends OpKind>(n: OnnxNode, op: K, inputs: readonly Value[], attrs: AttrsByOp[K], weights: Record<string, Tensor>, layout: Layout): Value {
    const h = this.hint(n);
    const id = this.claimId(h.id, n.name, n.opType);
    try {
      this.builder.add(op, inputs.map((v) => v.id), attrs, weights, { id, origin: h.origin ?? n.name });
    } catch (e) {
      if (e instanceof IrError) throw this.error(n, `gives an inconsistent Tandem node: ${e.message}`);
      throw e;
    }
    return this.bind(n.outputs[0], { id, layout });
  }

  /** The exporter's exact id if it gave one (and it is free), else a sanitized unique form of `raw`. */
  claimId(hinted: string | undefined, raw: string, fallback: string): string {
    if (hinted && !this.usedIds.has(hinted)) {
      this.usedIds.add(hinted);
      return hinted;
    }
    return uniqueId(raw, fallback, this.usedIds);
  }

  bind(name: string, v: Value): Value {
    this.values.set(name, v);
    return v;
  }

  /** True if output `k` of `n` is read by some node or is a graph output. */
  used(n: OnnxNode, k: number): boolean {
    const name = n.outputs[k];
    return !!name && ((this.consumers.get(name)?.length ?? 0) > 0 || this.graphOutputs.has(name));
  }
}
