// SerialBoard: the host side of protocol v1 (docs/protocol.md) over the npm `serialport` package. One request
// is outstanding at a time (calls queue); every wait is bounded and a timeout names the message awaited and
// the port; damaged frames are resent; a heartbeat PING detects a board that vanished or reset.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { CancelledError } from '../../compiler/util/progress.js';
import { crc32 } from './crc32.js';
import { type BodyResult, FLAG_FINAL, FrameDecoder, MIN_MAX_PAYLOAD, PROTOCOL_VERSION, encodeFrame } from './frame.js';
import {
  type BoardInfo,
  ErrorCode,
  FORMAT_TANDEM_BLOB,
  type LayerEntry,
  type LayerStat,
  type Message,
  type MessageKind,
  type MessageOf,
  MsgType,
  NakReason,
  OutputMode,
  RunMode,
  decodeMessage,
  encodeMessage,
  errorName,
  typeName,
} from './messages.js';

export class BoardError extends Error {
  constructor(
    message: string,
    /** ERROR.code from the board, when the board refused a request. */
    readonly code?: number,
    readonly detail?: number,
  ) {
    super(message);
    this.name = 'BoardError';
  }
}
export class BoardTimeoutError extends BoardError {
  override name = 'BoardTimeoutError';
}
export class BoardDisconnectedError extends BoardError {
  override name = 'BoardDisconnectedError';
}
/** The board's nonce changed: it rebooted and lost its model and input. */
export class BoardResetError extends BoardError {
  override name = 'BoardResetError';
}

export interface SerialBoardOptions {
  /** Wait for each answer frame (ms). */
  readonly requestTimeoutMs?: number;
  /** Wait for the answer to MODEL_BEGIN (a flash slot is erased then) and MODEL_COMMIT (CRC + trt_load over the whole slot). */
  readonly commitTimeoutMs?: number;
  /** Resends of a request after a timeout or a damaged frame. */
  readonly retries?: number;
  /** Idle time before a heartbeat PING (0: no heartbeat). */
  readonly heartbeatMs?: number;
  /** Consecutive unanswered heartbeats that mark the board lost. */
  readonly heartbeatMisses?: number;
  readonly onLog?: (level: number, text: string) => void;
  /** Called once when the board is lost (heartbeat, disconnect) or found reset by the heartbeat. */
  readonly onLost?: (err: BoardError) => void;
  readonly baudRate?: number;
}

export interface LayerTable {
  readonly layers: readonly LayerEntry[];
  readonly inputSize: number;
  readonly outputSize: number;
  readonly arenaUsed: number;
}

export interface UploadOptions {
  /** Data bytes per MODEL_CHUNK (default and maximum: INFO.maxPayload − 4). */
  readonly chunk?: number;
  readonly onProgress?: (sent: number, total: number) => void;
  readonly signal?: AbortSignal;
  readonly format?: number;
}

export interface UploadResult {
  readonly table: LayerTable;
  readonly bytes: number;
  /** Chunks sent again (timeouts, damaged frames, NAKs). */
  readonly resends: number;
  /** Uploads restarted from 0 because the board reset. */
  readonly restarts: number;
  /** CRC-32 of the blob, which the board's slot matched at MODEL_COMMIT. */
  readonly crc32: number;
  readonly ms: number;
}

export interface RunOptions {
  readonly warmup?: number;
  readonly iterations?: number;
  /** 'layer-samples': per-layer statistics and every timed iteration's per-layer ticks (LAYER_SAMPLES). */
  readonly mode?: 'total' | 'per-layer' | 'layer-samples' | 'calibrate';
  readonly output?: 'none' | 'digest' | 'full';
  /** Busy-loop iterations per inference in calibrate mode. */
  readonly loops?: number;
  /** Wait for the first answer frame: the board is silent while it runs. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly iterations: number;
  /** Timer ticks per inference (INFO.timerHz). */
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
  readonly total: bigint;
  readonly layers: readonly LayerStat[];
  /** Mode 'layer-samples': ticks[i][l] of timed iteration i, layer l (l = layers.length: the whole inference). */
  readonly samples?: readonly Uint32Array[];
  readonly output?: Int8Array;
  readonly digest?: { readonly size: number; readonly crc32: number };
}

interface Pending {
  readonly seq: number;
  readonly msgs: Message[];
  readonly settle: (o: Outcome) => void;
  readonly fail: (e: Error) => void;
  rearm: () => void;
}
type Outcome = { readonly kind: 'answer'; readonly msgs: Message[] } | { readonly kind: 'timeout' } | { readonly kind: 'frameCrc' };

interface RequestOptions {
  readonly timeoutMs?: number;
  /** Timeout of the first answer frame when it differs (RUN). */
  readonly firstTimeoutMs?: number;
  readonly retries?: number;
  readonly signal?: AbortSignal;
}

const RESTARTS = 2;

export class SerialBoard {
  private readonly decoder: FrameDecoder;
  private pending?: Pending;
  private seq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private failure?: BoardError;
  private info?: BoardInfo;
  private resetSeen = false;
  private running = false;
  private lastActivity = Date.now();
  private heartbeat?: NodeJS.Timeout;
  private misses = 0;
  private closing = false;
  private readonly requestTimeoutMs: number;
  private readonly commitTimeoutMs: number;
  private readonly retries: number;

  private constructor(
    private readonly port: SerialPort,
    readonly path: string,
    private readonly opts: SerialBoardOptions,
  ) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 2000;
    this.commitTimeoutMs = opts.commitTimeoutMs ?? 30000;
    this.retries = opts.retries ?? 5;
    this.decoder = new FrameDecoder((r) => this.onFrame(r));
    port.on('data', (d: Buffer) => this.decoder.push(d));
    port.on('error', (e: Error) => this.lose(new BoardDisconnectedError(`board on ${path} disconnected: ${e.message}`)));
    port.on('close', () => {
      if (!this.closing) this.lose(new BoardDisconnectedError(`board on ${path} disconnected (port closed)`));
    });
  }

  /** Opens the port (an explicit path: SerialPort.list() needs udev, absent on ptys and containers). */
  static async open(path: string, opts: SerialBoardOptions = {}): Promise<SerialBoard> {
    try {
      await stat(path);
    } catch {
      throw new BoardError(`serial port ${path} does not exist`);
    }
    // hupcl off: a pty refuses the modem-line ioctls, and dropping DTR on close would reset some boards.
    const port = new SerialPort({ path, baudRate: opts.baudRate ?? 115200, autoOpen: false, hupcl: false });
    await new Promise<void>((resolve, reject) =>
      port.open((e) => (e ? reject(new BoardError(`cannot open serial port ${path}: ${e.message}`)) : resolve())),
    );
    return new SerialBoard(port, path, opts);
  }

  /** The INFO from the last hello(). */
  get boardInfo(): BoardInfo | undefined {
    return this.info;
  }

  /** HELLO -> INFO; remembers the boot nonce and starts the heartbeat. */
  hello(signal?: AbortSignal): Promise<BoardInfo> {
    return this.exclusive(() => this.helloNow(signal));
  }

  private async helloNow(signal?: AbortSignal): Promise<BoardInfo> {
    const info = await this.ask({ kind: 'hello', token: randomBytes(4).readUInt32LE(0) }, 'info', 'INFO', { signal });
    const { kind: _kind, ...rest } = info;
    if (rest.protocol !== PROTOCOL_VERSION) throw new BoardError(`board on ${this.path} speaks protocol ${rest.protocol}, this host ${PROTOCOL_VERSION}`);
    this.info = rest;
    this.resetSeen = false;
    this.startHeartbeat();
    return rest;
  }

  /** PING -> PONG; round trip in ms and the board's nonce (a changed nonce marks the board reset). */
  ping(signal?: AbortSignal): Promise<{ readonly nonce: number; readonly ms: number }> {
    return this.exclusive(() => this.pingNow(this.retries, signal));
  }

  private async pingNow(retries: number, signal?: AbortSignal): Promise<{ nonce: number; ms: number }> {
    const token = (Math.random() * 0x100000000) >>> 0;
    const t0 = performance.now();
    const pong = await this.ask({ kind: 'ping', token }, 'pong', 'PONG', { retries, signal });
    if (pong.token !== token) throw new BoardError(`PONG from board on ${this.path} carries token ${pong.token}, sent ${token}`);
    if (this.info && pong.nonce !== this.info.nonce) this.resetSeen = true;
    return { nonce: pong.nonce, ms: performance.now() - t0 };
  }

  /** The board timer now (ticks at INFO.timerHz). */
  timestamp(signal?: AbortSignal): Promise<bigint> {
    return this.exclusive(async () => (await this.ask({ kind: 'timestamp' }, 'time', 'TIME', { signal })).ticks);
  }

  /** Uploads a model blob in chunks (ACK/NAK per chunk, resends, restart on board reset) and commits it. */
  upload(blob: Uint8Array, o: UploadOptions = {}): Promise<UploadResult> {
    return this.exclusive(async () => {
      const t0 = performance.now();
      const info = this.info ?? (await this.helloNow(o.signal));
      const chunk = o.chunk ?? info.maxPayload - 4;
      if (!Number.isInteger(chunk) || chunk < 1 || chunk > info.maxPayload - 4)
        throw new BoardError(`chunk ${chunk} must be an integer in 1..${info.maxPayload - 4} (board ${this.path} maxPayload ${info.maxPayload})`);
      const crc = crc32(blob);
      let resends = 0;
      for (let restart = 0; ; restart++) {
        try {
          await this.ask({ kind: 'modelBegin', length: blob.length, crc32: crc, format: o.format ?? FORMAT_TANDEM_BLOB }, 'ack', 'ACK of MODEL_BEGIN', { timeoutMs: this.commitTimeoutMs, signal: o.signal });
          let offset = 0;
          let naks = 0;
          while (offset < blob.length) {
            if (this.resetSeen) throw new BoardResetError(`board on ${this.path} reset during the upload`);
            const n = Math.min(chunk, blob.length - offset);
            const r = await this.request({ kind: 'modelChunk', offset, data: blob.subarray(offset, offset + n) }, 'ACK of MODEL_CHUNK', { signal: o.signal });
            resends += r.attempts - 1;
            const m = this.single(r.msgs, 'ACK of MODEL_CHUNK');
            if (m.kind === 'nak' && m.reason === NakReason.BAD_OFFSET) {
              if (++naks > this.retries) throw new BoardError(`board on ${this.path} keeps refusing chunk offsets (wants ${m.expected}, sent ${offset})`);
              resends++;
              offset = m.expected;
              continue;
            }
            if (m.kind === 'error' && m.code === ErrorCode.STATE) {
              // The board forgot the upload: it reset if its nonce changed.
              const before = this.info?.nonce;
              const now = await this.helloNow(o.signal);
              if (now.nonce !== before) throw new BoardResetError(`board on ${this.path} reset during the upload`);
            }
            const ack = this.expect(m, 'ack', 'ACK of MODEL_CHUNK', MsgType.MODEL_CHUNK);
            if (ack.value < offset + n || ack.value > blob.length) throw new BoardError(`board on ${this.path} acknowledged ${ack.value} bytes after a chunk ending at ${offset + n}`);
            naks = 0;
            offset = ack.value;
            o.onProgress?.(offset, blob.length);
          }
          const r = await this.request({ kind: 'modelCommit' }, 'LAYER_TABLE', { timeoutMs: this.commitTimeoutMs, signal: o.signal });
          const table = this.layerTable(r.msgs);
          return { table, bytes: blob.length, resends, restarts: restart, crc32: crc, ms: performance.now() - t0 };
        } catch (e) {
          if (e instanceof CancelledError) await this.sendAbort();
          if (!(e instanceof BoardResetError) || restart >= RESTARTS) throw e;
          await this.helloNow(o.signal);
        }
      }
    });
  }

  /** Sends the input codes of the loaded model (chunked like the model). */
  setInput(codes: Int8Array | Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.exclusive(async () => {
      this.checkReset();
      const info = this.info ?? (await this.helloNow(signal));
      const bytes = new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength);
      const chunk = info.maxPayload - 8;
      let offset = 0;
      let naks = 0;
      do {
        const n = Math.min(chunk, bytes.length - offset);
        const r = await this.request({ kind: 'setInput', offset, total: bytes.length, data: bytes.subarray(offset, offset + n) }, 'ACK of SET_INPUT', { signal });
        const m = this.single(r.msgs, 'ACK of SET_INPUT');
        if (m.kind === 'nak' && m.reason === NakReason.BAD_OFFSET && ++naks <= this.retries) {
          offset = m.expected;
          continue;
        }
        offset = this.expect(m, 'ack', 'ACK of SET_INPUT', MsgType.SET_INPUT).value;
      } while (offset < bytes.length);
    });
  }

  /** RUN: warm-up, timed iterations; summary, per-layer stats, output or its digest. Not resent. */
  run(o: RunOptions = {}): Promise<RunResult> {
    return this.exclusive(async () => {
      this.checkReset();
      const mode = { total: RunMode.TOTAL, 'per-layer': RunMode.PER_LAYER, 'layer-samples': RunMode.LAYER_SAMPLES, calibrate: RunMode.CALIBRATE }[o.mode ?? 'total'];
      const output = { none: OutputMode.NONE, digest: OutputMode.DIGEST, full: OutputMode.FULL }[o.output ?? 'digest'];
      const msg: Message = { kind: 'run', warmup: o.warmup ?? 3, iterations: o.iterations ?? 10, mode, output, loops: o.loops ?? 0 };
      this.running = true;
      let r: { msgs: Message[] };
      try {
        r = await this.request(msg, 'RUN_SUMMARY', { firstTimeoutMs: o.timeoutMs ?? 60000, retries: 0, signal: o.signal });
      } catch (e) {
        // Any byte stops the board's loop; ABORT also tells it to drop the run's answer.
        if (e instanceof CancelledError) await this.sendAbort();
        throw e;
      } finally {
        this.running = false;
      }
      const first = r.msgs[0];
      if (first.kind === 'error') throw this.refused(first);
      const s = this.expect(first, 'runSummary', 'RUN_SUMMARY', MsgType.RUN);
      const layers: LayerStat[] = [];
      let out: Int8Array | undefined;
      let digest: { size: number; crc32: number } | undefined;
      let matrix: Uint32Array | undefined;
      let got = 0;
      for (const m of r.msgs.slice(1)) {
        if (m.kind === 'layerStats') layers.push(...m.entries);
        else if (m.kind === 'layerSamples') {
          matrix ??= new Uint32Array(m.iterations * (m.layers + 1));
          if (m.first + m.samples.length > matrix.length) throw new BoardError(`LAYER_SAMPLES from board on ${this.path} runs past ${m.iterations} x ${m.layers + 1} samples`);
          matrix.set(m.samples, m.first);
          got += m.samples.length;
        }
        else if (m.kind === 'output') {
          out ??= new Int8Array(m.total);
          out.set(new Int8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength), m.offset);
        } else if (m.kind === 'digest') digest = { size: m.size, crc32: m.crc32 };
        else if (m.kind === 'error') throw this.refused(m);
      }
      let samples: Uint32Array[] | undefined;
      if (mode === RunMode.LAYER_SAMPLES) {
        const cols = layers.length + 1;
        if (!matrix || got !== s.iterations * cols) throw new BoardError(`board on ${this.path} sent ${got} of ${s.iterations} x ${cols} LAYER_SAMPLES`);
        samples = Array.from({ length: s.iterations }, (_, i) => matrix.subarray(i * cols, (i + 1) * cols));
      }
      return { iterations: s.iterations, min: s.min, median: s.median, p90: s.p90, max: s.max, total: s.total, layers, samples, output: out, digest };
    });
  }

  /** Asks the board to reset itself (RESET capability); its next INFO carries a new nonce. */
  reset(signal?: AbortSignal): Promise<void> {
    return this.exclusive(async () => {
      await this.ask({ kind: 'reset' }, 'ack', 'ACK of RESET', { signal });
      this.resetSeen = true;
    });
  }

  /** Sends one raw frame (tests and tools: wrong versions, unknown types). Returns the board's answer. */
  raw(type: number, payload: Uint8Array, version = PROTOCOL_VERSION, signal?: AbortSignal): Promise<Message[]> {
    return this.exclusive(async () => {
      const seq = this.nextSeq();
      const wait = this.waitAnswer(seq, this.requestTimeoutMs, this.requestTimeoutMs, signal);
      wait.catch(() => undefined); // a failed write rejects it too: reported once, by write()
      await this.write(encodeFrame({ version, type, flags: 0, seq, payload }));
      const o = await wait;
      if (o.kind !== 'answer') throw new BoardTimeoutError(`no answer to ${typeName(type)} from board on ${this.path} within ${this.requestTimeoutMs} ms`);
      return o.msgs;
    });
  }

  async close(): Promise<void> {
    this.stopHeartbeat();
    if (this.closing) return;
    this.closing = true;
    this.lose(new BoardDisconnectedError(`board on ${this.path} closed`));
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  // --- internals ---

  private checkReset(): void {
    if (this.resetSeen) throw new BoardResetError(`board on ${this.path} reset (nonce changed): upload the model again`);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.failure) throw this.failure;
      try {
        return await fn();
      } finally {
        this.lastActivity = Date.now();
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0xffff ? 1 : this.seq + 1;
    return this.seq;
  }

  /** Sends msg, resending on timeout or a damaged frame; the answer's frames. */
  private async request(msg: Message, awaited: string, o: RequestOptions = {}): Promise<{ msgs: Message[]; attempts: number }> {
    const timeoutMs = o.timeoutMs ?? this.requestTimeoutMs;
    const retries = o.retries ?? this.retries;
    const { type, payload } = encodeMessage(msg);
    if (this.info && payload.length > this.info.maxPayload) throw new BoardError(`${typeName(type)} payload ${payload.length} exceeds board ${this.path} maxPayload ${this.info.maxPayload}`);
    if (!this.info && payload.length > MIN_MAX_PAYLOAD) throw new BoardError(`${typeName(type)} payload ${payload.length} before HELLO exceeds ${MIN_MAX_PAYLOAD}`);
    let last: Outcome['kind'] = 'timeout';
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      if (o.signal?.aborted) throw new CancelledError();
      const seq = this.nextSeq();
      const wait = this.waitAnswer(seq, o.firstTimeoutMs ?? timeoutMs, timeoutMs, o.signal);
      wait.catch(() => undefined); // a failed write rejects it too: reported once, by write()
      await this.write(encodeFrame({ version: PROTOCOL_VERSION, type, flags: 0, seq, payload }));
      const out = await wait;
      if (out.kind === 'answer') return { msgs: out.msgs, attempts: attempt };
      last = out.kind;
    }
    const why = last === 'frameCrc' ? 'the board kept receiving damaged frames' : `no answer within ${o.firstTimeoutMs ?? timeoutMs} ms`;
    throw new BoardTimeoutError(`no ${awaited} from board on ${this.path} (${typeName(type)} sent ${retries + 1} times; ${why})`);
  }

  /** request() for a single-frame answer of one kind; an ERROR becomes a BoardError. */
  private async ask<K extends MessageKind>(msg: Message, kind: K, awaited: string, o: RequestOptions = {}): Promise<MessageOf<K>> {
    const r = await this.request(msg, awaited, o);
    return this.expect(this.single(r.msgs, awaited), kind, awaited, encodeMessage(msg).type);
  }

  private single(msgs: Message[], awaited: string): Message {
    if (msgs.length !== 1) throw new BoardError(`expected one frame for ${awaited} from board on ${this.path}, got ${msgs.length}`);
    return msgs[0];
  }

  private expect<K extends MessageKind>(m: Message, kind: K, awaited: string, ref: number): MessageOf<K> {
    if (m.kind === 'error') throw this.refused(m);
    if (m.kind === 'nak') throw new BoardError(`board on ${this.path} refused ${typeName(ref)}: NAK reason ${m.reason}, expected offset ${m.expected}`);
    if (m.kind !== kind) throw new BoardError(`expected ${awaited} from board on ${this.path}, got ${m.kind}`);
    return m as MessageOf<K>;
  }

  private refused(m: MessageOf<'error'>): BoardError {
    const text = m.text ? `: ${m.text}` : '';
    return new BoardError(`board on ${this.path} refused ${typeName(m.ref)}: ${errorName(m.code)} (detail ${m.detail})${text}`, m.code, m.detail);
  }

  private layerTable(msgs: Message[]): LayerTable {
    const layers: LayerEntry[] = [];
    let head: MessageOf<'layerTable'> | undefined;
    for (const m of msgs) {
      const t = this.expect(m, 'layerTable', 'LAYER_TABLE', MsgType.MODEL_COMMIT);
      head ??= t;
      layers.push(...t.entries);
    }
    if (!head || layers.length !== head.layers) throw new BoardError(`LAYER_TABLE from board on ${this.path} lists ${layers.length} of ${head?.layers ?? '?'} layers`);
    return { layers, inputSize: head.inputSize, outputSize: head.outputSize, arenaUsed: head.arenaUsed };
  }

  /** Resolves with the answer's frames when the FINAL one arrives; timeout restarts on every frame. */
  private waitAnswer(seq: number, firstMs: number, gapMs: number, signal?: AbortSignal): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => done(() => reject(new CancelledError()));
      const done = (f: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending === p) this.pending = undefined;
        f();
      };
      const p: Pending = {
        seq,
        msgs: [],
        settle: (o) => done(() => resolve(o)),
        fail: (e) => done(() => reject(e)),
        rearm: () => {
          clearTimeout(timer);
          timer = setTimeout(() => p.settle({ kind: 'timeout' }), gapMs);
        },
      };
      timer = setTimeout(() => p.settle({ kind: 'timeout' }), firstMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.failure) return p.fail(this.failure);
      this.pending = p;
    });
  }

  private onFrame(r: BodyResult): void {
    this.lastActivity = Date.now();
    if (!r.ok) return; // Damaged board frame: the request's timeout resends.
    const f = r.frame;
    if (f.version !== PROTOCOL_VERSION) {
      // A board of another protocol version: its payloads need not be v1's, so none is decoded; the answer
      // to a request names both versions at once instead of timing out.
      const p = this.pending;
      if (p && f.seq === p.seq)
        p.fail(new BoardError(`board on ${this.path} speaks protocol ${f.version} (it answered in a version ${f.version} frame); this host speaks protocol ${PROTOCOL_VERSION}: use firmware and Tandem of the same protocol version`, ErrorCode.BAD_VERSION, f.version));
      return;
    }
    let m: Message;
    try {
      m = decodeMessage(f.type, f.payload);
    } catch {
      return;
    }
    if (m.kind === 'log') {
      this.opts.onLog?.(m.level, m.text);
      return;
    }
    const p = this.pending;
    if (!p || f.seq !== p.seq) return; // An answer to an attempt given up on.
    if (m.kind === 'nak' && m.reason === NakReason.FRAME_CRC) return p.settle({ kind: 'frameCrc' });
    p.msgs.push(m);
    if (f.flags & FLAG_FINAL) p.settle({ kind: 'answer', msgs: p.msgs });
    else p.rearm();
  }

  private write(bytes: Uint8Array): Promise<void> {
    // A leading 0x00 flushes any partial frame the board holds (docs/protocol.md, Framing).
    const wire = Buffer.alloc(bytes.length + 1);
    wire.set(bytes, 1);
    return new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.port.write(wire, (e) => {
        if (!e) return resolve();
        const err = new BoardDisconnectedError(`board on ${this.path} disconnected: write failed (${e.message})`);
        this.lose(err);
        reject(err);
      });
    });
  }

  private async sendAbort(): Promise<void> {
    try {
      await this.write(encodeFrame({ version: PROTOCOL_VERSION, type: MsgType.ABORT, flags: 0, seq: this.nextSeq(), payload: new Uint8Array(0) }));
    } catch {
      // Best effort: the caller is already failing.
    }
  }

  private lose(err: BoardError): void {
    if (this.failure) return;
    this.failure = err;
    this.stopHeartbeat();
    this.pending?.fail(err);
    if (!this.closing) this.opts.onLost?.(err);
  }

  private startHeartbeat(): void {
    const every = this.opts.heartbeatMs ?? 1000;
    if (every <= 0 || this.heartbeat) return;
    const limit = this.opts.heartbeatMisses ?? 3;
    this.heartbeat = setInterval(() => {
      if (this.failure || this.running || this.pending || Date.now() - this.lastActivity < every) return;
      this.exclusive(() => this.pingNow(0)).then(
        () => {
          this.misses = 0;
          if (this.resetSeen) this.opts.onLost?.(new BoardResetError(`board on ${this.path} reset (nonce changed)`));
        },
        (e: unknown) => {
          if (e instanceof BoardTimeoutError && ++this.misses >= limit)
            this.lose(new BoardTimeoutError(`board on ${this.path} lost: ${limit} heartbeat PINGs unanswered`));
        },
      );
    }, every / 2);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
