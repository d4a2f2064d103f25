// One model replica computing loss and gradients on a (part of a) batch with tfjs.
// Runs inside a worker thread (data-parallel training) or in-process.
import * as tf from '@tensorflow/tfjs';
import { type Graph, OpKind, QAT_RANGE_WEIGHT } from '../ir/types.js';
import { fakeQuantForward } from '../passes/quantize/fake-quant.js';
import { applyRanges } from '../passes/quantize/qat-ranges.js';
import { valueParams } from '../passes/quantize/scheme.js';
import { acceleratorModel, type AcceleratorModel, type AcceleratorSpec, withAccelerator } from './accelerator.js';
import { type ForwardOptions, forward, type Params, paramsFromGraph } from './executor.js';
import type { ParamLayout } from './flat-params.js';

/**
 * crossEntropy: targets are class ids; if the graph ends in softmax, the loss is computed from its
 * input (the logits) for numerical stability. mse: targets have the output's shape.
 */
export type LossKind = 'crossEntropy' | 'mse';

export interface StepResult {
  /** Mean loss over the shard. */
  readonly loss: number;
  /** Correct top-1 predictions (crossEntropy only). */
  readonly correct: number;
  /** BatchNorm batch statistics: per BN node in graph order, C means then C variances. */
  readonly stats: Float32Array;
}

/**
 * Knowledge distillation (Hinton et al. 2015): the loss is (1 - alpha)·cross-entropy + alpha·T²·KL(teacher_T ‖
 * student_T) on logits softened by the temperature T; the teacher (e.g. the model before compression)
 * runs in inference mode on the same augmented batch.
 */
export interface Distillation {
  readonly teacher: Graph;
  readonly alpha: number;
  readonly temperature: number;
}

/** The logits value of a classifier (the softmax input when the graph ends in softmax). */
function logitsOf(graph: Graph): string {
  const out = graph.nodes.find((n) => n.id === graph.outputs[0]);
  return out?.op === OpKind.Softmax ? out.inputs[0] : graph.outputs[0];
}

export class Replica {
  private readonly lossOutput: string;
  private readonly teacher?: { readonly d: Distillation; readonly params: Params; readonly logits: string };
  private readonly bnOffsets = new Map<string, number>();
  private readonly rangeOffsets = new Map<string, number>();
  private readonly statsSize: number;

  private readonly accelerator?: AcceleratorModel;

  constructor(
    readonly graph: Graph,
    readonly layout: ParamLayout,
    readonly loss: LossKind,
    accelerator?: AcceleratorSpec,
    distill?: Distillation,
  ) {
    this.accelerator = accelerator && acceleratorModel(accelerator);
    this.lossOutput = loss === 'crossEntropy' ? logitsOf(graph) : graph.outputs[0];
    if (distill) {
      if (loss !== 'crossEntropy') throw new Error('distillation needs a classification (cross-entropy) loss');
      this.teacher = { d: distill, params: paramsFromGraph(distill.teacher), logits: logitsOf(distill.teacher) };
    }
    let off = 0;
    for (const n of graph.nodes) {
      if (n.op !== OpKind.BatchNorm) continue;
      this.bnOffsets.set(n.id, off);
      off += 2 * n.weights.mean.data.length;
    }
    // then [min, max] of every QAT range-tracking value (trainer.ts's updateRunningStats reads them in this order)
    for (const n of graph.nodes) {
      if (!n.weights[QAT_RANGE_WEIGHT]) continue;
      this.rangeOffsets.set(n.id, off);
      off += 2;
    }
    this.statsSize = off;
  }

  /**
   * The forward pass: a quantized graph (its input carries quantization parameters) runs fake-quantized,
   * so training it is quantization-aware training (straight-through gradients). With an accelerator
   * model, conv/dense run the way that accelerator computes them (train/accelerator.ts), seeing the
   * values' quantization parameters as this pass uses them (QAT: from the current ranges).
   */
  private run(params: Params, x: tf.Tensor, base: ForwardOptions): tf.Tensor[] {
    const quantized = !!this.graph.inputs[0].quant;
    const values = this.accelerator && quantized ? valueParams(applyRanges(this.graph, (n) => params.get(n.id)?.[QAT_RANGE_WEIGHT]?.dataSync())) : undefined;
    const opts = this.accelerator ? withAccelerator(this.accelerator, base, values) : base;
    if (quantized) return fakeQuantForward(this.graph, params, x, opts, !!opts.training);
    return forward(this.graph, params, [x], opts);
  }

  private tensors(flat: Float32Array, only?: (s: ParamLayout['slots'][number]) => boolean): { params: Params; list: tf.Tensor[] } {
    const params: Params = new Map();
    const list: tf.Tensor[] = [];
    for (const s of this.layout.slots) {
      const t = tf.tensor(flat.subarray(s.offset, s.offset + s.length), [...s.shape], 'float32');
      if (!params.has(s.node)) params.set(s.node, {});
      params.get(s.node)![s.name] = t;
      if (!only || only(s)) list.push(t);
    }
    return { params, list };
  }

  /** Computes the shard's mean loss and writes d(loss)/d(params) into `gradOut` (zeros for non-trainable). */
  step(flat: Float32Array, x: Float32Array, y: Float32Array, n: number, seed: number, gradOut: Float32Array): StepResult {
    const stats = new Float32Array(this.statsSize);
    let correct = 0;
    const inShape = this.graph.inputs[0].shape;
    const trainable = this.layout.slots.filter((s) => s.trainable);
    const result = tf.tidy(() => {
      const { params, list } = this.tensors(flat, (s) => s.trainable);
      const xt = tf.tensor(x.subarray(0, n * inShape.reduce((a, b) => a * b, 1)), [n, ...inShape]);
      const t = this.teacher;
      // log p_t at temperature T (not differentiated: computed outside f)
      const logTeacher = t && tf.logSoftmax(tf.div(forward(t.d.teacher, t.params, [xt], { outputs: [t.logits] })[0], t.d.temperature));
      const f = (...ws: tf.Tensor[]): tf.Scalar => {
        // Re-point trainable slots at the differentiated tensors.
        trainable.forEach((s, i) => (params.get(s.node)![s.name] = ws[i]));
        const [out] = this.run(params, xt, {
          training: true,
          seed,
          outputs: [this.lossOutput],
          onBatchStats: (id, mean, variance) => {
            const o = this.bnOffsets.get(id)!;
            stats.set(mean, o);
            stats.set(variance, o + mean.length);
          },
          onActivationRange: (id, lo, hi) => stats.set([lo, hi], this.rangeOffsets.get(id)!),
        });
        if (this.loss === 'mse') return tf.losses.meanSquaredError(tf.tensor(y.subarray(0, out.size), out.shape), out) as tf.Scalar;
        const labels = tf.tensor1d(y.subarray(0, n), 'int32');
        correct = (tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), labels), 'int32')).dataSync() as Int32Array)[0];
        const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, out.shape[1] as number), out) as tf.Scalar;
        if (!t || !logTeacher) return ce;
        // T²·KL(p_t ‖ p_s) = T²·mean over the batch of Σ p_t (log p_t - log p_s)
        const T = t.d.temperature;
        const kl = tf.mul(T * T, tf.mean(tf.sum(tf.mul(tf.exp(logTeacher), tf.sub(logTeacher, tf.logSoftmax(tf.div(out, T)))), 1)));
        return tf.add(tf.mul(1 - t.d.alpha, ce), tf.mul(t.d.alpha, kl)) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(f)(list);
      gradOut.fill(0);
      trainable.forEach((s, i) => gradOut.set(grads[i].dataSync() as Float32Array, s.offset));
      return value.dataSync()[0];
    });
    return { loss: result, correct, stats };
  }

  /** Frees the teacher's weight tensors (they live as long as the replica, outside any tidy). */
  dispose(): void {
    for (const w of this.teacher?.params.values() ?? []) tf.dispose(Object.values(w));
  }

  /** Inference output (graph output 0) for n samples. */
  predict(flat: Float32Array, x: Float32Array, n: number): Float32Array {
    const inShape = this.graph.inputs[0].shape;
    return tf.tidy(() => {
      const { params } = this.tensors(flat);
      const xt = tf.tensor(x.subarray(0, n * inShape.reduce((a, b) => a * b, 1)), [n, ...inShape]);
      return this.run(params, xt, {})[0].dataSync() as Float32Array;
    });
  }
}
