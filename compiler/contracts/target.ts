// The Target interface: everything that executes a model and returns a Report.
// Implementations (later issues): host, sim, serial board, adb phone, latency predictor.
import type { DType, Graph, OpKind } from '../ir/types.js';
import type { Report } from './report.js';

export type TargetKind = 'host' | 'sim' | 'serial' | 'adb' | 'predictor';

export interface TargetDescription {
  readonly id: string;
  readonly kind: TargetKind;
  /** Human-readable, e.g. 'Tandem engine (tfjs wasm)' or 'qemu-mps2-an386 Cortex-M4'. */
  readonly name: string;
  readonly runtime?: string;
  readonly clockHz?: number;
  readonly capabilities: {
    readonly perLayerTiming: boolean;
    readonly dtypes: readonly DType[];
    readonly ops?: readonly OpKind[];
    readonly maxModelBytes?: number;
  };
  /** Anything else the target reports about itself (board INFO fields, versions). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What a target loads: the Graph always, and compiled artifacts for targets that need them. */
export interface CompiledModel {
  readonly graph: Graph;
  /** Board blob (flat int8 model), when compiled for a board. */
  readonly blob?: Uint8Array;
  /** Layer schedule for the CIM simulator, when lowered. */
  readonly schedule?: unknown;
}

export interface RunOptions {
  readonly warmup?: number;
  readonly repeats?: number;
  readonly perLayer?: boolean;
  readonly signal?: AbortSignal;
}

export interface RunInput {
  /** Batch-major, each sample in the graph input's per-sample shape (NHWC). */
  readonly data: Float32Array;
  readonly batch: number;
}

export interface RunResult {
  /** One entry per graph output, batch-major. */
  readonly outputs: readonly Float32Array[];
  readonly report: Report;
}

export interface Target {
  describe(): Promise<TargetDescription>;
  /** `signal` cancels a long load (a board upload). */
  load(model: CompiledModel, options?: { readonly signal?: AbortSignal }): Promise<void>;
  run(input: RunInput, options?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}
