// End to end on the QEMU board (Cortex-M4, mps2-an386, -icount shift=0): fmnist-vgg quantized as
// sim-helpers does, written as a blob, uploaded over the real pty through the serial Target, then real
// Fashion-MNIST test images run on the board: every output code must equal the integer executor's, every
// layer must be timed, identical runs must count identical cycles, and the layers must add up to the total.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { graphStats } from '../compiler/ir/graph.js';
import { quantizeInput, runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { valueParams } from '../compiler/passes/quantize/scheme.js';
import { OP_CODES } from '../hw-targets/blob/format.js';
import { writeBlob } from '../hw-targets/blob/write.js';
import { crc32 } from '../hw-targets/serial/crc32.js';
import { SerialBoard } from '../hw-targets/serial/board.js';
import { type QemuBoard, startQemuBoard } from '../hw-targets/serial/qemu.js';
import { SerialTarget } from '../hw-targets/targets/serial.js';
import { summarize } from '../hw-targets/targets/stats.js';
import { buildFirmware, outputValue, skipQemu } from './board-helpers.js';
import { fashionImages } from './helpers.js';
import { quantizedVgg } from './sim-helpers.js';

const IMAGES = 10;

describe('fmnist-vgg on the QEMU board', { skip: skipQemu }, () => {
  let q: QemuBoard;
  let target: SerialTarget;
  let board: SerialBoard;
  const t0 = performance.now();
  before(async () => {
    buildFirmware();
    q = await startQemuBoard({ nice: 19 });
    board = await SerialBoard.open(q.ptyPath, { requestTimeoutMs: 3000, heartbeatMs: 0 });
    target = new SerialTarget(board, { pings: 3 });
  });
  after(async () => {
    await target?.close();
    await q?.close();
    console.log(`board e2e wall time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

  test('HELLO -> INFO over the pty: the real runtime, 25 MHz SysTick, LAYER_SAMPLES', async () => {
    const info = await board.hello();
    assert.equal(info.protocol, 1);
    assert.equal(info.runtimeId, 'tandem-rt/1');
    assert.equal(info.boardId, 'qemu-mps2-an386');
    assert.equal(info.timerHz, 25_000_000);
    assert.ok(info.sampleSlots > 0);
    const d = await target.describe();
    assert.equal(d.kind, 'serial');
    assert.equal(d.capabilities.perLayerTiming, true);
    assert.equal(d.capabilities.maxModelBytes, info.slotBytes);
  });

  test('upload in chunks; the board checks the CRC-32 and lists the graph layers', async () => {
    const g = await quantizedVgg();
    const blob = writeBlob(g);
    let acks = 0;
    const progress = new SerialTarget(board, { pings: 3, onProgress: (e) => e.phase === 'upload' && acks++ });
    await progress.load({ graph: g, blob });
    const up = progress.lastUpload!;
    const chunk = board.boardInfo!.maxPayload - 4;
    console.log(`upload ${blob.length} B in ${(up.ms / 1000).toFixed(1)} s = ${(blob.length / up.ms).toFixed(1)} KB/s`);
    // One ACK per chunk and none resent: the board had every byte at the first try.
    assert.equal(acks, Math.ceil(blob.length / chunk));
    assert.equal(up.resends, 0);
    assert.equal(up.bytes, blob.length);
    // MODEL_COMMIT answered LAYER_TABLE, so the board's CRC-32 over its slot equalled the host's (else
    // ERROR(CRC_MISMATCH)), and trt_load accepted the blob's own CRC (of bytes 48..end, header offset 12).
    assert.equal(new DataView(blob.buffer, blob.byteOffset).getUint32(12, true), crc32(blob.subarray(48)));
    const stats = graphStats(g).nodes;
    const t = up.table;
    assert.deepEqual(t.layers.map((l) => l.name), g.nodes.map((n) => n.id));
    assert.deepEqual(t.layers.map((l) => l.op), g.nodes.map((n) => OP_CODES.get(n.op)));
    assert.deepEqual(t.layers.map((l) => l.macs), stats.map((s) => s.macs));
    assert.deepEqual(t.layers.map((l) => l.index), g.nodes.map((_, i) => i));
    assert.equal(t.inputSize, 28 * 28);
    assert.equal(t.outputSize, 10);
    assert.ok(t.arenaUsed > 0 && t.arenaUsed <= board.boardInfo!.arenaBytes, `arena ${t.arenaUsed}`);
    // The target that loaded it runs the rest.
    target = progress;
  });

  test(`${IMAGES} test images: output codes bit-exact with runInt8, every layer timed, identical runs identical`, async () => {
    const g = await quantizedVgg();
    const { x } = await fashionImages('test', IMAGES);
    const codes = quantizeInput(x, valueParams(g).get(g.inputs[0].id)!);
    const out = outputValue(g);
    const ref = runInt8(g, x, IMAGES, { keep: new Set([out]) }).codes.get(out)!;
    const L = g.nodes.length;
    let compared = 0;
    let mismatches = 0;
    const slack: number[] = [];
    for (let i = 0; i < IMAGES; i++) {
      await board.setInput(Int8Array.from(codes.subarray(i * 784, (i + 1) * 784)));
      const before = await board.timestamp();
      const a = await board.run({ mode: 'layer-samples', warmup: 0, iterations: 1, output: 'full' });
      const after = await board.timestamp();
      const want = ref.subarray(i * 10, (i + 1) * 10);
      for (let c = 0; c < 10; c++, compared++) if (a.output![c] !== want[c]) mismatches++;
      const row = a.samples![0];
      assert.equal(row.length, L + 1);
      // Layers that do work take ticks; aliases (flatten, dropout, the final softmax) may take 0.
      for (let l = 0; l < L; l++) assert.ok(a.layers[l].calls === 1 && a.layers[l].min === row[l], `layer ${g.nodes[l].id}`);
      assert.ok(row.filter((v, l) => l < L && v > 0).length >= 10, 'the conv/pool/dense layers take ticks');
      const sum = row.subarray(0, L).reduce((s, v) => s + v, 0);
      slack.push(row[L] - sum);
      assert.ok(row[L] - sum < 1e-4 * row[L]);
      // The timer restart at RUN keeps the board timer monotonic.
      assert.ok(after - before >= BigInt(row[L]), `TIMESTAMP ${before} -> ${after} spans the run (${row[L]} ticks)`);
      if (i < 3) {
        // The same image again: under -icount the very same instructions run at the same timer phase.
        const b = await board.run({ mode: 'layer-samples', warmup: 0, iterations: 1, output: 'full' });
        assert.deepEqual(Array.from(b.samples![0]), Array.from(row), `image ${i}: two runs count the same ticks per layer`);
        assert.deepEqual(Array.from(b.output!), Array.from(a.output!));
      }
      if (i === 0) console.log(`image 0 ticks per layer: ${g.nodes.map((n, l) => `${n.id}=${row[l]}`).join(' ')} total=${row[L]}`);
    }
    console.log(`compared ${compared} output codes of ${IMAGES} images, ${mismatches} mismatches; total - sum(layers) = ${slack.join(', ')} ticks`);
    assert.equal(mismatches, 0);
    assert.equal(compared, IMAGES * 10);
    // Total vs the sum of layers: the difference is what runs outside the layers' timed intervals, i.e. the
    // layer hook itself (a call, two board_ticks() reads with their wrap re-check, the statistics update:
    // ~150 instructions, ~4 ticks at 40 instructions a tick) and the runtime's dispatch between layers.
    // Measured 87..91 ticks for 22 layers; the bound is 8 ticks per layer, never negative, and under 0.01%.
    for (const s of slack) assert.ok(s >= 0 && s <= 8 * L, `total - sum of layers = ${s} ticks`);
  });

  test('the Target: report rows per original layer with cycle samples; outputs equal runInt8', async () => {
    const g = await quantizedVgg();
    const n = 2;
    const { x } = await fashionImages('test', n);
    const r = await target.run({ data: x, batch: n }, { warmup: 1, repeats: 3, perLayer: true });
    const ref = runInt8(g, x, n).outputs[0];
    assert.deepEqual(Array.from(r.outputs[0]), Array.from(ref));
    const origins = [...new Set(g.nodes.map((node) => node.origin))];
    assert.deepEqual(r.report.rows.map((row) => row.layer), origins);
    for (const row of r.report.rows) {
      assert.equal(row.executor, 'serial:qemu-mps2-an386');
      assert.equal(row.latency?.unit, 'cycles');
      assert.equal(row.latency?.clockHz, 25_000_000);
      assert.equal(row.latency?.samples.length, n * 3);
    }
    const total = summarize(r.report.total!.latency!.samples);
    assert.equal(total.n, n * 3);
    assert.ok(total.min > 1e6, `an inference takes ${total.min} ticks`);
    assert.equal(r.link.pingMs.length, 3);
  });
});
