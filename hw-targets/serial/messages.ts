// Typed messages of protocol v1 (docs/protocol.md): one discriminated union, encodeMessage/decodeMessage for
// both directions (the board's messages are encoded here too, for tests and tools), and the code tables.

export const MsgType = {
  HELLO: 0x01,
  PING: 0x02,
  TIMESTAMP: 0x03,
  MODEL_BEGIN: 0x10,
  MODEL_CHUNK: 0x11,
  MODEL_COMMIT: 0x12,
  SET_INPUT: 0x13,
  RUN: 0x14,
  ABORT: 0x15,
  RESET: 0x16,
  INFO: 0x81,
  PONG: 0x82,
  TIME: 0x83,
  ACK: 0x84,
  NAK: 0x85,
  LAYER_TABLE: 0x86,
  RUN_SUMMARY: 0x87,
  LAYER_STATS: 0x88,
  OUTPUT: 0x89,
  DIGEST: 0x8a,
  LOG: 0x8b,
  ERROR: 0x8c,
  LAYER_SAMPLES: 0x8d,
} as const;

export function typeName(type: number): string {
  for (const [k, v] of Object.entries(MsgType)) if (v === type) return k;
  return `type 0x${type.toString(16).padStart(2, '0')}`;
}

export const ErrorCode = {
  BAD_VERSION: 1,
  UNKNOWN_TYPE: 2,
  BAD_LENGTH: 3,
  STATE: 4,
  TOO_LARGE: 5,
  CRC_MISMATCH: 6,
  INCOMPLETE: 7,
  BAD_FORMAT: 8,
  BAD_ARG: 9,
  ABORTED: 10,
  /** The board could not erase or program its model slot (flash; detail = the port's flash status). */
  SLOT_WRITE: 11,
  /** 0x20 + trt_status (tandem_rt.h). */
  RUNTIME_BASE: 0x20,
} as const;

/** trt_status names, index = status (tandem_rt.h). */
export const TRT_STATUS: readonly string[] = ['OK', 'MAGIC', 'VERSION', 'CRC', 'TRUNCATED', 'UNKNOWN_OP', 'ARENA', 'SHAPE', 'UNSUPPORTED', 'TOO_MANY_LAYERS', 'ARG'];

export function errorName(code: number): string {
  // Any trt_status the runtime adds later still reads as a runtime error.
  if (code > ErrorCode.RUNTIME_BASE && code < 0x40) return `RUNTIME_${TRT_STATUS[code - ErrorCode.RUNTIME_BASE] ?? `STATUS_${code - ErrorCode.RUNTIME_BASE}`}`;
  for (const [k, v] of Object.entries(ErrorCode)) if (v === code) return k;
  return `error ${code}`;
}

export const NakReason = { FRAME_CRC: 1, BAD_OFFSET: 2 } as const;
export const RunMode = { TOTAL: 0, PER_LAYER: 1, CALIBRATE: 2, LAYER_SAMPLES: 3 } as const;
export const OutputMode = { NONE: 0, DIGEST: 1, FULL: 2 } as const;
export const TimerSource = { SYSTICK: 1, DWT_CYCCNT: 2, OTHER: 3 } as const;
export const Capability = { PER_LAYER: 1, OUTPUT: 2, DIGEST: 4, CALIBRATE: 8, RESET: 16, LAYER_SAMPLES: 32 } as const;
/** MODEL_BEGIN.format of a Tandem blob (docs/blob-format.md). */
export const FORMAT_TANDEM_BLOB = 1;

export interface BoardInfo {
  readonly protocol: number;
  readonly timerSource: number;
  readonly timerBits: number;
  readonly timerExtBits: number;
  readonly nonce: number;
  readonly coreClockHz: number;
  readonly timerHz: number;
  readonly maxPayload: number;
  readonly maxIterations: number;
  readonly slotBytes: number;
  readonly arenaBytes: number;
  readonly capabilities: number;
  readonly runtimeId: string;
  readonly boardId: string;
  /** u32 slots for RUN mode LAYER_SAMPLES: iterations × (layers + 1) must fit. */
  readonly sampleSlots: number;
}

export interface LayerEntry {
  readonly index: number;
  readonly op: number;
  readonly macs: number;
  readonly name: string;
}

export interface LayerStat {
  readonly layer: number;
  readonly calls: number;
  readonly min: number;
  readonly max: number;
  readonly sum: bigint;
}

export type Message =
  | { readonly kind: 'hello'; readonly token: number }
  | { readonly kind: 'ping'; readonly token: number }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'modelBegin'; readonly length: number; readonly crc32: number; readonly format: number }
  | { readonly kind: 'modelChunk'; readonly offset: number; readonly data: Uint8Array }
  | { readonly kind: 'modelCommit' }
  | { readonly kind: 'setInput'; readonly offset: number; readonly total: number; readonly data: Uint8Array }
  | { readonly kind: 'run'; readonly warmup: number; readonly iterations: number; readonly mode: number; readonly output: number; readonly loops: number }
  | { readonly kind: 'abort' }
  | { readonly kind: 'reset' }
  | ({ readonly kind: 'info' } & BoardInfo)
  | { readonly kind: 'pong'; readonly token: number; readonly nonce: number }
  | { readonly kind: 'time'; readonly ticks: bigint }
  | { readonly kind: 'ack'; readonly ref: number; readonly value: number }
  | { readonly kind: 'nak'; readonly ref: number; readonly reason: number; readonly expected: number }
  | {
      readonly kind: 'layerTable';
      readonly layers: number;
      readonly first: number;
      readonly inputSize: number;
      readonly outputSize: number;
      readonly arenaUsed: number;
      readonly entries: readonly LayerEntry[];
    }
  | {
      readonly kind: 'runSummary';
      readonly iterations: number;
      readonly mode: number;
      readonly output: number;
      readonly min: number;
      readonly median: number;
      readonly p90: number;
      readonly max: number;
      readonly total: bigint;
    }
  | { readonly kind: 'layerStats'; readonly entries: readonly LayerStat[] }
  | {
      readonly kind: 'layerSamples';
      readonly layers: number;
      readonly iterations: number;
      /** Index of the first sample in the iteration-major matrix of iterations × (layers + 1). */
      readonly first: number;
      readonly samples: Uint32Array;
    }
  | { readonly kind: 'output'; readonly total: number; readonly offset: number; readonly data: Uint8Array }
  | { readonly kind: 'digest'; readonly size: number; readonly crc32: number }
  | { readonly kind: 'log'; readonly level: number; readonly text: string }
  | { readonly kind: 'error'; readonly code: number; readonly ref: number; readonly detail: number; readonly text: string };

export type MessageKind = Message['kind'];
export type MessageOf<K extends MessageKind> = Extract<Message, { kind: K }>;

const KIND_TYPE: { readonly [K in MessageKind]: number } = {
  hello: MsgType.HELLO,
  ping: MsgType.PING,
  timestamp: MsgType.TIMESTAMP,
  modelBegin: MsgType.MODEL_BEGIN,
  modelChunk: MsgType.MODEL_CHUNK,
  modelCommit: MsgType.MODEL_COMMIT,
  setInput: MsgType.SET_INPUT,
  run: MsgType.RUN,
  abort: MsgType.ABORT,
  reset: MsgType.RESET,
  info: MsgType.INFO,
  pong: MsgType.PONG,
  time: MsgType.TIME,
  ack: MsgType.ACK,
  nak: MsgType.NAK,
  layerTable: MsgType.LAYER_TABLE,
  runSummary: MsgType.RUN_SUMMARY,
  layerStats: MsgType.LAYER_STATS,
  layerSamples: MsgType.LAYER_SAMPLES,
  output: MsgType.OUTPUT,
  digest: MsgType.DIGEST,
  log: MsgType.LOG,
  error: MsgType.ERROR,
};

export function messageType(kind: MessageKind): number {
  return KIND_TYPE[kind];
}

/** Bytes of one LAYER_STATS entry and the fixed part of a LAYER_TABLE frame (for packing). */
export const LAYER_STAT_BYTES = 22;
export const LAYER_TABLE_HEADER_BYTES = 18;
export const INFO_FIXED_BYTES = 32;

class Writer {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }
  u8(x: number): this {
    this.room(1);
    this.view.setUint8(this.n, x);
    this.n += 1;
    return this;
  }
  u16(x: number): this {
    this.room(2);
    this.view.setUint16(this.n, x, true);
    this.n += 2;
    return this;
  }
  u32(x: number): this {
    this.room(4);
    this.view.setUint32(this.n, x >>> 0, true);
    this.n += 4;
    return this;
  }
  u64(x: bigint): this {
    this.room(8);
    this.view.setBigUint64(this.n, x, true);
    this.n += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }
  /** A string with a u8 length prefix (ASCII; longer strings are cut at 255). */
  str8(s: string): this {
    const b = new TextEncoder().encode(s).subarray(0, 255);
    return this.u8(b.length).bytes(b);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

class Reader {
  private readonly view: DataView;
  private n = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(k: number): void {
    if (this.n + k > this.b.length) throw new Error(`${this.what} payload too short (${this.b.length} bytes)`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.n++);
  }
  u16(): number {
    this.need(2);
    const x = this.view.getUint16(this.n, true);
    this.n += 2;
    return x;
  }
  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.n, true);
    this.n += 4;
    return x;
  }
  u64(): bigint {
    this.need(8);
    const x = this.view.getBigUint64(this.n, true);
    this.n += 8;
    return x;
  }
  bytes(k: number): Uint8Array {
    this.need(k);
    const x = this.b.slice(this.n, this.n + k);
    this.n += k;
    return x;
  }
  rest(): Uint8Array {
    return this.bytes(this.b.length - this.n);
  }
  str8(): string {
    return new TextDecoder().decode(this.bytes(this.u8()));
  }
  end(): void {
    if (this.n !== this.b.length) throw new Error(`${this.what} payload has ${this.b.length - this.n} extra bytes`);
  }
}

/** Message -> (type, payload). */
export function encodeMessage(m: Message): { type: number; payload: Uint8Array } {
  const w = new Writer();
  switch (m.kind) {
    case 'hello':
      w.u32(m.token);
      break;
    case 'timestamp':
    case 'modelCommit':
    case 'abort':
    case 'reset':
      break;
    case 'ping':
      w.u32(m.token);
      break;
    case 'modelBegin':
      w.u32(m.length).u32(m.crc32).u16(m.format);
      break;
    case 'modelChunk':
      w.u32(m.offset).bytes(m.data);
      break;
    case 'setInput':
      w.u32(m.offset).u32(m.total).bytes(m.data);
      break;
    case 'run':
      w.u16(m.warmup).u16(m.iterations).u8(m.mode).u8(m.output).u32(m.loops);
      break;
    case 'info':
      w.u8(m.protocol).u8(m.timerSource).u8(m.timerBits).u8(m.timerExtBits).u32(m.nonce).u32(m.coreClockHz).u32(m.timerHz);
      w.u16(m.maxPayload).u16(m.maxIterations).u32(m.slotBytes).u32(m.arenaBytes).u32(m.capabilities);
      w.str8(m.runtimeId).str8(m.boardId).u32(m.sampleSlots);
      break;
    case 'pong':
      w.u32(m.token).u32(m.nonce);
      break;
    case 'time':
      w.u64(m.ticks);
      break;
    case 'ack':
      w.u8(m.ref).u32(m.value);
      break;
    case 'nak':
      w.u8(m.ref).u8(m.reason).u32(m.expected);
      break;
    case 'layerTable':
      w.u16(m.layers).u16(m.first).u16(m.entries.length).u32(m.inputSize).u32(m.outputSize).u32(m.arenaUsed);
      for (const e of m.entries) w.u16(e.index).u8(e.op).u32(e.macs).str8(e.name);
      break;
    case 'runSummary':
      w.u16(m.iterations).u8(m.mode).u8(m.output).u32(m.min).u32(m.median).u32(m.p90).u32(m.max).u64(m.total);
      break;
    case 'layerStats':
      w.u16(m.entries.length);
      for (const e of m.entries) w.u16(e.layer).u32(e.calls).u32(e.min).u32(e.max).u64(e.sum);
      break;
    case 'layerSamples':
      w.u16(m.layers).u16(m.iterations).u32(m.first).u16(m.samples.length);
      for (const v of m.samples) w.u32(v);
      break;
    case 'output':
      w.u32(m.total).u32(m.offset).bytes(m.data);
      break;
    case 'digest':
      w.u32(m.size).u32(m.crc32);
      break;
    case 'log':
      w.u8(m.level).bytes(new TextEncoder().encode(m.text));
      break;
    case 'error':
      w.u8(m.code).u8(m.ref).u32(m.detail).bytes(new TextEncoder().encode(m.text));
      break;
  }
  return { type: KIND_TYPE[m.kind], payload: w.done() };
}

/** (type, payload) -> Message; throws on an unknown type or a malformed payload. */
export function decodeMessage(type: number, payload: Uint8Array): Message {
  const r = new Reader(payload, typeName(type));
  let m: Message;
  switch (type) {
    case MsgType.HELLO:
      m = { kind: 'hello', token: r.u32() };
      break;
    case MsgType.TIMESTAMP:
      m = { kind: 'timestamp' };
      break;
    case MsgType.MODEL_COMMIT:
      m = { kind: 'modelCommit' };
      break;
    case MsgType.ABORT:
      m = { kind: 'abort' };
      break;
    case MsgType.RESET:
      m = { kind: 'reset' };
      break;
    case MsgType.PING:
      m = { kind: 'ping', token: r.u32() };
      break;
    case MsgType.MODEL_BEGIN:
      m = { kind: 'modelBegin', length: r.u32(), crc32: r.u32(), format: r.u16() };
      break;
    case MsgType.MODEL_CHUNK:
      m = { kind: 'modelChunk', offset: r.u32(), data: r.rest() };
      break;
    case MsgType.SET_INPUT:
      m = { kind: 'setInput', offset: r.u32(), total: r.u32(), data: r.rest() };
      break;
    case MsgType.RUN:
      m = { kind: 'run', warmup: r.u16(), iterations: r.u16(), mode: r.u8(), output: r.u8(), loops: r.u32() };
      break;
    case MsgType.INFO:
      m = {
        kind: 'info',
        protocol: r.u8(),
        timerSource: r.u8(),
        timerBits: r.u8(),
        timerExtBits: r.u8(),
        nonce: r.u32(),
        coreClockHz: r.u32(),
        timerHz: r.u32(),
        maxPayload: r.u16(),
        maxIterations: r.u16(),
        slotBytes: r.u32(),
        arenaBytes: r.u32(),
        capabilities: r.u32(),
        runtimeId: r.str8(),
        boardId: r.str8(),
        sampleSlots: r.u32(),
      };
      break;
    case MsgType.PONG:
      m = { kind: 'pong', token: r.u32(), nonce: r.u32() };
      break;
    case MsgType.TIME:
      m = { kind: 'time', ticks: r.u64() };
      break;
    case MsgType.ACK:
      m = { kind: 'ack', ref: r.u8(), value: r.u32() };
      break;
    case MsgType.NAK:
      m = { kind: 'nak', ref: r.u8(), reason: r.u8(), expected: r.u32() };
      break;
    case MsgType.LAYER_TABLE: {
      const layers = r.u16();
      const first = r.u16();
      const count = r.u16();
      const inputSize = r.u32();
      const outputSize = r.u32();
      const arenaUsed = r.u32();
      const entries: LayerEntry[] = [];
      for (let i = 0; i < count; i++) entries.push({ index: r.u16(), op: r.u8(), macs: r.u32(), name: r.str8() });
      m = { kind: 'layerTable', layers, first, inputSize, outputSize, arenaUsed, entries };
      break;
    }
    case MsgType.RUN_SUMMARY:
      m = { kind: 'runSummary', iterations: r.u16(), mode: r.u8(), output: r.u8(), min: r.u32(), median: r.u32(), p90: r.u32(), max: r.u32(), total: r.u64() };
      break;
    case MsgType.LAYER_STATS: {
      const count = r.u16();
      const entries: LayerStat[] = [];
      for (let i = 0; i < count; i++) entries.push({ layer: r.u16(), calls: r.u32(), min: r.u32(), max: r.u32(), sum: r.u64() });
      m = { kind: 'layerStats', entries };
      break;
    }
    case MsgType.LAYER_SAMPLES: {
      const layers = r.u16();
      const iterations = r.u16();
      const first = r.u32();
      const count = r.u16();
      const samples = new Uint32Array(count);
      for (let i = 0; i < count; i++) samples[i] = r.u32();
      m = { kind: 'layerSamples', layers, iterations, first, samples };
      break;
    }
    case MsgType.OUTPUT:
      m = { kind: 'output', total: r.u32(), offset: r.u32(), data: r.rest() };
      break;
    case MsgType.DIGEST:
      m = { kind: 'digest', size: r.u32(), crc32: r.u32() };
      break;
    case MsgType.LOG:
      m = { kind: 'log', level: r.u8(), text: new TextDecoder().decode(r.rest()) };
      break;
    case MsgType.ERROR:
      m = { kind: 'error', code: r.u8(), ref: r.u8(), detail: r.u32(), text: new TextDecoder().decode(r.rest()) };
      break;
    default:
      throw new Error(`unknown message ${typeName(type)}`);
  }
  r.end();
  return m;
}
