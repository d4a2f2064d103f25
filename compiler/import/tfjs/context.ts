// State of one tfjs/Keras -> IR conversion: layer outputs, weights by name, ids, errors.
import { GraphBuilder } from '../../ir/builder.js';
import { type AttrsByOp, IrError, OpKind, type Pads, type Shape, type Tensor } from '../../ir/types.js';
import { f32, ModelFormatError, type NodeHint, uniqueId } from '../common.js';
import type { Json, LayerSpec } from './topology.js';
import type { NamedWeight } from './weights.js';

/** A ZeroPadding2D our exporter split off a conv/pool: folded back into its consumer when possible. */
interface PendingPad {
  readonly input: string;
  readonly pads: Pads;
}

export class TfjsCtx {
  readonly builder: GraphBuilder;
  readonly usedIds = new Set<string>();
  private readonly outputs = new Map<string, string | PendingPad>();

  constructor(
    readonly file: string,
    graphName: string,
    readonly hints: Readonly<Record<string, NodeHint>>,
    private readonly weights: ReadonlyMap<string, NamedWeight>,
  ) {
    this.builder = new GraphBuilder(graphName);
  }

  error(l: LayerSpec, msg: string): ModelFormatError {
    return new ModelFormatError(`${this.file}: layer '${l.name}' (${l.className}) ${msg}`);
  }

  hint(l: LayerSpec): NodeHint {
    return this.hints[l.name] ?? {};
  }

  /** IR value id of input `i`, materializing a pending pad as a real pad node. */
  input(l: LayerSpec, i: number): string {
    const src = l.inputs[i];
    const v = this.outputs.get(src);
    if (v === undefined) throw this.error(l, `reads layer '${src}', which has no output yet`);
    if (typeof v === 'string') return v;
    const id = this.idFor(src);
    this.addNode(l, OpKind.Pad, id, src, [v.input], { pads: v.pads, value: 0 });
    this.outputs.set(src, id);
    return id;
  }

  /** Input `i` of a window op, with the pads of a foldable ZeroPadding2D in front of it. */
  windowInput(l: LayerSpec, i: number, padding: string): { x: string; folded?: Pads } {
    const v = this.outputs.get(l.inputs[i]);
    if (v !== undefined && typeof v !== 'string' && padding === 'valid') return { x: v.input, folded: v.pads };
    return { x: this.input(l, i) };
  }

  shape(id: string): Shape {
    return this.builder.shape(id);
  }

  setOutput(l: LayerSpec, v: string | PendingPad): void {
    this.outputs.set(l.name, v);
  }

  output(name: string): string | PendingPad | undefined {
    return this.outputs.get(name);
  }

  /** A fresh IR id: the exporter's hinted id, else the layer name plus `suffix`. */
  idFor(layerName: string, suffix = ''): string {
    const hinted = suffix === '' ? this.hints[layerName]?.id : undefined;
    if (hinted && !this.usedIds.has(hinted)) {
      this.usedIds.add(hinted);
      return hinted;
    }
    return uniqueId(`${layerName}${suffix}`, 'layer', this.usedIds);
  }

  addNode<K extends OpKind>(l: LayerSpec, op: K, id: string, originLayer: string, inputs: readonly string[], attrs: AttrsByOp[K], weights: Record<string, Tensor> = {}): string {
    try {
      this.builder.add(op, inputs, attrs, weights, { id, origin: this.originOf(originLayer) });
    } catch (e) {
      if (e instanceof IrError) throw this.error(l, `gives an inconsistent Tandem node: ${e.message}`);
      throw e;
    }
    return id;
  }

  /** The user's layer name: the exporter's hints first (origin, then exact IR id), else the Keras name. */
  originOf(layerName: string): string {
    const h = this.hints[layerName];
    return h?.origin ?? h?.id ?? layerName;
  }

  /** The main node of a layer (id = layer name, origin = layer name). */
  add<K extends OpKind>(l: LayerSpec, op: K, inputs: readonly string[], attrs: AttrsByOp[K], weights: Record<string, Tensor> = {}, suffix = ''): string {
    return this.addNode(l, op, this.idFor(l.name, suffix), l.name, inputs, attrs, weights);
  }

  /**
   * A weight of layer `l` by Keras name (`conv/kernel`, also `model/conv/kernel` or `conv/cell/kernel`),
   * or by position (`conv/0`, the Keras 3 style).
   */
  weight(l: LayerSpec, key: string, index: number, shape: Shape): Tensor {
    let w = this.weights.get(`${l.name}/${key}`);
    if (!w) {
      for (const [name, v] of this.weights) {
        const t = name.split('/');
        if (t.at(-1) === key && t.slice(0, -1).includes(l.name)) {
          w = v;
          break;
        }
      }
    }
    w ??= this.weights.get(`${l.name}/${index}`);
    if (!w) throw this.error(l, `has no weight '${key}' in the weightsManifest`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw this.error(l, `has weight '${key}' of shape [${w.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    return f32(shape, Float32Array.from(w.data));
  }
}

export const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);
export const pairOf = (v: unknown, dflt: number): [number, number] => {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [Number(v[0]), Number(v[1])];
  return [dflt, dflt];
};
export type { Json, LayerSpec };
