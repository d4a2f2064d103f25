// The per-layer Report: one schema for every executor (sim, host, board, phone, predictor),
// so the UI and the loop never care where a number came from. Every field but the ids may be absent.

export interface ErrorMetrics {
  /** Mean squared error against the reference output. */
  readonly mse?: number;
  /** ||y - ref|| / ||ref||. */
  readonly relativeError?: number;
  /** Signal-to-quantization(-and-noise) ratio in dB. */
  readonly sqnrDb?: number;
  readonly maxAbsError?: number;
  readonly cosine?: number;
}

export interface LatencySamples {
  /** 'cycles' for board counters, 's' for wall-clock. */
  readonly unit: 's' | 'cycles';
  /** Raw samples, one per timed repeat (not aggregated, so error bars are possible). */
  readonly samples: readonly number[];
  /** Clock used to convert cycles to seconds, when known. */
  readonly clockHz?: number;
}

export interface EnergyEstimate {
  readonly joules: number;
  /** Per component (e.g. adc, dac, cells, buffers), joules. */
  readonly breakdown?: Readonly<Record<string, number>>;
}

export interface LayerReport {
  /** Original layer id (node origin); nodes created by passes report under their origin. */
  readonly layer: string;
  /** Who produced the row, e.g. 'host:wasm', 'sim:rram-128', 'serial:qemu-mps2-an386', 'predictor:lut'. */
  readonly executor: string;
  /** IR node ids aggregated into this row. */
  readonly nodes?: readonly string[];
  readonly macs?: number;
  readonly params?: number;
  readonly error?: ErrorMetrics;
  readonly latency?: LatencySamples;
  readonly energy?: EnergyEstimate;
}

export interface Report {
  readonly model: string;
  readonly executor: string;
  readonly createdAt: string;
  /** Seed of anything random in producing the report (noise, sampling). */
  readonly seed?: number;
  readonly rows: readonly LayerReport[];
  /** Whole-model figures (e.g. end-to-end latency samples, accuracy). */
  readonly total?: Omit<LayerReport, 'layer' | 'executor'> & { readonly accuracy?: number; readonly psnrDb?: number };
}
