// The CIM simulator as a Target: outputs from the simulated accelerator (exact mode = the integer executor bit
// for bit; analog mode samples the spec's non-idealities with a seed), and per layer the cost model's latency
// and energy. The cost model is deterministic, so a row carries one latency sample (a model, not a
// measurement), whatever the repeats. A model without a compiled schedule is lowered on load, with the ADC
// ranges calibrated on the images given to calibrate() (as `tandem compile` does).
import type { LayerReport, Report } from '../../compiler/contracts/report.js';
import type { CompiledModel, RunInput, RunOptions, RunResult, Target, TargetDescription } from '../../compiler/contracts/target.js';
import type { Schedule } from '../../compiler/lower/schedule.js';
import { throwIfAborted, type ProgressFn } from '../../compiler/util/progress.js';
import { analogDevices, scheduleInputActivity } from '../../sim/analog.js';
import { costOf } from '../../sim/cost/model.js';
import { scheduleFor } from '../../sim/schedule-for.js';
import { EXACT_DEVICES, type SimMode, Simulator } from '../../sim/simulate.js';
import type { AcceleratorSpec } from '../../sim/spec/types.js';
import { layerRows } from './layer-rows.js';

const BATCH = 32;

export interface SimTargetOptions {
  readonly spec: AcceleratorSpec;
  readonly mode?: SimMode;
  /** Analog mode: Monte-Carlo seed of the device sample (programming, stuck cells, read noise). */
  readonly seed?: number;
  /** Analog mode: seconds from programming to inference (drift). */
  readonly timeS?: number;
  readonly onProgress?: ProgressFn;
}

export class SimTarget implements Target {
  private sim?: Simulator;
  private calib?: { readonly x: Float32Array; readonly n: number };
  private readonly mode: SimMode;
  private readonly seed: number;

  constructor(private readonly o: SimTargetOptions) {
    this.mode = o.mode ?? 'exact';
    this.seed = o.seed ?? 1;
  }

  private get executor(): string {
    return `sim:${this.o.spec.name}:${this.mode}`;
  }

  describe(): Promise<TargetDescription> {
    const s = this.o.spec;
    return Promise.resolve({
      id: this.executor,
      kind: 'sim',
      name: `Tandem CIM simulator, accelerator '${s.name}' (${s.crossbar.rows}x${s.crossbar.cols} crossbars), ${this.mode} mode`,
      runtime: 'sim',
      capabilities: { perLayerTiming: true, dtypes: ['int8'] },
      details: { mode: this.mode, ...(this.mode === 'analog' ? { seed: this.seed, timeS: this.o.timeS ?? 0 } : {}) },
    });
  }

  /** Real images for the ADC calibration and input activity of a model loaded without a schedule. */
  calibrate(calib: { readonly x: Float32Array; readonly n: number }): void {
    this.calib = calib;
  }

  load(model: CompiledModel): Promise<void> {
    try {
      this.loadNow(model);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  private loadNow(model: CompiledModel): void {
    let schedule = model.schedule as Schedule | undefined;
    if (!schedule) {
      if (!this.calib) throw new Error(`sim target: the model has no schedule and no calibration images were given to lower it for '${this.o.spec.name}' (call calibrate() first)`);
      schedule = scheduleFor(model.graph, this.o.spec, this.calib, { onProgress: this.o.onProgress }).schedule;
    }
    const devices = this.mode === 'exact' ? EXACT_DEVICES : analogDevices(schedule.spec, { seed: this.seed, timeS: this.o.timeS ?? 0, inputActivity: scheduleInputActivity(schedule) });
    // Simulator checks that the schedule was compiled for this graph (hash) and verifies it
    this.sim = new Simulator(model.graph, schedule, devices);
  }

  run(input: RunInput, options: RunOptions = {}): Promise<RunResult> {
    const sim = this.sim;
    if (!sim) return Promise.reject(new Error('sim target: no model loaded (call load() first)'));
    const g = sim.graph;
    const per = g.inputs[0].shape.reduce((a, b) => a * b, 1);
    const outs: Float32Array[] = [];
    // batches of BATCH: progress and cancel between them, the simulator's own batching within
    for (let b0 = 0; b0 < input.batch; b0 += BATCH) {
      throwIfAborted(options.signal);
      const b = Math.min(BATCH, input.batch - b0);
      outs.push(sim.run(input.data.subarray(b0 * per, (b0 + b) * per), b).outputs[0]);
      this.o.onProgress?.({ phase: 'simulate', done: b0 + b, total: input.batch });
    }
    const out = new Float32Array(outs.reduce((a, o) => a + o.length, 0));
    let at = 0;
    for (const o of outs) out.set(o, (at += o.length) - o.length);
    const cost = costOf(sim.schedule);
    const rows = withEnergy(
      layerRows(g, this.executor, cost.layers.map((l) => ({ node: l.layer, samples: [l.timeNs / 1e9] })), 's'),
      new Map(cost.layers.map((l) => [l.layer, l.energyPj] as const)),
    );
    const energyPj = Object.values(cost.energyPj).reduce((a, v) => a + v, 0);
    const report: Report = {
      model: g.name,
      executor: this.executor,
      createdAt: new Date().toISOString(),
      ...(this.mode === 'analog' ? { seed: this.seed } : {}),
      rows,
      total: { latency: { unit: 's', samples: [cost.latencyNs / 1e9] }, energy: { joules: energyPj / 1e12, breakdown: scale(cost.energyPj, 1e-12) }, macs: cost.macs },
    };
    return Promise.resolve({ outputs: [out], report });
  }

  close(): Promise<void> {
    this.sim = undefined;
    return Promise.resolve();
  }
}

const scale = (e: Readonly<Record<string, number>>, k: number) => Object.fromEntries(Object.entries(e).map(([c, v]) => [c, v * k]));

/** Each row's energy: the sum over its nodes (an origin may have several). */
function withEnergy(rows: LayerReport[], byNode: ReadonlyMap<string, Readonly<Record<string, number>>>): LayerReport[] {
  return rows.map((r) => {
    const parts = (r.nodes ?? []).flatMap((n) => (byNode.has(n) ? [byNode.get(n)!] : []));
    if (!parts.length) return r;
    const breakdown: Record<string, number> = {};
    for (const p of parts) for (const [c, v] of Object.entries(p)) breakdown[c] = (breakdown[c] ?? 0) + v * 1e-12;
    return { ...r, energy: { joules: Object.values(breakdown).reduce((a, v) => a + v, 0), breakdown } };
  });
}
