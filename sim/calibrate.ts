// ADC calibration (adc.range 'calibrated'): the full scale of each crossbar layer's ADCs, per weight digit,
// is the given percentile of |column sums| that digit's conversions see on calibration inputs with ideal cells.
// With adc.center 'calibrated', the range is [lo, hi] instead, the (100 − p)/2 and (100 + p)/2 percentiles of
// the signed sums, held as an integer centre c = round((lo + hi)/2) and full scale max(hi − c, c − lo).
// Column sums are integers in [−maxSum, maxSum], counted in a histogram per layer (one bin per
// integer up to 2^20 bins, wider bins beyond: the full scale is then the outer edge of its bin).
import { lower } from '../compiler/lower/lower.js';
import type { Graph } from '../compiler/ir/types.js';
import type { LayerMapping } from '../compiler/lower/schedule.js';
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

/** Per crossbar layer (node id) and weight digit, in unit levels: the full scale and (adc.center 'calibrated') the centre. */
export interface AdcCalibration {
  readonly fullScale: ReadonlyMap<string, readonly number[]>;
  readonly center?: ReadonlyMap<string, readonly number[]>;
}

/** The ADC ranges a schedule was lowered with (e.g. to keep the ones a QAT run trained with). */
export function adcCalibrationOf(layers: readonly LayerMapping[]): AdcCalibration {
  const xbar = layers.filter((l) => l.adc);
  const centred = xbar.some((l) => l.adc!.center);
  return {
    fullScale: new Map(xbar.map((l) => [l.layer, l.adc!.fullScale])),
    ...(centred ? { center: new Map(xbar.map((l) => [l.layer, l.adc!.center ?? l.adc!.fullScale.map(() => 0)])) } : {}),
  };
}

export function calibrateAdc(graph: Graph, spec: AcceleratorSpec, x: Float32Array, n: number, percentile: number, opts: CalibrationOptions = {}): AdcCalibration {
  const centred = spec.adc.center === 'calibrated';
  const probe = lower(graph, { ...spec, adc: { ...spec.adc, range: 'max', center: 'zero' }, architecture: { ...spec.architecture, duplicate: false } });
  const sim = new Simulator(graph, probe);
  const hist = new Map<string, Float64Array[]>();
  const maxSum = new Map<string, number>();
  for (const l of probe.layers) {
    if (l.where !== 'crossbar') continue;
    // signed sums (centred): bins over [−maxSum, maxSum]; else |sums| over [0, maxSum]
    const span = centred ? 2 * l.adc!.maxSum + 1 : l.adc!.maxSum + 1;
    hist.set(l.layer, Array.from({ length: spec.weights.cellsPerWeight }, () => new Float64Array(Math.min(span, centred ? 2 * MAX_BINS : MAX_BINS))));
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
        const m = maxSum.get(layer)!;
        if (centred) {
          const perBin = hs[0].length / (2 * m + 1);
          for (let k = 0; k < y.length; k++) hs[Math.floor(k / nb) % digits][Math.max(0, Math.min(top, Math.floor((y[k] + m) * perBin)))]++;
        } else {
          const perBin = hs[0].length / (m + 1);
          for (let k = 0; k < y.length; k++) hs[Math.floor(k / nb) % digits][Math.min(top, Math.floor(Math.abs(y[k]) * perBin))]++;
        }
      },
    });
    opts.onProgress?.({ phase: 'calibrate ADC', done: i + b, total: n });
  }
  const fullScale = new Map<string, number[]>();
  const center = new Map<string, number[]>();
  for (const [layer, hs] of hist) {
    const m = maxSum.get(layer)!;
    if (!centred) {
      fullScale.set(layer, hs.map((h) => {
        const v = firstBeyond(h, (percentile / 100) * total(h), false, true);
        const width = (m + 1) / h.length;
        return Math.max(1, Math.min(Math.ceil((v + 1) * width) - 1, m));
      }));
      continue;
    }
    const ranges = hs.map((h) => {
      // each tail keeps (100 − p)/2 % of the sums outside the range
      const tail = ((100 - percentile) / 200) * total(h);
      const width = (2 * m + 1) / h.length;
      const lo = Math.floor(firstBeyond(h, tail, false, false) * width) - m;
      const hi = Math.ceil((firstBeyond(h, tail, true, false) + 1) * width) - 1 - m;
      const c = Math.round((lo + hi) / 2);
      return { c, fs: Math.max(1, Math.min(Math.max(hi - c, c - lo), m)) };
    });
    fullScale.set(layer, ranges.map((r) => r.fs));
    center.set(layer, ranges.map((r) => r.c));
  }
  return centred ? { fullScale, center } : { fullScale };
}

const total = (h: Float64Array) => h.reduce((a, c) => a + c, 0);

/**
 * The first bin (from the top when `fromTop`) at which the running count exceeds `count` (reaches it when
 * `inclusive`, the |sums| percentile's rule); an empty histogram gives the first bin.
 */
function firstBeyond(h: Float64Array, count: number, fromTop: boolean, inclusive: boolean): number {
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    const v = fromTop ? h.length - 1 - i : i;
    seen += h[v];
    if (inclusive ? seen >= count : seen > count) return v;
  }
  return fromTop ? h.length - 1 : 0;
}
