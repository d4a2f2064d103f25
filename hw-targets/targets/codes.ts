// Real inputs -> int8 codes a board takes, and a board's output codes -> the graph's real outputs, with the
// integer executor's own arithmetic (docs/int8-semantics.md), so a board's outputs compare with runInt8's.
import { type Graph, OpKind } from '../../compiler/ir/types.js';
import { quantizeInput } from '../../compiler/passes/quantize/int8-executor.js';
import { type ValueParams, valueParams } from '../../compiler/passes/quantize/scheme.js';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export interface CodeIo {
  /** Values per sample of the graph input. */
  readonly inputSize: number;
  /** Input codes of sample `i` of a batch-major real input. */
  inputCodes(data: Float32Array, i: number): Int8Array;
  /** Graph output (batch-major reals) from each sample's output codes. */
  outputReals(codes: readonly Int8Array[]): Float32Array;
}

export function codeIo(graph: Graph): CodeIo {
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) throw new Error(`graph '${graph.name}': a board runs one input and one output (has ${graph.inputs.length} and ${graph.outputs.length})`);
  const params = valueParams(graph);
  const input = graph.inputs[0];
  const pin = params.get(input.id)!;
  const last = graph.nodes[graph.nodes.length - 1];
  const softmax = last.op === OpKind.Softmax;
  // The blob's output is the last node, or the logits before a final softmax (docs/blob-format.md).
  const outId = softmax ? last.inputs[0] : last.id;
  const pout: ValueParams = params.get(outId)!;
  const inputSize = prod(input.shape);
  return {
    inputSize,
    inputCodes(data, i) {
      const x = data.subarray(i * inputSize, (i + 1) * inputSize);
      if (x.length !== inputSize) throw new Error(`input sample ${i}: ${x.length} of ${inputSize} values`);
      return Int8Array.from(quantizeInput(x, pin));
    },
    outputReals(codes) {
      const C = codes[0]?.length ?? 0;
      const out = new Float32Array(codes.length * C);
      codes.forEach((q, r) => {
        if (!softmax) {
          for (let c = 0; c < C; c++) out[r * C + c] = pout.scale * (q[c] - pout.zeroPoint);
          return;
        }
        // as runInt8 does: softmax in float64 of the dequantized logits
        let m = -Infinity;
        for (let c = 0; c < C; c++) m = Math.max(m, q[c]);
        const e = new Float64Array(C);
        let s = 0;
        for (let c = 0; c < C; c++) s += e[c] = Math.exp(pout.scale * (q[c] - m));
        for (let c = 0; c < C; c++) out[r * C + c] = e[c] / s;
      });
      return out;
    },
  };
}
