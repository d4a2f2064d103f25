// How hard a block's rows are driven: the mean input drive per row and input cycle, as a fraction of
// full scale, measured on calibration inputs. Bit-serial (dacBits 1): the density of 1 bits; a
// k-bit DAC cycle applies digit/(2^k − 1) of the read voltage's drive (PWM: of the read time). The
// cost model charges cell reads in proportion (sim/cost/model.ts).
import { type Graph, OpKind } from '../../compiler/ir/types.js';
import { type AccumulateHook, integerLayers, runInt8 } from '../../compiler/passes/quantize/int8-executor.js';
import { activationRange } from '../../compiler/passes/quantize/scheme.js';
import type { AcceleratorSpec } from '../spec/types.js';
import { unrollInputs } from '../unroll.js';

/** Used when no calibration inputs are given: half the bits set. */
export const DEFAULT_INPUT_ACTIVITY = 0.5;

/**
 * Per conv/dense node id: the mean over every row, input cycle and vector of the n images (NHWC,
 * batch-major) of digit_t(u)/(2^dacBits − 1), u = q − qmin the code the DACs apply (padding included,
 * at the code of real 0), as the crossbar sees it.
 */
export function measureInputActivity(graph: Graph, spec: AcceleratorSpec, x: Float32Array, n: number, batch = 32): Map<string, number> {
  const dac = spec.input.dacBits;
  const full = 2 ** dac - 1;
  const sums = new Map<string, { drive: number; count: number }>();
  const observe: AccumulateHook = (node, codes, b, xs, ys, _layer, pin) => {
    if (node.op === OpKind.Conv2d && node.attrs.groups !== 1) return undefined;
    const u = unrollInputs(node, codes, 0, b, xs, ys, activationRange(pin.bits)[0], pin.zeroPoint);
    const cycles = Math.ceil(pin.bits / dac);
    let drive = 0;
    for (let i = 0; i < u.length; i++) {
      let v = u[i];
      for (let t = 0; t < cycles; t++, v = Math.floor(v / 2 ** dac)) drive += v % 2 ** dac;
    }
    let s = sums.get(node.id);
    if (!s) sums.set(node.id, (s = { drive: 0, count: 0 }));
    s.drive += drive / full;
    s.count += u.length * cycles;
    return undefined; // the integer executor computes the layer
  };
  const layers = integerLayers(graph);
  const per = graph.inputs[0].shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    runInt8(graph, x.subarray(i * per, (i + b) * per), b, { accumulate: observe, layers });
  }
  return new Map([...sums].map(([id, s]) => [id, s.count ? s.drive / s.count : DEFAULT_INPUT_ACTIVITY]));
}
