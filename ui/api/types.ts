// The app's API: one type shared by the renderer (ui/app), the Electron preload and main (electron/), and the
// loopback HTTP server of the browser fallback (ui/server). Every request is validated (ui/api/validate.ts)
// where it enters a Node process. Heavy work (training, simulation, board I/O) runs in jobs: `tandem`
// commands in child processes whose progress arrives as JobEvents.
import type { Report } from '../../compiler/contracts/report.js';
import type { Schedule } from '../../compiler/lower/schedule.js';

/** A model the app can open: a built-in name, a file uploaded into the workspace ('upload:<name>'), or the
 * output of an earlier job ('job:<id>'). Never a raw path from the renderer. */
export type ModelRef = string;

export interface ProjectInfo {
  readonly version: string;
  /** Where jobs and uploads are kept. */
  readonly workspace: string;
  readonly models: readonly { readonly ref: ModelRef; readonly label: string; readonly trained: boolean }[];
  readonly dataset: { readonly name: string; readonly dir: string | null; readonly train: number; readonly test: number };
  readonly accelerators: readonly { readonly name: string; readonly summary: string }[];
  readonly targets: readonly { readonly name: string; readonly kind: string; readonly note: string }[];
  /** Co-design runs in the workspace's run store. */
  readonly runs: readonly CodesignRunInfo[];
  readonly jobs: readonly JobInfo[];
}

/** One layer of the model graph view. */
export interface GraphNode {
  readonly id: string;
  readonly op: string;
  readonly origin: string;
  readonly inputs: readonly string[];
  readonly outputShape: readonly number[];
  readonly params: number;
  readonly macs: number;
  /** The compression decision applied to this layer (from the model's plan), if any. */
  readonly decision?: string;
}

export interface ModelGraph {
  readonly ref: ModelRef;
  readonly name: string;
  readonly inputs: readonly { readonly id: string; readonly shape: readonly number[] }[];
  readonly outputs: readonly string[];
  readonly nodes: readonly GraphNode[];
  readonly totals: { readonly params: number; readonly macs: number };
}

export type CompressMethod = 'svd' | 'tucker2' | 'cp';

/** What a job does; each maps onto one `tandem` command (ui/server/jobs.ts). */
export type JobRequest =
  | {
      readonly kind: 'compress';
      readonly model: ModelRef;
      readonly method: CompressMethod;
      /** As `tandem compress --ranks`: 'evbmf', 'ratio:2x', 'conv2=8,conv3=16', ... */
      readonly ranks: string;
      readonly finetuneEpochs?: number;
      readonly trainLimit?: number;
      readonly evalLimit?: number;
      readonly seed?: number;
    }
  | {
      readonly kind: 'prune';
      readonly model: ModelRef;
      /** One of: a whole-network target as `tandem prune --target` ('macs=0.5'), or per-layer shares as `--keep` ('conv1=0.5,conv3=0.25'). */
      readonly target?: string;
      readonly keep?: string;
      readonly evalLimit?: number;
      readonly seed?: number;
    }
  | {
      readonly kind: 'quantize';
      readonly model: ModelRef;
      /** Weight bits (PTQ; activations stay 8-bit). */
      readonly bits: number;
      /** Per-layer weight bits as `tandem quantize --layer-bits` ('conv2=4,fc1=6'). */
      readonly layerBits?: string;
      readonly evalLimit?: number;
      readonly seed?: number;
    }
  | { readonly kind: 'compile'; readonly model: ModelRef; readonly accel: string; /** Calibration images (PTQ of a float model, ADC ranges); default 256. */ readonly calib?: number }
  | {
      readonly kind: 'simulate';
      readonly model: ModelRef;
      readonly accel: string;
      readonly mode: 'exact' | 'analog';
      readonly limit?: number;
      /** Drift times, e.g. ['0', '1h', '1d']. */
      readonly drift?: readonly string[];
      /** false: no global drift compensation (`--no-drift-compensation`); default: as the spec says. */
      readonly driftCompensation?: boolean;
      /** Spec overrides, e.g. { 'adc.bits': '6' }. */
      readonly set?: Readonly<Record<string, string>>;
      readonly seed?: number;
      /** Calibration images (PTQ of a float model, ADC ranges); default 256. */
      readonly calib?: number;
    }
  | { readonly kind: 'profile'; readonly model: ModelRef; readonly target: string; readonly port?: string; readonly repeats?: number; /** Calibration images (PTQ of a float model); default 256. */ readonly calib?: number }
  | { readonly kind: 'codesign'; readonly problem: 'default'; readonly candidates?: number; readonly minutes?: number };

export type JobKind = JobRequest['kind'];
export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

export interface JobInfo {
  readonly id: string;
  readonly kind: JobKind;
  readonly request: JobRequest;
  readonly state: JobState;
  readonly startedAt: string;
  readonly endedAt?: string;
  /** The command line the job ran (tandem ...). */
  readonly command: string;
  readonly error?: string;
}

export type JobEvent =
  | { readonly type: 'progress'; readonly jobId: string; readonly phase: string; readonly done: number; readonly total: number; readonly message?: string }
  | { readonly type: 'log'; readonly jobId: string; readonly line: string }
  | { readonly type: 'state'; readonly job: JobInfo };

/** What a finished job produced, parsed. */
export interface JobResult {
  readonly job: JobInfo;
  /** The command's --json output. */
  readonly output: unknown;
  /** The model the job wrote, to open or feed to the next job ('job:<id>'), if it wrote one. */
  readonly model?: ModelRef;
  /** The shared per-layer Report, when the job produced one (simulate, profile). */
  readonly report?: Report;
}

export interface CodesignRunInfo {
  readonly id: number;
  readonly status: string;
  readonly createdAt: string;
  readonly model: string;
  readonly strategy: string;
  readonly cost: string;
  readonly candidates: number;
}

export interface CodesignCandidate {
  readonly id: string;
  readonly strategy: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly decisions: readonly { readonly layer: string; readonly text: string }[];
  readonly seconds: number;
  readonly feasible: boolean;
  readonly onFront: boolean;
}

export interface CodesignRunDetail extends CodesignRunInfo {
  /** Objective names, in the problem's order; metrics keys of the candidates. */
  readonly objectives: readonly string[];
  readonly candidatesDetail: readonly CodesignCandidate[];
}

export interface LatencyDatasetInfo {
  readonly name: string;
  readonly target: string;
  readonly models: number;
  /** The variant ids, in the dataset's order (latencyComparison's `model`). */
  readonly modelIds: readonly string[];
}

/** Measured vs predicted latency per layer: of one model of a dataset (the dataset's one statistic per layer),
 * or of the model a profile job timed (its raw samples) against the predictors fitted on the dataset. */
export interface LatencyComparison {
  readonly dataset: string;
  /** The dataset's target (its name). */
  readonly target: string;
  /** The dataset variant, or with a profile job the job's model (ModelRef). */
  readonly model: string;
  readonly unit: 's';
  /** Present when the measured samples are a profile job's. */
  readonly profile?: {
    readonly jobId: string;
    /** The job's --target, e.g. host, qemu, serial:/dev/ttyACM0. */
    readonly target: string;
    /** Its target's description (TargetDescription.name). */
    readonly targetName: string;
  };
  /** Layers left out of `layers` because only one side has them (e.g. the predictors' '(outside layers)'). */
  readonly dropped?: { readonly measuredOnly: readonly string[]; readonly predictedOnly: readonly string[] };
  /** Something the reader must know to trust the comparison, e.g. the dataset's target is not the job's. */
  readonly warning?: string;
  readonly layers: readonly {
    readonly layer: string;
    readonly samples: readonly number[];
    readonly predicted: Readonly<Record<string, number>>;
  }[];
}

export interface PortInfo {
  readonly path: string;
  readonly manufacturer?: string;
}

export interface BoardInfo {
  readonly port: string;
  readonly info: Readonly<Record<string, string | number>>;
}

/** Every call the UI makes. Methods take one plain-object payload (or none) and resolve to plain data. */
export interface TandemApi {
  project(): Promise<ProjectInfo>;
  openModel(req: { readonly model: ModelRef }): Promise<ModelGraph>;
  /** Stores a model file the user picked; returns its ref. Bytes as base64 (the HTTP and IPC payload). */
  uploadModel(req: { readonly name: string; readonly base64: string }): Promise<{ readonly model: ModelRef }>;
  startJob(req: JobRequest): Promise<JobInfo>;
  cancelJob(req: { readonly jobId: string }): Promise<JobInfo>;
  jobResult(req: { readonly jobId: string }): Promise<JobResult>;
  /** The Schedule a compile job wrote. */
  schedule(req: { readonly jobId: string }): Promise<Schedule>;
  latencyDatasets(): Promise<readonly LatencyDatasetInfo[]>;
  /** `profile`: a finished profile job's id, whose raw samples are the measured side (then no `model`). */
  latencyComparison(req: { readonly dataset: string; readonly model?: string; readonly profile?: string }): Promise<LatencyComparison>;
  ports(): Promise<readonly PortInfo[]>;
  boardInfo(req: { readonly port: string }): Promise<BoardInfo>;
  codesignRun(req: { readonly run: number }): Promise<CodesignRunDetail>;
}

export type ApiMethod = keyof TandemApi;
export const API_METHODS = [
  'project',
  'openModel',
  'uploadModel',
  'startJob',
  'cancelJob',
  'jobResult',
  'schedule',
  'latencyDatasets',
  'latencyComparison',
  'ports',
  'boardInfo',
  'codesignRun',
] as const satisfies readonly ApiMethod[];

/** What the renderer sees: the API plus the job event stream. Electron's preload and the HTTP client both
 * implement it. */
export interface TandemBridge extends TandemApi {
  onJobEvent(listener: (e: JobEvent) => void): () => void;
}

/** Largest request body either transport accepts (an uploaded model, base64). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
