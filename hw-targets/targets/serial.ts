// The serial board as a Target (compiler/contracts/target.ts): describe() from INFO, load() uploads the blob,
// run() times each input on the board with its own counter (cycles at INFO.timerHz; nothing is sent while the
// board's timed loop runs) and returns the outputs dequantized from the board's output codes.
import type { LayerReport, Report } from '../../compiler/contracts/report.js';
import type { CompiledModel, RunInput, RunOptions, RunResult, Target, TargetDescription } from '../../compiler/contracts/target.js';
import type { Graph } from '../../compiler/ir/types.js';
import { type ProgressFn, throwIfAborted } from '../../compiler/util/progress.js';
import { writeBlob } from '../blob/write.js';
import { type LayerTable, type SerialBoardOptions, type UploadResult, BoardError, SerialBoard } from '../serial/board.js';
import { Capability } from '../serial/messages.js';
import { type CodeIo, codeIo } from './codes.js';
import { layerRows } from './layer-rows.js';

export interface SerialTargetOptions {
  readonly onProgress?: ProgressFn;
  /** Called by close() after the port is closed (e.g. stop the QEMU process behind it). */
  readonly onClose?: () => Promise<void>;
  /** Wait for one RUN's answer (ms); the board is silent while it runs. Default 120 s. */
  readonly runTimeoutMs?: number;
  /** PINGs after a run, to report the link's round-trip time apart from the board's cycles. Default 5. */
  readonly pings?: number;
}

export interface LinkTiming {
  /** PING -> PONG round trips (ms): the host/link share of any host-side timing. */
  readonly pingMs: readonly number[];
  /** Wall time per input on the host: SET_INPUT, RUN and its answer (ms). */
  readonly perInputMs: readonly number[];
}

export interface SerialRunResult extends RunResult {
  readonly link: LinkTiming;
}

interface Loaded {
  readonly graph: Graph;
  readonly io: CodeIo;
  readonly table: LayerTable;
  readonly upload: UploadResult;
}

/** Blob layer names are node ids cut to 31 UTF-8 bytes (docs/blob-format.md). */
export function blobName(id: string): string {
  const b = new TextEncoder().encode(id);
  if (b.length < 32) return id;
  let n = 31;
  while (n > 0 && (b[n] & 0xc0) === 0x80) n--;
  return new TextDecoder().decode(b.subarray(0, n));
}

export class SerialTarget implements Target {
  private loaded?: Loaded;

  constructor(
    readonly board: SerialBoard,
    private readonly o: SerialTargetOptions = {},
  ) {}

  static async open(port: string, o: SerialTargetOptions & SerialBoardOptions = {}): Promise<SerialTarget> {
    const board = await SerialBoard.open(port, o);
    try {
      await board.hello();
    } catch (e) {
      await board.close();
      throw e;
    }
    return new SerialTarget(board, o);
  }

  async describe(): Promise<TargetDescription> {
    const info = this.board.boardInfo ?? (await this.board.hello());
    return {
      id: `serial:${this.board.path}`,
      kind: 'serial',
      name: `${info.boardId} on ${this.board.path}`,
      runtime: info.runtimeId,
      clockHz: info.coreClockHz,
      capabilities: { perLayerTiming: (info.capabilities & Capability.LAYER_SAMPLES) !== 0, dtypes: ['int8'], maxModelBytes: info.slotBytes },
      details: { ...info },
    };
  }

  async load(model: CompiledModel, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const info = this.board.boardInfo ?? (await this.board.hello(opts.signal));
    const blob = model.blob ?? writeBlob(model.graph);
    if (blob.length > info.slotBytes)
      throw new BoardError(`model '${model.graph.name}' is ${blob.length} bytes as a blob: too large for the model slot of ${info.slotBytes} bytes on board ${info.boardId} (${this.board.path})`);
    this.loaded = undefined;
    const up = await this.board.upload(blob, { signal: opts.signal, onProgress: (sent, total) => this.o.onProgress?.({ phase: 'upload', done: sent, total, message: `${(sent / 1024).toFixed(0)} KiB` }) });
    const nodes = model.graph.nodes;
    if (up.table.layers.length !== nodes.length) throw new BoardError(`board on ${this.board.path} lists ${up.table.layers.length} layers for graph '${model.graph.name}' of ${nodes.length} nodes`);
    up.table.layers.forEach((l, i) => {
      if (l.name !== blobName(nodes[i].id)) throw new BoardError(`board on ${this.board.path}: layer ${i} is '${l.name}', graph node ${i} is '${nodes[i].id}'`);
    });
    this.loaded = { graph: model.graph, io: codeIo(model.graph), table: up.table, upload: up };
  }

  /** The loaded model's upload (bytes, resends, time) and the board's layer table. */
  get lastUpload(): UploadResult | undefined {
    return this.loaded?.upload;
  }

  async run(input: RunInput, options: RunOptions = {}): Promise<SerialRunResult> {
    const m = this.loaded;
    if (!m) throw new BoardError(`no model loaded on board ${this.board.path}: call load() first`);
    const info = this.board.boardInfo!;
    const warmup = options.warmup ?? 1;
    const repeats = options.repeats ?? 10;
    if (!Number.isInteger(repeats) || repeats < 1 || repeats > info.maxIterations) throw new BoardError(`repeats ${repeats} must be in 1..${info.maxIterations} (board ${info.boardId})`);
    const perLayer = options.perLayer ?? true;
    const L = m.table.layers.length;
    const layerTicks: number[][] = Array.from({ length: L }, () => []);
    const totalTicks: number[] = [];
    const outputs: Int8Array[] = [];
    const perInputMs: number[] = [];
    const signal = options.signal;
    for (let i = 0; i < input.batch; i++) {
      throwIfAborted(signal);
      const t0 = performance.now();
      await this.board.setInput(m.io.inputCodes(input.data, i), signal);
      if (perLayer) {
        const r = await this.board.run({ mode: 'layer-samples', warmup, iterations: repeats, output: 'full', timeoutMs: this.o.runTimeoutMs ?? 120_000, signal });
        for (const row of r.samples!) {
          for (let l = 0; l < L; l++) layerTicks[l].push(row[l]);
          totalTicks.push(row[L]);
        }
        outputs.push(r.output!);
      } else {
        // TOTAL mode reports order statistics only: one timed iteration per RUN keeps every sample raw.
        let out: Int8Array | undefined;
        for (let k = 0; k < repeats; k++) {
          const r = await this.board.run({ mode: 'total', warmup: k === 0 ? warmup : 0, iterations: 1, output: k === repeats - 1 ? 'full' : 'none', timeoutMs: this.o.runTimeoutMs ?? 120_000, signal });
          totalTicks.push(r.min);
          out = r.output ?? out;
        }
        outputs.push(out!);
      }
      perInputMs.push(performance.now() - t0);
      this.o.onProgress?.({ phase: 'run', done: i + 1, total: input.batch, message: `input ${i + 1}/${input.batch}` });
    }
    const pingMs: number[] = [];
    for (let k = 0; k < (this.o.pings ?? 5); k++) pingMs.push((await this.board.ping(signal)).ms);
    const executor = `serial:${info.boardId}`;
    const rows: LayerReport[] = layerRows(
      m.graph,
      executor,
      perLayer ? m.graph.nodes.map((n, l) => ({ node: n.id, samples: layerTicks[l] })) : [],
      'cycles',
      info.timerHz,
    );
    const report: Report = {
      model: m.graph.name,
      executor,
      createdAt: new Date().toISOString(),
      rows,
      total: { latency: { unit: 'cycles', samples: totalTicks, clockHz: info.timerHz }, macs: rows.reduce((a, r) => a + (r.macs ?? 0), 0) },
    };
    return { outputs: [m.io.outputReals(outputs)], report, link: { pingMs, perInputMs } };
  }

  async close(): Promise<void> {
    await this.board.close();
    await this.o.onClose?.();
  }
}
