// Serial protocol v1 (docs/protocol.md): COBS and CRC-32 known answers, frame round trips and resync, message
// round trips; then the real Cortex-M firmware on QEMU mps2-an386 over its pty with the serialport driver.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { SerialPort } from 'serialport';
import { BoardError, SerialBoard } from '../hw-targets/serial/board.js';
import { cobsDecode, cobsEncode } from '../hw-targets/serial/cobs.js';
import { crc32 } from '../hw-targets/serial/crc32.js';
import { type BodyResult, type Frame, FLAG_FINAL, FrameDecoder, encodeFrame } from '../hw-targets/serial/frame.js';
import { ErrorCode, type Message, MsgType, NakReason, decodeMessage, encodeMessage } from '../hw-targets/serial/messages.js';
import { type QemuBoard, startQemuBoard } from '../hw-targets/serial/qemu.js';
import { quantizeInput, runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { writeBlob } from '../hw-targets/blob/write.js';
import { buildFirmware, haveSocat, outputValue, skipQemu, tinyQuantized } from './board-helpers.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((x) => parseInt(x, 16)));
const seqBytes = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('CRC-32/ISO-HDLC known answers', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(new TextEncoder().encode('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  const a = new TextEncoder().encode('12345');
  const b = new TextEncoder().encode('6789');
  assert.equal(crc32(b, crc32(a)), 0xcbf43926, 'continued CRC equals the CRC of the concatenation');
});

test('COBS vectors (Wikipedia / Cheshire & Baker) encode and decode', () => {
  const cases: [Uint8Array, Uint8Array][] = [
    [hex('00'), hex('01 01')],
    [hex('00 00'), hex('01 01 01')],
    [hex('00 11 00'), hex('01 02 11 01')],
    [hex('11 22 00 33'), hex('03 11 22 02 33')],
    [hex('11 22 33 44'), hex('05 11 22 33 44')],
    [hex('11 00 00 00'), hex('02 11 01 01 01')],
    [seqBytes(1, 254), Uint8Array.from([0xff, ...seqBytes(1, 254)])],
    [seqBytes(0, 254), Uint8Array.from([0x01, 0xff, ...seqBytes(1, 254)])],
    [seqBytes(1, 255), Uint8Array.from([0xff, ...seqBytes(1, 254), 0x02, 0xff])],
    [Uint8Array.from([...seqBytes(2, 255), 0x00]), Uint8Array.from([0xff, ...seqBytes(2, 255), 0x01, 0x01])],
    [Uint8Array.from([...seqBytes(3, 255), 0x00, 0x01]), Uint8Array.from([0xfe, ...seqBytes(3, 255), 0x02, 0x01])],
  ];
  for (const [raw, enc] of cases) {
    assert.deepEqual(cobsEncode(raw), enc);
    assert.deepEqual(cobsDecode(enc), raw);
  }
  assert.deepEqual(cobsEncode(new Uint8Array(0)), hex('01'));
  assert.equal(cobsDecode(hex('05 11 22')), undefined, 'truncated block');
  assert.equal(cobsDecode(hex('03 11 00')), undefined, 'zero inside a block');
});

test('COBS round trips random data with and without zeros', () => {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (const n of [0, 1, 253, 254, 255, 508, 509, 1000, 3000]) {
    for (const zeros of [0, 0.01, 0.5]) {
      const d = Uint8Array.from({ length: n }, () => (rnd() / 256 < zeros ? 0 : rnd() || 1));
      const e = cobsEncode(d);
      assert.ok(!e.includes(0));
      assert.ok(e.length <= n + Math.floor(n / 254) + 1);
      assert.deepEqual(cobsDecode(e), d);
    }
  }
});

function collect(): { results: BodyResult[]; dec: FrameDecoder; frames: () => Frame[] } {
  const results: BodyResult[] = [];
  const dec = new FrameDecoder((r) => results.push(r), 1024);
  return { results, dec, frames: () => results.flatMap((r) => (r.ok ? [r.frame] : [])) };
}

test('frames round trip, split at any byte, and the decoder resynchronises after garbage', () => {
  const f1: Frame = { version: 1, type: 0x11, flags: 0, seq: 513, payload: Uint8Array.from({ length: 600 }, (_, i) => i & 0xff) };
  const f2: Frame = { version: 1, type: 0x84, flags: FLAG_FINAL, seq: 65535, payload: hex('11 00 00 00 00') };
  const f3: Frame = { version: 1, type: 0x01, flags: 0, seq: 1, payload: new Uint8Array(0) };
  const wire = Uint8Array.from([...hex('00 00'), ...encodeFrame(f1), ...hex('13 37 ff 00 42 00'), ...encodeFrame(f2), 0x00, ...encodeFrame(f3)]);
  for (const step of [1, 7, wire.length]) {
    const { dec, frames, results } = collect();
    for (let i = 0; i < wire.length; i += step) dec.push(wire.subarray(i, i + step));
    assert.deepEqual(frames(), [f1, f2, f3]);
    assert.equal(results.filter((r) => !r.ok).length, 2, 'the two garbage runs are rejected');
  }
});

test('a corrupted byte fails the CRC but keeps the header; an overlong frame is dropped; the next frame decodes', () => {
  const f: Frame = { version: 1, type: 0x11, flags: 0, seq: 77, payload: Uint8Array.from({ length: 100 }, (_, i) => i + 1) };
  const bad = encodeFrame(f);
  bad[50] ^= 0x40;
  const { dec, results, frames } = collect();
  dec.push(bad);
  assert.equal(results.length, 1);
  const r = results[0];
  assert.ok(!r.ok && r.reason === 'crc' && r.header?.seq === 77 && r.header.type === 0x11);
  dec.push(encodeFrame({ ...f, payload: new Uint8Array(2000).fill(1) }));
  assert.ok(!results[1].ok && results[1].reason === 'length');
  dec.push(encodeFrame(f));
  assert.deepEqual(frames(), [f]);
  assert.equal(dec.dropped, 2);
});

test('every message round trips through encodeMessage/decodeMessage', () => {
  const msgs: Message[] = [
    { kind: 'hello', token: 0x01020304 },
    { kind: 'ping', token: 0xdeadbeef },
    { kind: 'timestamp' },
    { kind: 'modelBegin', length: 300000, crc32: 0xcbf43926, format: 1 },
    { kind: 'modelChunk', offset: 1020, data: hex('00 01 02') },
    { kind: 'modelCommit' },
    { kind: 'setInput', offset: 0, total: 784, data: hex('80 7f') },
    { kind: 'run', warmup: 2, iterations: 100, mode: 1, output: 2, loops: 0 },
    { kind: 'abort' },
    { kind: 'reset' },
    {
      kind: 'info', protocol: 1, timerSource: 1, timerBits: 24, timerExtBits: 64, nonce: 0x12345678, coreClockHz: 25000000, timerHz: 25000000,
      maxPayload: 1024, maxIterations: 1000, slotBytes: 1 << 20, arenaBytes: 1 << 20, capabilities: 63, runtimeId: 'tandem-rt/1', boardId: 'qemu-mps2-an386',
      sampleSlots: 65536,
    },
    { kind: 'pong', token: 7, nonce: 9 },
    { kind: 'time', ticks: 0x1_0000_0001n },
    { kind: 'ack', ref: 0x11, value: 2040 },
    { kind: 'nak', ref: 0x11, reason: 2, expected: 1020 },
    { kind: 'layerTable', layers: 2, first: 0, inputSize: 784, outputSize: 10, arenaUsed: 4096, entries: [{ index: 0, op: 3, macs: 1000, name: 'conv1' }, { index: 1, op: 9, macs: 0, name: '' }] },
    { kind: 'runSummary', iterations: 10, mode: 0, output: 1, min: 1, median: 2, p90: 3, max: 4, total: 25n },
    { kind: 'layerStats', entries: [{ layer: 0, calls: 10, min: 5, max: 9, sum: 70n }] },
    { kind: 'layerSamples', layers: 2, iterations: 3, first: 3, samples: Uint32Array.from([7, 0xffffffff, 12]) },
    { kind: 'output', total: 10, offset: 0, data: hex('01 ff') },
    { kind: 'digest', size: 10, crc32: 0xffffffff },
    { kind: 'log', level: 1, text: 'booted' },
    { kind: 'error', code: 0x21, ref: 0x12, detail: 1, text: 'not a Tandem blob' },
  ];
  for (const m of msgs) {
    const { type, payload } = encodeMessage(m);
    assert.deepEqual(decodeMessage(type, payload), m);
  }
  assert.throws(() => decodeMessage(0x84, hex('11 00')), /ACK payload too short/);
  assert.throws(() => decodeMessage(0x02, hex('01 00 00 00 05')), /PING payload has 1 extra bytes/);
  assert.throws(() => decodeMessage(0x7f, new Uint8Array(0)), /unknown message type 0x7f/);
});

// ---------------------------------------------------------------------------------------------------------
// The real firmware on QEMU mps2-an386, over its pty.

const boot = () => startQemuBoard({ nice: 19 });
const OPTS = { requestTimeoutMs: 3000, heartbeatMs: 0 } as const;

/** A real model of 38 conv+relu pairs, flatten, dense, softmax: 79 layers, more than one LAYER_TABLE frame holds. */
const deep = tinyQuantized(38);
const deepBlob = writeBlob(deep.graph);

async function rejectsWith(p: Promise<unknown>, check: (e: BoardError) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BoardError, `expected a BoardError, got ${String(e)}`);
    check(e);
    return true;
  });
}

describe('firmware on QEMU mps2-an386 over a pty', { skip: skipQemu }, () => {
  let q: QemuBoard;
  let board: SerialBoard;
  before(async () => {
    buildFirmware();
    q = await boot();
    board = await SerialBoard.open(q.ptyPath, OPTS);
  });
  after(async () => {
    await board?.close();
    await q?.close();
  });

  test('HELLO -> INFO with sane fields; PING; TIMESTAMP is monotonic', async () => {
    const info = await board.hello();
    assert.equal(info.protocol, 1);
    assert.equal(info.boardId, 'qemu-mps2-an386');
    assert.equal(info.coreClockHz, 25_000_000);
    assert.equal(info.timerHz, 25_000_000);
    assert.deepEqual([info.timerSource, info.timerBits, info.timerExtBits], [1, 24, 64]);
    assert.equal(info.maxPayload, 1024);
    assert.equal(info.slotBytes, 1 << 20);
    assert.ok(info.arenaBytes >= 256 * 1024);
    assert.ok(info.maxIterations >= 100);
    assert.equal(info.capabilities & 63, 63);
    assert.equal(info.runtimeId, 'tandem-rt/1');
    assert.ok(info.sampleSlots >= 1000 * 21, `${info.sampleSlots} sample slots`);
    assert.notEqual(info.nonce, 0);
    const p = await board.ping();
    assert.equal(p.nonce, info.nonce);
    const t1 = await board.timestamp();
    const t2 = await board.timestamp();
    assert.ok(t2 > t1, `${t2} > ${t1}`);
  });

  test('CALIBRATE runs a fixed busy loop: the same tick counts every time under -icount', async () => {
    const a = await board.run({ mode: 'calibrate', loops: 10000, warmup: 1, iterations: 9 });
    const b = await board.run({ mode: 'calibrate', loops: 10000, warmup: 1, iterations: 9 });
    const c = await board.run({ mode: 'calibrate', loops: 20000, warmup: 0, iterations: 3 });
    // One SysTick tick is 40 instructions at -icount shift=0: the loop's phase against the tick moves a count by 1 at most.
    for (const r of [a, b]) assert.ok(r.max - r.min <= 1, `${r.min}..${r.max}`);
    assert.ok(Math.abs(a.median - b.median) <= 1, `${a.median} vs ${b.median}`);
    assert.ok(Math.abs(c.median - 2 * a.median) <= 2, `twice the loops: ${c.median} vs 2 x ${a.median}`);
    assert.ok(a.min <= a.median && a.median <= a.p90 && a.p90 <= a.max);
    assert.ok(a.total >= BigInt(9 * a.min) && a.total <= BigInt(9 * a.max));
  });

  test('a 300 KB upload in chunks arrives intact (CRC at MODEL_COMMIT) and the runtime refuses random bytes cleanly', async () => {
    const blob = new Uint8Array(randomBytes(300 * 1024));
    let progress = 0;
    await rejectsWith(board.upload(blob, { onProgress: (sent) => (progress = sent) }), (e) => {
      // The slot's CRC matched (else CRC_MISMATCH): the runtime's own check refuses a blob without its magic.
      assert.equal(e.code, ErrorCode.RUNTIME_BASE + 1, e.message);
      assert.equal(e.detail, 1);
      assert.match(e.message, /MODEL_COMMIT: RUNTIME_MAGIC/);
    });
    assert.equal(progress, blob.length);
  });

  test('a chunk resent twice is idempotent; a gap is NAKed; a wrong CRC and early commit are refused', async () => {
    const blob = deepBlob.subarray(0, 3013); // a real blob's first bytes: the chunk rules do not read them
    const raw = async (kind: Message, frames = 1) => {
      const { type, payload } = encodeMessage(kind);
      const ms = await board.raw(type, payload);
      assert.equal(ms.length, frames, JSON.stringify(ms));
      return ms;
    };
    const chunk = (offset: number, n: number): Message => ({ kind: 'modelChunk', offset, data: blob.subarray(offset, offset + n) });
    assert.deepEqual(await raw({ kind: 'modelBegin', length: blob.length, crc32: crc32(blob), format: 1 }), [{ kind: 'ack', ref: MsgType.MODEL_BEGIN, value: 0 }]);
    for (let i = 0; i < 3; i++) assert.deepEqual(await raw(chunk(0, 1000)), [{ kind: 'ack', ref: MsgType.MODEL_CHUNK, value: 1000 }]);
    assert.deepEqual(await raw(chunk(2000, 1000)), [{ kind: 'nak', ref: MsgType.MODEL_CHUNK, reason: NakReason.BAD_OFFSET, expected: 1000 }]);
    assert.deepEqual(await raw(chunk(500, 1000)), [{ kind: 'ack', ref: MsgType.MODEL_CHUNK, value: 1500 }], 'overlapping resend');
    const [early] = await raw({ kind: 'modelCommit' });
    assert.ok(early.kind === 'error' && early.code === ErrorCode.INCOMPLETE && early.detail === 1500);
    assert.deepEqual(await raw(chunk(1500, 1000)), [{ kind: 'ack', ref: MsgType.MODEL_CHUNK, value: 2500 }]);
    assert.deepEqual(await raw(chunk(2500, 513)), [{ kind: 'ack', ref: MsgType.MODEL_CHUNK, value: 3013 }]);
    assert.deepEqual(await raw({ kind: 'modelChunk', offset: 3000, data: new Uint8Array(14) }), [{ kind: 'nak', ref: MsgType.MODEL_CHUNK, reason: NakReason.BAD_OFFSET, expected: 3013 }], 'past the end');
    // The cut blob is intact as far as the slot goes, but the runtime finds it truncated.
    const [cut] = await raw({ kind: 'modelCommit' });
    assert.ok(cut.kind === 'error' && cut.code === ErrorCode.RUNTIME_BASE + 4 && cut.detail === 1, JSON.stringify(cut));
    // Same bytes, wrong CRC announced.
    await raw({ kind: 'modelBegin', length: 4, crc32: 0x12345678, format: 1 });
    await raw({ kind: 'modelChunk', offset: 0, data: hex('01 02 03 04') });
    const [bad] = await raw({ kind: 'modelCommit' });
    assert.ok(bad.kind === 'error' && bad.code === ErrorCode.CRC_MISMATCH && bad.detail === crc32(hex('01 02 03 04')), JSON.stringify(bad));
    const [nochunk] = await raw({ kind: 'modelChunk', offset: 0, data: hex('01') });
    assert.ok(nochunk.kind === 'error' && nochunk.code === ErrorCode.STATE);
  });

  test('a real 79-layer model: the layer table spans frames, outputs equal the integer executor, bad inputs are refused', async () => {
    const r = await board.upload(deepBlob);
    assert.equal(r.table.layers.length, deep.graph.nodes.length);
    assert.deepEqual(r.table.layers.map((l) => l.name), deep.graph.nodes.map((n) => n.id));
    assert.equal(r.table.layers[0].macs, 8 * 8 * 9 * 4);
    assert.equal(r.table.inputSize, 64);
    assert.equal(r.table.outputSize, 10);
    const codes = quantizeInput(deep.x, valueParams(deep.graph).get(deep.graph.inputs[0].id)!);
    const out = outputValue(deep.graph);
    const ref = runInt8(deep.graph, deep.x, deep.n, { keep: new Set([out]) }).codes.get(out)!;
    for (let i = 0; i < deep.n; i++) {
      await board.setInput(Int8Array.from(codes.subarray(i * 64, (i + 1) * 64)));
      const run = await board.run({ warmup: 0, iterations: 1, output: 'full' });
      assert.deepEqual(Array.from(run.output ?? []), Array.from(ref.subarray(i * 10, (i + 1) * 10)), `image ${i}`);
    }
    await rejectsWith(board.setInput(new Int8Array(63)), (e) => {
      assert.equal(e.code, ErrorCode.BAD_LENGTH);
      assert.equal(e.detail, 64);
    });
    // LAYER_SAMPLES needs iterations x (layers + 1) slots.
    const slots = board.boardInfo?.sampleSlots ?? 0;
    const tooMany = Math.floor(slots / (deep.graph.nodes.length + 1)) + 1;
    if (tooMany <= (board.boardInfo?.maxIterations ?? 0))
      await rejectsWith(board.run({ mode: 'layer-samples', iterations: tooMany }), (e) => {
        assert.equal(e.code, ErrorCode.BAD_ARG);
        assert.equal(e.detail, slots);
      });
    const s = await board.run({ mode: 'layer-samples', warmup: 1, iterations: 3, output: 'digest' });
    assert.equal(s.samples?.length, 3);
    assert.equal(s.samples?.[0].length, deep.graph.nodes.length + 1);
  });

  test('wrong protocol version, unknown type, bad length and bad RUN arguments get ERROR', async () => {
    const [v] = await board.raw(MsgType.HELLO, new Uint8Array(4), 2);
    assert.ok(v.kind === 'error' && v.code === ErrorCode.BAD_VERSION && v.detail === 1, JSON.stringify(v));
    const [u] = await board.raw(0x7e, new Uint8Array(0));
    assert.ok(u.kind === 'error' && u.code === ErrorCode.UNKNOWN_TYPE);
    const [l] = await board.raw(MsgType.PING, hex('01 02'));
    assert.ok(l.kind === 'error' && l.code === ErrorCode.BAD_LENGTH);
    await rejectsWith(board.run({ mode: 'calibrate', iterations: 60000 }), (e) => {
      assert.equal(e.code, ErrorCode.BAD_ARG);
      assert.match(e.message, /refused RUN: BAD_ARG/);
    });
  });

  test('a model larger than the slot is refused at MODEL_BEGIN with the slot size', async () => {
    const slot = board.boardInfo?.slotBytes ?? 0;
    await rejectsWith(board.upload(new Uint8Array(slot + 1)), (e) => {
      assert.equal(e.code, ErrorCode.TOO_LARGE);
      assert.equal(e.detail, slot);
      assert.match(e.message, /MODEL_BEGIN: TOO_LARGE .*model larger than the model slot/);
    });
  });

  test('RESET reboots the board with a new nonce; calls then fail until hello()', async () => {
    const before = (await board.hello()).nonce;
    await board.reset();
    await rejectsWith(board.run({ mode: 'calibrate' }), (e) => assert.match(e.message, /reset/));
    await new Promise((r) => setTimeout(r, 300));
    const after = (await board.hello()).nonce;
    assert.notEqual(after, before);
    const p = await board.ping();
    assert.equal(p.nonce, after);
  });
});

test('a port that does not exist is named in the error', async () => {
  await assert.rejects(SerialBoard.open('/dev/tandem-no-such-port'), /serial port \/dev\/tandem-no-such-port does not exist/);
});

test('two QEMU boots have different nonces', { skip: skipQemu }, async () => {
  buildFirmware();
  const nonces: number[] = [];
  for (let i = 0; i < 2; i++) {
    const q = await boot();
    const b = await SerialBoard.open(q.ptyPath, OPTS);
    try {
      nonces.push((await b.hello()).nonce);
    } finally {
      await b.close();
      await q.close();
    }
  }
  assert.notEqual(nonces[0], nonces[1]);
});

test('QEMU killed mid-upload: the driver reports it within its timeout', { skip: skipQemu }, async () => {
  buildFirmware();
  const q = await boot();
  const b = await SerialBoard.open(q.ptyPath, { requestTimeoutMs: 1000, retries: 2, heartbeatMs: 0 });
  let killedAt = 0;
  try {
    const blob = new Uint8Array(randomBytes(200 * 1024));
    const up = b.upload(blob, {
      onProgress: (sent) => {
        if (sent > 8 * 1024 && !killedAt) {
          killedAt = performance.now();
          process.kill(q.pid, 'SIGKILL');
        }
      },
    });
    await rejectsWith(up, (e) => assert.match(e.message, /board on \/dev\/pts\/\d+ (disconnected|.*no ACK of MODEL_CHUNK)/));
    const ms = performance.now() - killedAt;
    assert.ok(killedAt > 0 && ms < 3 * 1000 + 500, `reported ${ms.toFixed(0)} ms after the kill`);
  } finally {
    await b.close();
    await q.close();
  }
});

test('heartbeat: a vanished board is reported without any call pending', { skip: skipQemu }, async () => {
  buildFirmware();
  const q = await boot();
  let lost: BoardError | undefined;
  const b = await SerialBoard.open(q.ptyPath, { requestTimeoutMs: 500, heartbeatMs: 200, onLost: (e) => (lost = e) });
  try {
    await b.hello();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(lost, undefined, 'heartbeats are answered while the board lives');
    await q.close();
    const t0 = performance.now();
    while (!lost && performance.now() - t0 < 4000) await new Promise((r) => setTimeout(r, 50));
    assert.ok(lost, 'board reported lost');
    await rejectsWith(b.ping(), (e) => assert.match(e.message, /board on \/dev\/pts\/\d+/));
  } finally {
    await b.close();
    await q.close();
  }
});

/**
 * socat makes two linked ptys; the test relays between the far one and QEMU's pty, damaging what it is told
 * to. The driver sees a real pty and a real board, with a faulty line in between.
 */
class FaultyLine {
  private socat?: ChildProcess;
  private far?: SerialPort;
  private qemuSide?: SerialPort;
  /** Host->board frames seen, and what to do to frame number k. */
  private up = 0;
  private upBuf: number[] = [];
  readonly faults = new Map<number, 'corrupt' | 'drop'>();
  downCorrupt = new Set<number>();
  private down = 0;
  private downBuf: number[] = [];
  readonly near: string;
  private readonly farPath: string;

  constructor(tag: string) {
    this.near = `/tmp/tandem-serial-${process.pid}-${tag}-near`;
    this.farPath = `/tmp/tandem-serial-${process.pid}-${tag}-far`;
  }

  async start(qemuPty: string): Promise<void> {
    this.socat = spawn('nice', ['-n', '19', 'socat', `PTY,link=${this.near},raw,echo=0`, `PTY,link=${this.farPath},raw,echo=0`], { stdio: 'ignore' });
    const t0 = performance.now();
    while (!(existsSync(this.near) && existsSync(this.farPath))) {
      if (performance.now() - t0 > 5000) throw new Error('socat did not create its ptys');
      await new Promise((r) => setTimeout(r, 20));
    }
    const open = (path: string) =>
      new Promise<SerialPort>((res, rej) => {
        const p = new SerialPort({ path, baudRate: 115200, autoOpen: false, hupcl: false });
        p.open((e) => (e ? rej(e) : res(p)));
      });
    this.far = await open(this.farPath);
    this.qemuSide = await open(qemuPty);
    this.far.on('data', (d: Buffer) => this.relay(d, true));
    this.qemuSide.on('data', (d: Buffer) => this.relay(d, false));
  }

  private relay(d: Buffer, upward: boolean): void {
    const buf = upward ? this.upBuf : this.downBuf;
    for (const byte of d) {
      buf.push(byte);
      if (byte !== 0) continue;
      const frame = buf.splice(0);
      if (frame.length > 1) {
        const k = upward ? this.up++ : this.down++;
        const fault = upward ? this.faults.get(k) : this.downCorrupt.has(k) ? 'corrupt' : undefined;
        if (fault === 'drop') continue;
        // Flip a data byte of the encoded frame (never into 0x00: that would only split it).
        if (fault === 'corrupt') frame[Math.floor(frame.length / 2)] ^= frame[Math.floor(frame.length / 2)] === 0x5a ? 0x0f : 0x5a;
      }
      (upward ? this.qemuSide : this.far)?.write(Buffer.from(frame));
    }
  }

  /** Frames relayed so far in each direction. */
  get counts(): { up: number; down: number } {
    return { up: this.up, down: this.down };
  }

  async stop(): Promise<void> {
    for (const p of [this.far, this.qemuSide]) if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
    this.socat?.kill('SIGTERM');
  }
}

test('through a faulty line (socat ptys): corrupted and dropped frames are resent, the upload still arrives intact', { skip: skipQemu || (haveSocat ? false : 'needs socat') }, async () => {
  buildFirmware();
  const q = await boot();
  const line = new FaultyLine('fault');
  let b: SerialBoard | undefined;
  try {
    await line.start(q.ptyPath);
    b = await SerialBoard.open(line.near, { requestTimeoutMs: 1000, retries: 5, heartbeatMs: 0 });
    await b.hello();
    const k0 = line.counts.up;
    // Host->board frames after HELLO: MODEL_BEGIN, then chunks 0, 1, 2 (corrupted: the board NAKs it, FRAME_CRC),
    // 2 again, 3 (dropped: the host times out and resends); and one of the board's later ACKs is corrupted (the host
    // times out and resends; the board ACKs the repeat idempotently).
    line.faults.set(k0 + 3, 'corrupt');
    line.faults.set(k0 + 5, 'drop');
    line.downCorrupt.add(line.counts.down + 7);
    assert.ok(deepBlob.length > 8 * 1000, `${deepBlob.length} bytes: enough chunks for the faults`);
    const r = await b.upload(deepBlob, { chunk: 1000 });
    assert.equal(r.table.layers.length, deep.graph.nodes.length);
    assert.equal(r.resends, 3, 'one resend per fault');
  } finally {
    await b?.close();
    await line.stop();
    await q.close();
  }
});
