// ADC calibration (adc.range 'calibrated'): the full scale of each crossbar layer's ADCs, per weight digit,
// is the given percentile of |column sums| that digit's conversions see on calibration inputs with ideal cells.
// Column sums are integers in [−maxSum, maxSum], counted in a histogram per layer (one bin per
// integer up to 2^20 bins, wider bins beyond: the full scale is then the upper edge of its bin).
import { lower } from '../compiler/lower/lower.js';
import type { Graph } from '../compiler/ir/types.js';
import { throwIfAborted } from '../compiler/util/progress.js';
import type { ProgressFn } from '../compiler/contracts/index.js';
import { Simulator } from './simulate.js';
import type { AcceleratorSpec } from './spec/types.js';

const MAX_BINS = 1 << 20;

export interface CalibrationOptions {
  readonly batch?: number;
  readonly onProgress?: ProgressFn;
  readonly signal?: AbortSignal;
}

/** Full scale per crossbar layer (node id) and weight digit, in unit levels. */
export function calibrateAdc(graph: Graph, spec: AcceleratorSpec, x: Float32Array, n: number, percentile: number, opts: CalibrationOptions = {}): Map<string, number[]> {
  const probe = lower(graph, { ...spec, adc: { ...spec.adc, range: 'max' }, architecture: { ...spec.architecture, duplicate: false } });
  const sim = new Simulator(graph, probe);
  const hist = new Map<string, Float64Array[]>();
  const maxSum = new Map<string, number>();
  for (const l of probe.layers) {
    if (l.where !== 'crossbar') continue;
    hist.set(l.layer, Array.from({ length: spec.weights.cellsPerWeight }, () => new Float64Array(Math.min(l.adc!.maxSum + 1, MAX_BINS))));
    maxSum.set(l.layer, l.adc!.maxSum);
  }
  const per = graph.inputs[0].shape.reduce((a, b) => a * b, 1);
  const batch = opts.batch ?? 32;
  for (let i = 0; i < n; i += batch) {
    throwIfAborted(opts.signal);
    const b = Math.min(batch, n - i);
    sim.run(x.subarray(i * per, (i + b) * per), b, {
      observe: (layer, y, nb, digits) => {
        const hs = hist.get(layer)!;
        const top = hs[0].length - 1;
        const perBin = hs[0].length / (maxSum.get(layer)! + 1);
        for (let k = 0; k < y.length; k++) hs[Math.floor(k / nb) % digits][Math.min(top, Math.floor(Math.abs(y[k]) * perBin))]++;
      },
    });
    opts.onProgress?.({ phase: 'calibrate ADC', done: i + b, total: n });
  }
  const out = new Map<string, number[]>();
  for (const [layer, hs] of hist) {
    out.set(
      layer,
      hs.map((h) => {
        const total = h.reduce((a, c) => a + c, 0);
        const want = (percentile / 100) * total;
        let seen = 0;
        let v = 0;
        for (; v < h.length; v++) {
          seen += h[v];
          if (seen >= want) break;
        }
        const width = (maxSum.get(layer)! + 1) / h.length;
        return Math.max(1, Math.min(Math.ceil((v + 1) * width) - 1, maxSum.get(layer)!));
      }),
    );
  }
  return out;
}
