// A finished profile job's per-layer latency against the predictors fitted on a latency dataset
// (Backend.latencyComparison with `profile`). Measured: the job Report's raw samples per original layer, in
// seconds. Predicted: each method's PredictorTarget run on the graph the job timed with the input it timed, so
// the rows are aggregated per original layer exactly as the Report's (layerRows). That graph is rebuilt with the
// profile command's own steps (profiledModel: default PTQ of a float model with the job's calibration count, the
// first test image) rather than approximated by the float graph: PTQ folds batch norms (another node set), and
// the board runtime's time depends on the share of zero input codes (a feature), which only the int8 graph on
// that input gives. The rebuild costs one PTQ (seconds), so the backend keeps the last few. The job's Report
// lists each row's nodes: a rebuilt graph that differs (the model changed since the job) is a warning.
import type { LatencySamples, Report } from '../../compiler/contracts/report.js';
import type { TargetDescription } from '../../compiler/contracts/target.js';
import type { Dataset } from '../../hw-targets/predictor/dataset.js';
import { type LatencyPredictor, METHODS } from '../../hw-targets/predictor/predictor.js';
import { PredictorTarget } from '../../hw-targets/predictor/target.js';
import type { ProfiledModel } from '../../cli/commands/profile.js';
import type { LatencyComparison } from '../api/types.js';

/** The parts of `tandem profile --json` read here. */
export interface ProfileOutput {
  readonly target: TargetDescription;
  readonly images: number;
  readonly report: Report;
}

/** Raw samples in seconds (cycles over the clock); undefined without samples, or for cycles without a clock. */
export function inSeconds(l: LatencySamples | undefined): number[] | undefined {
  if (!l?.samples.length) return undefined;
  if (l.unit === 's') return [...l.samples];
  return l.clockHz ? l.samples.map((v) => v / l.clockHz!) : undefined;
}

/** The graph and input a profile job timed. */
export type ProfiledRun = Pick<ProfiledModel, 'graph' | 'x' | 'n'>;

export interface ProfileComparisonInput {
  readonly dataset: string;
  /** The dataset's file: predictor rows name it as their target. */
  readonly file: string;
  readonly ds: Dataset;
  readonly predictor: LatencyPredictor;
  readonly jobId: string;
  /** The job's ModelRef. */
  readonly model: string;
  /** The job's --target. */
  readonly jobTarget: string;
  readonly output: ProfileOutput;
  /** Rebuilt by profiledModel. */
  readonly ran: ProfiledRun;
}

export async function compareProfile(o: ProfileComparisonInput): Promise<LatencyComparison> {
  const predicted = new Map<string, Record<string, number>>();
  const predictedNodes = new Map<string, readonly string[]>();
  for (const method of METHODS) {
    const target = new PredictorTarget(o.file, o.predictor, method);
    await target.load({ graph: o.ran.graph });
    const { report } = await target.run({ data: o.ran.x, batch: o.ran.n });
    for (const row of report.rows) {
      const s = inSeconds(row.latency);
      if (!s) continue;
      // one prediction per timed input (they differ only by the input's zeros): their mean is the layer's
      const p = predicted.get(row.layer) ?? {};
      p[method] = s.reduce((a, b) => a + b, 0) / s.length;
      predicted.set(row.layer, p);
      predictedNodes.set(row.layer, row.nodes ?? []);
    }
  }
  const measured = o.output.report.rows.flatMap((r) => {
    const samples = inSeconds(r.latency);
    return samples ? [{ layer: r.layer, nodes: r.nodes, samples }] : [];
  });
  const measuredNames = new Set(measured.map((r) => r.layer));
  const both = measured.filter((r) => predicted.has(r.layer));
  const dropped = { measuredOnly: measured.filter((r) => !predicted.has(r.layer)).map((r) => r.layer), predictedOnly: [...predicted.keys()].filter((l) => !measuredNames.has(l)) };

  const warnings: string[] = [];
  if (o.ds.target.spec !== o.jobTarget) {
    warnings.push(`the predictors were fitted on ${o.ds.target.spec} (${o.ds.target.name}) but job ${o.jobId} ran on ${o.jobTarget} (${o.output.target.name}): measured and predicted times are of different targets`);
  }
  const changed = both.find((r) => r.nodes && r.nodes.join() !== predictedNodes.get(r.layer)!.join());
  if (changed) warnings.push(`layer ${changed.layer}: job ${o.jobId} timed nodes ${changed.nodes!.join(', ')}, the model now gives ${predictedNodes.get(changed.layer)!.join(', ')}: the model changed since the job ran`);

  return {
    dataset: o.dataset,
    target: o.ds.target.name,
    model: o.model,
    unit: 's',
    profile: { jobId: o.jobId, target: o.jobTarget, targetName: o.output.target.name },
    ...(dropped.measuredOnly.length || dropped.predictedOnly.length ? { dropped } : {}),
    ...(warnings.length ? { warning: warnings.join('; ') } : {}),
    layers: both.map((r) => ({ layer: r.layer, samples: r.samples, predicted: predicted.get(r.layer)! })),
  };
}
