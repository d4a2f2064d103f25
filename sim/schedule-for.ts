// A quantized graph lowered for an accelerator as `tandem compile` does it: ADC full scales calibrated on
// real images when the spec asks for it, the input activity (cell read energy) measured on the first few of
// them, the schedule verified. Shared by compile/simulate and the sim Target.
import { lower } from '../compiler/lower/lower.js';
import type { Schedule } from '../compiler/lower/schedule.js';
import { verifySchedule } from '../compiler/lower/verify.js';
import type { Graph } from '../compiler/ir/types.js';
import type { ProgressFn } from '../compiler/util/progress.js';
import { type AdcCalibration, calibrateAdc } from './calibrate.js';
import { measureInputActivity } from './cost/activity.js';
import type { AcceleratorSpec } from './spec/types.js';

/** Images for the input activity: a density converges long before the ADC percentiles do. */
export const ACTIVITY_IMAGES = 64;

export interface ScheduleFor {
  readonly schedule: Schedule;
  /** What was measured on which images, for the caller's notes. */
  readonly notes: readonly string[];
}

export interface ScheduleForOptions {
  /** ADC ranges per layer and digit to keep instead of calibrating (e.g. the ones a QAT run trained with). */
  readonly adc?: AdcCalibration;
  readonly onProgress?: ProgressFn;
  readonly signal?: AbortSignal;
}

/** `calib`: real input images (NHWC, batch-major); the activity uses the first ACTIVITY_IMAGES of them. */
export function scheduleFor(graph: Graph, spec: AcceleratorSpec, calib: { readonly x: Float32Array; readonly n: number }, o: ScheduleForOptions = {}): ScheduleFor {
  const notes: string[] = [];
  let calibrated = o.adc;
  if (spec.adc.range === 'calibrated' && !calibrated) {
    calibrated = calibrateAdc(graph, spec, calib.x, calib.n, spec.adc.calibrationPercentile!, o);
    const p = spec.adc.calibrationPercentile!;
    notes.push(
      spec.adc.center === 'calibrated'
        ? `ADC range per layer: the ${+((100 - p) / 2).toPrecision(6)}th to ${+((100 + p) / 2).toPrecision(6)}th percentiles of the column sums of each weight digit on ${calib.n} training images, centred there`
        : `ADC full scale per layer: the ${p}th percentile of |column sums| of each weight digit on ${calib.n} training images`,
    );
  }
  const nActivity = Math.min(calib.n, ACTIVITY_IMAGES);
  const inputActivity = measureInputActivity(graph, spec, calib.x, nActivity);
  notes.push(`input activity per layer (cell read energy): measured on ${nActivity} training images`);
  const schedule = lower(graph, spec, { calibratedFullScale: calibrated?.fullScale, calibratedCenter: calibrated?.center, inputActivity });
  verifySchedule(schedule, graph);
  return { schedule, notes };
}
