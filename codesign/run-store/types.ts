// What the run store keeps: one profiling (later: simulation, co-design step) run with its per-layer Report.
import type { LayerReport, Report } from '../../compiler/contracts/report.js';
import type { TargetDescription } from '../../compiler/contracts/target.js';

export interface RunOptions {
  readonly warmup?: number;
  readonly repeats?: number;
  readonly images?: number;
  readonly seed?: number;
  /** Anything else the command was given that shapes the numbers (e.g. calib). */
  readonly [key: string]: unknown;
}

export interface RunModel {
  /** As the user named it: a built-in name or a path. */
  readonly name: string;
  /** sha256 of the model's canonical graph.json (which holds the weights' sha256): the same model, wherever it came from. */
  readonly hash: string;
  /** The same of the graph that actually ran (e.g. after PTQ of a float model). */
  readonly runHash: string;
}

/** A run as a command hands it to the store. */
export interface RunRecord {
  /** e.g. 'profile'. */
  readonly command: string;
  readonly argv: readonly string[];
  readonly model: RunModel;
  /** --target as given (qemu, host, serial:<port>). */
  readonly targetSpec: string;
  readonly target: TargetDescription;
  readonly options: RunOptions;
  readonly notes?: readonly string[];
  readonly report: Report;
}

/** median / IQR / min of a row's samples (absent when it has none). */
export interface StoredStats {
  readonly n: number;
  readonly median: number;
  readonly iqr: number;
  readonly min: number;
}

export interface StoredRun extends RunRecord {
  readonly id: number;
  readonly status: 'complete';
  readonly storedAt: string;
  /** Per Report row, in order. */
  readonly layerStats: readonly (StoredStats | undefined)[];
  readonly totalStats?: StoredStats;
}

/** One line of `tandem runs`. */
export interface RunSummary {
  readonly id: number;
  readonly createdAt: string;
  readonly command: string;
  readonly model: RunModel & { readonly graph: string };
  readonly targetSpec: string;
  readonly targetId: string;
  readonly targetName: string;
  readonly executor: string;
  readonly warmup?: number;
  readonly repeats?: number;
  readonly images?: number;
  readonly seed?: number;
  readonly layers: number;
  readonly total?: StoredStats & { readonly unit: string; readonly clockHz?: number };
}

export interface RunQuery {
  /** Model name as given, Graph name, or a prefix (>= 6 hex digits) of its hash. */
  readonly model?: string;
  /** --target as given, target id, target kind, or the board id. */
  readonly target?: string;
  /** The newest n runs only. */
  readonly limit?: number;
}

export type { LayerReport, Report };
