// Serial protocol v1 (docs/protocol.md): COBS and CRC-32 known answers, frame round trips and resync, message
// round trips; then the real Cortex-M firmware on QEMU mps2-an386 over its pty with the serialport driver.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cobsDecode, cobsEncode } from '../hw-targets/serial/cobs.js';
import { crc32 } from '../hw-targets/serial/crc32.js';
import { type BodyResult, type Frame, FLAG_FINAL, FrameDecoder, encodeFrame } from '../hw-targets/serial/frame.js';
import { type Message, decodeMessage, encodeMessage } from '../hw-targets/serial/messages.js';

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
    { kind: 'hello' },
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
      maxPayload: 1024, maxIterations: 1000, slotBytes: 1 << 20, arenaBytes: 1 << 20, capabilities: 31, runtimeId: 'placeholder', boardId: 'qemu-mps2-an386',
    },
    { kind: 'pong', token: 7, nonce: 9 },
    { kind: 'time', ticks: 0x1_0000_0001n },
    { kind: 'ack', ref: 0x11, value: 2040 },
    { kind: 'nak', ref: 0x11, reason: 2, expected: 1020 },
    { kind: 'layerTable', layers: 2, first: 0, inputSize: 784, outputSize: 10, arenaUsed: 4096, entries: [{ index: 0, op: 3, macs: 1000, name: 'conv1' }, { index: 1, op: 9, macs: 0, name: '' }] },
    { kind: 'runSummary', iterations: 10, mode: 0, output: 1, min: 1, median: 2, p90: 3, max: 4, total: 25n },
    { kind: 'layerStats', entries: [{ layer: 0, calls: 10, min: 5, max: 9, sum: 70n }] },
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
