// The numbers a candidate is judged by, each from one source: the accelerator's cost model on the lowered
// Schedule (energy, latency, arrays), a Target's Report (latency measured on a board or host, or predicted),
// or the Graph (params, MACs). Every metric comes with its per-layer split (by original layer), which the
// strategies use to weigh layers and the report shows.
import type { Report } from '../compiler/contracts/report.js';
import type { Target } from '../compiler/contracts/target.js';
import { graphStats } from '../compiler/ir/graph.js';
import type { Graph } from '../compiler/ir/types.js';
import { costOf } from '../sim/cost/model.js';
import { scheduleFor } from '../sim/schedule-for.js';
import type { AcceleratorSpec } from '../sim/spec/types.js';
import { withOverride } from '../sim/spec/validate.js';
import type { MetricInfo } from './result.js';
import { metricKey, type MetricRef } from './problem.js';
import { quantileSorted } from '../hw-targets/targets/stats.js';

export interface MetricValue {
  readonly value: number;
  /** Per original layer, in the metric's unit; what lies outside layers is not listed. */
  readonly perLayer: ReadonlyMap<string, number>;
  /** The Report of a target run, kept for the run store's measurements. */
  readonly report?: Report;
}

/** Where the numbers come from: loaded specs and opened targets, keyed by the `on` of a MetricRef. */
export interface MetricSources {
  readonly accels: ReadonlyMap<string, AcceleratorSpec>;
  readonly targets: ReadonlyMap<string, Target>;
  /** Training images: ADC calibration and input activity when lowering. */
  readonly calib: { readonly x: Float32Array; readonly n: number };
  /** The one input timed on a target (NHWC, one sample). */
  readonly input: Float32Array;
  readonly signal?: AbortSignal;
}

/** Images the input activity of a candidate's schedule is measured on. */
export const ACTIVITY_IMAGES = 16;

const UNITS: Record<string, string> = { energy: 'µJ', latency: 'ms', arrays: 'arrays', params: 'params', macs: 'MACs' };

export function metricInfo(m: MetricRef, surrogate?: string): MetricInfo {
  const key = metricKey(m);
  const label = { energy: 'energy per image', latency: 'latency per image', arrays: 'crossbar arrays', params: 'parameters', macs: 'MACs' }[m.metric];
  const onAccel = m.on && (m.metric !== 'latency' || m.on.startsWith('sim:'));
  const source =
    m.metric === 'params' || m.metric === 'macs'
      ? 'graph'
      : onAccel
        ? `sim:${m.on!.replace(/^sim:/, '')} cost model`
        : m.on!.startsWith('predictor:')
          ? `${m.on} (predicted)`
          : `${m.on} (measured)${surrogate ? `; options ranked with ${surrogate}` : ''}`;
  return { key, label: `${label}${m.on ? ` on ${m.on}` : ''}`, unit: UNITS[m.metric], direction: 'min', source };
}

export const ACCURACY_INFO: MetricInfo = { key: 'accuracy', label: 'accuracy (int8, validation images)', unit: '%', direction: 'max', source: 'int8 model (fake-quant) on held-out training images' };

const median = (xs: readonly number[]) => quantileSorted(Float64Array.from(xs).sort(), 0.5);

/** Seconds or board cycles -> ms. */
function ms(samples: readonly number[], unit: 's' | 'cycles', clockHz: number | undefined, what: string): number {
  if (unit === 's') return median(samples) * 1e3;
  if (!clockHz) throw new Error(`${what}: latency in cycles without a clock frequency`);
  return (median(samples) / clockHz) * 1e3;
}

/**
 * Measures every metric in `refs` on an int8 graph. The schedule of each accelerator is made once and shared
 * by its metrics; each target runs the model once (1 warm-up, 3 timed repeats, per layer).
 */
export async function measureMetrics(int8: Graph, refs: readonly MetricRef[], src: MetricSources): Promise<Map<string, MetricValue>> {
  const out = new Map<string, MetricValue>();
  const costs = new Map<string, ReturnType<typeof costOf> & { arrays: number; arraysPerLayer: Map<string, number> }>();
  const reports = new Map<string, Report>();
  for (const m of refs) {
    const key = metricKey(m);
    if (out.has(key)) continue;
    if (m.metric === 'params' || m.metric === 'macs') {
      const st = graphStats(int8);
      const per = new Map<string, number>();
      for (const n of st.nodes) per.set(n.origin, (per.get(n.origin) ?? 0) + (m.metric === 'params' ? n.params : n.macs));
      out.set(key, { value: m.metric === 'params' ? st.totalParams : st.totalMacs, perLayer: per });
      continue;
    }
    const accel = m.metric !== 'latency' ? m.on! : m.on!.startsWith('sim:') ? m.on!.slice(4) : undefined;
    if (accel !== undefined) {
      let c = costs.get(accel);
      if (!c) {
        const spec = src.accels.get(accel);
        if (!spec) throw new Error(`accelerator '${accel}' was not loaded`);
        // The cost model does not read the ADC full scales (an ADC conversion costs the same at any range), so
        // the costly ADC calibration is skipped here; the exported Schedule is calibrated.
        const costSpec = spec.adc.range === 'calibrated' ? withOverride(spec, 'adc.range', 'max') : spec;
        // and the input activity (cell read energy) is measured on the first ACTIVITY_IMAGES images: 0.5% from a
        // 64-image measurement on fmnist-vgg, at a quarter of the time, the same for every candidate
        const per = src.calib.x.length / src.calib.n;
        const n = Math.min(src.calib.n, ACTIVITY_IMAGES);
        const { schedule } = scheduleFor(int8, costSpec, { x: src.calib.x.subarray(0, n * per), n }, { signal: src.signal });
        const arraysPerLayer = new Map<string, number>();
        const origin = new Map(int8.nodes.map((n) => [n.id, n.origin]));
        const seen = new Set<string>();
        for (const b of schedule.blocks) {
          const k = `${b.round}/${b.array}/${origin.get(b.layer)}`;
          if (seen.has(k)) continue;
          seen.add(k);
          const o = origin.get(b.layer) ?? b.layer;
          arraysPerLayer.set(o, (arraysPerLayer.get(o) ?? 0) + 1);
        }
        // every array the model occupies, over all programming rounds: what a fully resident model needs
        const arrays = new Set(schedule.blocks.map((b) => `${b.round}/${b.array}`)).size;
        c = { ...costOf(schedule), arrays, arraysPerLayer };
        costs.set(accel, c);
      }
      if (m.metric === 'arrays') {
        out.set(key, { value: c.arrays, perLayer: c.arraysPerLayer });
      } else if (m.metric === 'energy') {
        const per = new Map<string, number>();
        for (const l of c.layers) per.set(l.origin, (per.get(l.origin) ?? 0) + Object.values(l.energyPj).reduce((a, b) => a + b, 0) / 1e6);
        out.set(key, { value: c.energyPerInferencePj / 1e6, perLayer: per });
      } else {
        const per = new Map<string, number>();
        for (const l of c.layers) per.set(l.origin, (per.get(l.origin) ?? 0) + l.timeNs / 1e6);
        out.set(key, { value: c.latencyNs / 1e6, perLayer: per });
      }
      continue;
    }
    let r = reports.get(m.on!);
    if (!r) {
      const t = src.targets.get(m.on!);
      if (!t) throw new Error(`target '${m.on}' was not opened`);
      await t.load({ graph: int8 }, { signal: src.signal });
      r = (await t.run({ data: src.input, batch: 1 }, { warmup: 1, repeats: 3, perLayer: true, signal: src.signal })).report;
      reports.set(m.on!, r);
    }
    const total = r.total?.latency;
    if (!total?.samples.length) throw new Error(`target ${m.on} returned no total latency`);
    const per = new Map<string, number>();
    for (const row of r.rows) if (row.latency?.samples.length) per.set(row.layer, ms(row.latency.samples, row.latency.unit, row.latency.clockHz ?? total.clockHz, `${m.on} layer ${row.layer}`));
    out.set(key, { value: ms(total.samples, total.unit, total.clockHz, `target ${m.on}`), perLayer: per, report: r });
  }
  return out;
}
