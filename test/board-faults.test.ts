// Faults on the real link: the Tandem firmware on QEMU mps2-an386 over its pty, driven by SerialBoard.
// (a) the board resets in the middle of an upload (a RESET frame written by a second channel on the same pty,
//     between two chunks): the driver sees the nonce change and uploads again from offset 0, which succeeds;
// (b) QEMU killed in the middle of a long RUN: the driver reports it, naming the port, long before its timeout;
// (c) a blob with an unknown op code and correct CRCs: the board refuses it at MODEL_COMMIT, naming op and layer.
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { test } from 'node:test';
import { quantizeInput, runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { writeBlob } from '../hw-targets/blob/write.js';
import { BoardDisconnectedError, BoardError, SerialBoard } from '../hw-targets/serial/board.js';
import { crc32 } from '../hw-targets/serial/crc32.js';
import { encodeFrame } from '../hw-targets/serial/frame.js';
import { ErrorCode, MsgType } from '../hw-targets/serial/messages.js';
import { startQemuBoard } from '../hw-targets/serial/qemu.js';
import { buildFirmware, outputValue, skipQemu, tinyQuantized } from './board-helpers.js';

const OPTS = { requestTimeoutMs: 2000, heartbeatMs: 0 } as const;

async function withBoard(fn: (b: SerialBoard, pty: string, pid: number) => Promise<void>): Promise<void> {
  buildFirmware();
  const q = await startQemuBoard({ nice: 19 });
  const b = await SerialBoard.open(q.ptyPath, OPTS);
  try {
    await fn(b, q.ptyPath, q.pid);
  } finally {
    await b.close();
    await q.close();
  }
}

test('board reset mid-upload: the nonce changes, the upload restarts from offset 0 and arrives intact', { skip: skipQemu }, async () => {
  await withBoard(async (b, pty) => {
    const m = tinyQuantized(12);
    const blob = writeBlob(m.graph);
    const chunk = 256;
    assert.ok(blob.length > 20 * chunk, `${blob.length} bytes: enough chunks to reset in the middle`);
    const before = (await b.hello()).nonce;
    const offsets: number[] = [];
    let resetSent = false;
    const r = await b.upload(blob, {
      chunk,
      onProgress: (sent) => {
        offsets.push(sent);
        if (!resetSent && sent >= 10 * chunk) {
          // A second channel on the same pty: the RESET lands between two of the driver's chunks (this callback
          // runs before the next chunk is written). Its ACK carries seq 0xfff0, which the driver ignores.
          resetSent = true;
          const fd = openSync(pty, constants.O_WRONLY | constants.O_NOCTTY);
          try {
            writeSync(fd, Buffer.from([0, ...encodeFrame({ version: 1, type: MsgType.RESET, flags: 0, seq: 0xfff0, payload: new Uint8Array(0) })]));
          } finally {
            closeSync(fd);
          }
        }
      },
    });
    assert.ok(resetSent);
    assert.equal(r.restarts, 1, 'one restart');
    const after = b.boardInfo?.nonce;
    assert.notEqual(after, before, 'the board has a new nonce');
    const back = offsets.findIndex((o, i) => i > 0 && o < offsets[i - 1]);
    assert.ok(back > 0, `progress went back: ${offsets.join(',')}`);
    assert.equal(offsets[back], chunk, 'the restart begins at offset 0 (first ACK = one chunk)');
    assert.equal(offsets[offsets.length - 1], blob.length);
    assert.equal(r.crc32, crc32(blob), 'the board matched the blob CRC at MODEL_COMMIT');
    assert.equal(r.table.layers.length, m.graph.nodes.length);
    // The model the board holds is the whole blob: its output equals the integer executor's.
    const codes = quantizeInput(m.x, valueParams(m.graph).get(m.graph.inputs[0].id)!);
    const out = outputValue(m.graph);
    const ref = runInt8(m.graph, m.x, m.n, { keep: new Set([out]) }).codes.get(out)!;
    await b.setInput(Int8Array.from(codes.subarray(0, r.table.inputSize)));
    const run = await b.run({ warmup: 0, iterations: 1, output: 'full' });
    assert.deepEqual(Array.from(run.output ?? []), Array.from(ref.subarray(0, r.table.outputSize)));
    console.log(`reset after ${10 * chunk} of ${blob.length} B: restarts ${r.restarts}, resends ${r.resends}, ${r.ms.toFixed(0)} ms, crc32 0x${r.crc32.toString(16)}`);
  });
});

test('QEMU killed mid-RUN: the driver reports the lost port at once, not at the run timeout', { skip: skipQemu }, async () => {
  await withBoard(async (b, pty, pid) => {
    await b.hello();
    const timeoutMs = 30_000;
    // About a minute of busy loops on QEMU: the kill falls inside the timed loop, while the board is silent.
    const run = b.run({ mode: 'calibrate', loops: 2_000_000, iterations: 1000, warmup: 0, timeoutMs });
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof BoardDisconnectedError, `expected BoardDisconnectedError, got ${String(e)}`);
      assert.ok(e.message.includes(`board on ${pty}`), e.message);
      return true;
    });
    const ms = performance.now() - t0;
    console.log(`RUN on ${pty}: QEMU killed, reported after ${ms.toFixed(0)} ms (run timeout ${timeoutMs} ms)`);
    assert.ok(ms < 2000, `reported ${ms.toFixed(0)} ms after the kill`);
    await assert.rejects(b.ping(), /board on \/dev\/pts\/\d+ disconnected/);
  });
});

test('an unknown op code in a blob with correct CRCs: ERROR at MODEL_COMMIT names the runtime status, op and layer', { skip: skipQemu }, async () => {
  await withBoard(async (b) => {
    const m = tinyQuantized(2);
    const blob = Uint8Array.from(writeBlob(m.graph));
    const layer = 1; // relu0
    assert.equal(m.graph.nodes[layer].id, 'relu0');
    blob[48 + 104 * layer] = 200;
    new DataView(blob.buffer).setUint32(12, crc32(blob.subarray(48)), true); // header CRC over [48, total_len)
    await assert.rejects(b.upload(blob), (e: unknown) => {
      assert.ok(e instanceof BoardError, String(e));
      assert.equal(e.code, ErrorCode.RUNTIME_BASE + 5);
      assert.equal(e.detail, 1, 'detail 1: at load');
      assert.match(e.message, /board on \/dev\/pts\/\d+ refused MODEL_COMMIT: RUNTIME_UNKNOWN_OP \(detail 1\): unknown op code: op 200 at layer 1 relu0/);
      console.log(e.message);
      return true;
    });
    // The board stays usable: the intact blob loads next.
    const ok = await b.upload(writeBlob(m.graph));
    assert.equal(ok.table.layers.length, m.graph.nodes.length);
  });
});
