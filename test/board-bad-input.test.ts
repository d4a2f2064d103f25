// Bad input on the board path must give clear errors, fast (issue 6's acceptance line). Here: a board of another
// protocol version (the real QEMU firmware built with TP_VERSION=2: it answers in version-2 frames), and a model
// larger than the board's slot (refused by the serial Target before a byte of it is sent). Elsewhere: an unknown
// op in the blob (board-faults.test.ts), a port that does not exist (profile-cli.test.ts, serial-protocol.test.ts),
// a host frame of another version (serial-protocol.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { Rng } from '../compiler/util/rng.js';
import { writeBlob } from '../hw-targets/blob/write.js';
import { BoardError, SerialBoard } from '../hw-targets/serial/board.js';
import { ErrorCode } from '../hw-targets/serial/messages.js';
import { firmwarePortDir, startQemuBoard } from '../hw-targets/serial/qemu.js';
import { SerialTarget } from '../hw-targets/targets/serial.js';
import { buildFirmware, skipQemu, tinyQuantized } from './board-helpers.js';

test('a board speaking protocol 2: the host names both versions at once, no timeout', { skip: skipQemu }, async () => {
  const build = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-fw-v2-'));
  try {
    execFileSync('nice', ['-n', '19', 'make', '-s', '-C', firmwarePortDir(), `BUILD=${build}`, 'EXTRA_CFLAGS=-DTP_VERSION=2'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const q = await startQemuBoard({ nice: 19, elf: path.join(build, 'tandem-fw.elf') });
    try {
      const t0 = performance.now();
      await assert.rejects(SerialTarget.open(q.ptyPath, { heartbeatMs: 0, requestTimeoutMs: 3000 }), (e: unknown) => {
        assert.ok(e instanceof BoardError, String(e));
        assert.equal(e.code, ErrorCode.BAD_VERSION);
        assert.equal(e.detail, 2);
        assert.equal(e.message, `board on ${q.ptyPath} speaks protocol 2 (it answered in a version 2 frame); this host speaks protocol 1: use firmware and Tandem of the same protocol version`);
        return true;
      });
      const ms = performance.now() - t0;
      // one HELLO answered, not 6 HELLOs timing out after 3 s each
      assert.ok(ms < 2900, `refused after ${ms.toFixed(0)} ms`);
    } finally {
      await q.close();
    }
  } finally {
    fs.rmSync(build, { recursive: true, force: true });
  }
});

test('a model larger than the slot is refused before upload, naming both sizes and the port; the board stays usable', { skip: skipQemu }, async () => {
  buildFirmware();
  // a real quantized model whose dense layer alone (1,100 x 1,000 int8 weights) exceeds the 1 MiB slot
  const b = new GraphBuilder('big', 1);
  const x = b.input('x', [1100]);
  const g = b.build([b.dense(x, 1000, { id: 'fc' })]);
  const rng = new Rng(7);
  const calib = Float32Array.from({ length: 4 * 1100 }, () => rng.next());
  const big = quantizeGraph(g, { x: calib, n: 4 }, DEFAULT_QUANTIZE).graph;
  const blob = writeBlob(big);
  const q = await startQemuBoard({ nice: 19 });
  const board = await SerialBoard.open(q.ptyPath, { heartbeatMs: 0, requestTimeoutMs: 3000 });
  try {
    const t = new SerialTarget(board, { pings: 1 });
    const info = await board.hello();
    assert.ok(blob.length > info.slotBytes, `${blob.length} > ${info.slotBytes}`);
    // count what reaches the link: the refusal must come before any upload request
    let uploads = 0;
    const upload = board.upload.bind(board);
    board.upload = (...a: Parameters<SerialBoard['upload']>) => (uploads++, upload(...a));
    const t0 = performance.now();
    await assert.rejects(t.load({ graph: big, blob }), (e: unknown) => {
      assert.ok(e instanceof BoardError);
      assert.equal(e.message, `model 'big' is ${blob.length} bytes as a blob: too large for the model slot of ${info.slotBytes} bytes on board qemu-mps2-an386 (${q.ptyPath})`);
      return true;
    });
    assert.equal(uploads, 0);
    assert.ok(performance.now() - t0 < 500, 'refused without talking to the board');
    // the board was not disturbed: a small model loads and runs next
    const m = tinyQuantized(1);
    await t.load({ graph: m.graph });
    assert.equal(uploads, 1);
    const r = await t.run({ data: m.x, batch: 1 }, { warmup: 0, repeats: 1 });
    assert.equal(r.outputs[0].length, 10);
  } finally {
    await board.close();
    await q.close();
  }
});
