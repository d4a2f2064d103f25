// The Graph IR: the network as every stage of Tandem sees it.
//
// Conventions (see docs/ir.md):
// - Activations are NHWC with an implicit batch dimension: a Shape never includes the batch.
//   [28, 28, 1] is an image, [10] is a logits vector.
// - Values are named by the id of the node that produces them (every op has exactly one output),
//   or by a graph input's id.
// - Weights are typed arrays in tfjs layouts: conv kernel [kh, kw, cin/groups, cout],
//   depthwise kernel [kh, kw, cin, multiplier], dense kernel [in, units].
// - Padding is always explicit: [top, left, bottom, right] (ONNX order). 'same'/'valid' are
//   resolved by the importers because frameworks disagree on the asymmetric cases.

export enum OpKind {
  Conv2d = 'conv2d',
  DepthwiseConv2d = 'depthwiseConv2d',
  Dense = 'dense',
  BatchNorm = 'batchNorm',
  Relu = 'relu',
  Relu6 = 'relu6',
  LeakyRelu = 'leakyRelu',
  Sigmoid = 'sigmoid',
  Add = 'add',
  Concat = 'concat',
  MaxPool = 'maxPool',
  AvgPool = 'avgPool',
  GlobalAvgPool = 'globalAvgPool',
  Flatten = 'flatten',
  Reshape = 'reshape',
  Pad = 'pad',
  Softmax = 'softmax',
  Dropout = 'dropout',
}

export type Shape = readonly number[];
export type Pair = readonly [number, number];
/** [top, left, bottom, right] */
export type Pads = readonly [number, number, number, number];

export type DType = 'float32' | 'int8' | 'int32' | 'uint8';
export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'int8'
    ? Int8Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;

/** A weight tensor. `data.length` equals the product of `shape`. */
export type Tensor = { [D in DType]: { readonly dtype: D; readonly shape: Shape; readonly data: TypedArrayOf<D> } }[DType];

export interface ConvAttrs {
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly dilations: Pair;
  readonly pads: Pads;
  readonly useBias: boolean;
}
export interface Conv2dAttrs extends ConvAttrs {
  readonly filters: number;
  readonly groups: number;
}
export interface DepthwiseConv2dAttrs extends ConvAttrs {
  readonly depthMultiplier: number;
}
export interface DenseAttrs {
  readonly units: number;
  readonly useBias: boolean;
}
export interface BatchNormAttrs {
  readonly epsilon: number;
  /** Moving-average momentum used in training (Keras convention: new = m * old + (1 - m) * batch). */
  readonly momentum: number;
  /**
   * A learned variational channel mask (pruning, SEEDS §4), training only: weight `logAlpha` [C]; in
   * training the output is multiplied per sample and channel by 1 + sqrt(alpha)·ε, ε ~ N(0, 1); at
   * inference the mask is its mean, 1, so the op is a plain batchNorm. Exporters drop it.
   */
  readonly mask?: 'variational';
}
export interface LeakyReluAttrs {
  readonly alpha: number;
}
export interface AxisAttrs {
  /** Non-negative axis into the per-sample shape. */
  readonly axis: number;
}
export interface PoolAttrs {
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly pads: Pads;
}
export interface AvgPoolAttrs extends PoolAttrs {
  /** Whether padded cells count in the divisor (ONNX count_include_pad). */
  readonly countIncludePad: boolean;
}
export interface ReshapeAttrs {
  /** Per-sample target shape, fully resolved (no -1). */
  readonly shape: Shape;
}
export interface PadAttrs {
  readonly pads: Pads;
  readonly value: number;
}
export interface DropoutAttrs {
  readonly rate: number;
}
export type NoAttrs = Readonly<Record<string, never>>;

export interface AttrsByOp {
  [OpKind.Conv2d]: Conv2dAttrs;
  [OpKind.DepthwiseConv2d]: DepthwiseConv2dAttrs;
  [OpKind.Dense]: DenseAttrs;
  [OpKind.BatchNorm]: BatchNormAttrs;
  [OpKind.Relu]: NoAttrs;
  [OpKind.Relu6]: NoAttrs;
  [OpKind.LeakyRelu]: LeakyReluAttrs;
  [OpKind.Sigmoid]: NoAttrs;
  [OpKind.Add]: NoAttrs;
  [OpKind.Concat]: AxisAttrs;
  [OpKind.MaxPool]: PoolAttrs;
  [OpKind.AvgPool]: AvgPoolAttrs;
  [OpKind.GlobalAvgPool]: NoAttrs;
  [OpKind.Flatten]: NoAttrs;
  [OpKind.Reshape]: ReshapeAttrs;
  [OpKind.Pad]: PadAttrs;
  [OpKind.Softmax]: AxisAttrs;
  [OpKind.Dropout]: DropoutAttrs;
}

/**
 * During quantization-aware training a quantized node may carry one more weight, this [3] tensor
 * [lo, hi, symmetric ? 1 : 0]: its activation range as training state (passes/quantize/qat-ranges.ts).
 */
export const QAT_RANGE_WEIGHT = 'actRange';

/**
 * Quantization annotations, filled by the quantize pass (later issue). Absent means float.
 * Kept optional on the node so float graphs and quantized graphs share one type.
 */
export interface NodeQuant {
  readonly weightBits?: number;
  readonly activationBits?: number;
  /** Per-output-channel weight scales (symmetric). */
  readonly weightScales?: Float32Array;
  readonly outputScale?: number;
  readonly outputZeroPoint?: number;
}

export interface NodeOf<K extends OpKind> {
  /** Stable, unique id; also the name of the value this node produces. */
  readonly id: string;
  readonly op: K;
  /** Id of the layer of the user's original model this node came from (itself if untouched). */
  readonly origin: string;
  /** Value names: ids of producing nodes or graph inputs. */
  readonly inputs: readonly string[];
  readonly attrs: AttrsByOp[K];
  readonly weights: Readonly<Record<string, Tensor>>;
  readonly quant?: NodeQuant;
}

/** A node of any op; narrow with `node.op === OpKind.X`. */
export type Node = { [K in OpKind]: NodeOf<K> }[OpKind];

/** How a quantized graph input maps reals to integers: real = scale · (q - zeroPoint). */
export interface InputQuant {
  readonly bits: number;
  readonly scale: number;
  readonly zeroPoint: number;
}

export interface GraphInput {
  readonly id: string;
  /** Per-sample shape (no batch dimension). */
  readonly shape: Shape;
  readonly dtype: DType;
  /** Set by the quantize pass (docs/int8-semantics.md). */
  readonly quant?: InputQuant;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly GraphInput[];
  /** Topologically ordered. */
  readonly nodes: readonly Node[];
  /** Value names of the graph outputs. */
  readonly outputs: readonly string[];
  /** Free-form provenance (source file, training recipe, seed, metrics). JSON-serializable. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** An error about a graph, naming the node (or value) at fault. */
export class IrError extends Error {
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(nodeId === undefined ? message : `node '${nodeId}': ${message}`);
    this.name = 'IrError';
  }
}
