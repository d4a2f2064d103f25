// The adb target (hw-targets/targets/adb.ts) end to end. No phone is attached here, so $TANDEM_ADB points at
// hw-targets/adb/standin/adb-standin: a stand-in for the adb executable (NOT adb), whose "devices" are temp
// folders and which really executes the aarch64 tandem-runner under qemu-user. Everything past adb is real:
// the runner is the static aarch64 build of the boards' C runtime, its outputs must equal the integer
// executor's bit for bit on real Fashion-MNIST images, and its per-layer times are parsed into the Report.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../codesign/run-store.js';
import { OpKind } from '../compiler/ir/types.js';
import { resolveModel } from '../compiler/models/registry.js';
import { runInt8 } from '../compiler/passes/quantize/int8-executor.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { initBackend } from '../compiler/train/backend.js';
import { H, HEADER_BYTES, L } from '../hw-targets/blob/format.js';
import { writeBlob } from '../hw-targets/blob/write.js';
import { crc32 } from '../hw-targets/serial/crc32.js';
import { haveTool } from '../hw-targets/serial/flash.js';
import { AdbTarget, buildRunner, cpuMask, parseCpuList, parseRunnerOutput } from '../hw-targets/targets/adb.js';
import { HostTarget } from '../hw-targets/targets/host.js';
import { outputValue, tinyQuantized } from './board-helpers.js';
import { fashionImages, runCli } from './helpers.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STANDIN = path.join(ROOT, 'hw-targets', 'adb', 'standin', 'adb-standin');

const missing = ['qemu-aarch64', 'aarch64-linux-gnu-gcc', 'make'].filter((t) => !haveTool(t));
const skip: string | false = missing.length ? `missing ${missing.join(', ')} (Debian: qemu-user, gcc-aarch64-linux-gnu)` : false;

// big.LITTLE like a current phone: four 1.8 GHz, three 2.4 GHz and one 3.0 GHz "prime" core -> 'big' pins to CPU 7
const PHONE = 'standin-a64';
const FREQS = [1800000, 1800000, 1800000, 1800000, 2400000, 2400000, 2400000, 3000000];
let home: string;
const env = () => ({ TANDEM_ADB: STANDIN, ADB_STANDIN_HOME: home });
const deviceDir = () => path.join(home, PHONE, 'fs', 'data', 'local', 'tmp', 'tandem');
/** The stand-in's log: every adb invocation and every taskset it ran. */
const log = () =>
  fs
    .readFileSync(path.join(home, 'adb-standin.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { argv?: string[]; taskset?: string; cmd?: string[] });

const saved = { TANDEM_ADB: process.env.TANDEM_ADB, ADB_STANDIN_HOME: process.env.ADB_STANDIN_HOME, PATH: process.env.PATH };
before(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-adb-standin-'));
  fs.writeFileSync(
    path.join(home, 'devices.json'),
    JSON.stringify([
      { serial: PHONE, abi: 'arm64-v8a', cpuMaxFreqKHz: FREQS, props: { 'ro.product.model': 'adb-standin arm64 (qemu-user, not a phone)' } },
      { serial: 'standin-v7', abi: 'armeabi-v7a' },
      { serial: 'standin-off', state: 'offline' },
    ]),
  );
  Object.assign(process.env, env());
});
after(() => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  fs.rmSync(home, { recursive: true, force: true });
});

test('the runner output parser and CPU lists (no device)', () => {
  const ok = parseRunnerOutput('tandem-runner 1\nmodel 2 4 3 64\nlayer 0 1 10 conv\nlayer 1 4 0 relu\nclock CLOCK_MONOTONIC 1\nt 0 0 5 6 12\nend\n', 'x');
  assert.deepEqual(ok.rows, [{ input: 0, repeat: 0, ns: [5, 6, 12] }]);
  assert.deepEqual(ok.layers.map((l) => l.name), ['conv', 'relu']);
  assert.throws(() => parseRunnerOutput('tandem-runner 1\nmodel 2 4 3 64\nlayer 0 1 10 conv\nlayer 1 4 0 relu\nt 0 0 5 12\nend\n', 'dev'), /dev: runner output line 5 't 0 0 5 12': expected input, repeat and 3 times/);
  assert.throws(() => parseRunnerOutput('tandem-runner 1\nmodel 1 4 3 64\nlayer 0 1 10 conv\n', 'dev'), /does not end with 'end'/);
  assert.throws(() => parseRunnerOutput('tandem-runner 2\nend\n', 'dev'), /expected 'tandem-runner 1'/);
  assert.deepEqual(parseCpuList('4-7,0'), [0, 4, 5, 6, 7]);
  assert.equal(cpuMask([4, 5, 6, 7]), 'f0');
  assert.equal(cpuMask([7]), '80');
  assert.throws(() => parseCpuList('4-x'), /'4-x' is not a CPU number or range/);
});

describe('AdbTarget through adb-standin (qemu-user runs the aarch64 runner)', { skip }, () => {
  let t: AdbTarget;
  const t0 = performance.now();
  before(async () => {
    await buildRunner(19);
    t = await AdbTarget.open(PHONE);
  });
  after(async () => {
    await t?.close();
    console.log(`adb target suite ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

  test('describe(): arm64-v8a, pinned to the fastest core (CPU 7, mask 80), marked as the stand-in', async () => {
    const d = await t.describe();
    assert.equal(d.kind, 'adb');
    assert.equal(d.id, `adb:${PHONE}`);
    assert.equal(d.capabilities.perLayerTiming, true);
    assert.deepEqual(d.details?.pinnedCpus, [7]);
    assert.equal(d.details?.tasksetMask, '80');
    assert.equal(d.details?.standin, true);
    assert.equal(d.clockHz, 3.0e9);
    assert.match(d.name, /adb-standin arm64 \(qemu-user, not a phone\) \(adb standin-a64, arm64-v8a, Android 14\)/);
  });

  test('fmnist-vgg int8 on 8 test images: output codes bit-identical to the integer executor, every layer timed', async () => {
    // PTQ on 16 training images with the wasm backend (the tfjs cpu backend takes 10x as long on a loaded machine)
    await initBackend();
    const calib = await fashionImages('train', 16);
    const g = quantizeGraph((await resolveModel('fmnist-vgg')).graph, { x: calib.x, n: 16 }, DEFAULT_QUANTIZE).graph;
    const N = 8;
    const repeats = 3;
    const { x } = await fashionImages('test', N);
    await t.load({ graph: g });
    assert.ok(fs.existsSync(path.join(deviceDir(), 'tandem-runner')) && fs.existsSync(path.join(deviceDir(), 'model.blob')));
    assert.deepEqual(fs.readFileSync(path.join(deviceDir(), 'model.blob')), Buffer.from(writeBlob(g)));
    const r = await t.run({ data: x, batch: N }, { warmup: 1, repeats });

    const out = outputValue(g);
    const ref = runInt8(g, x, N, { keep: new Set([out]) }).codes.get(out)!;
    const got = t.lastOutputCodes!;
    let compared = 0;
    let mismatches = 0;
    for (let i = 0; i < N; i++) for (let c = 0; c < 10; c++, compared++) if (got[i][c] !== ref[i * 10 + c]) mismatches++;
    console.log(`adb: compared ${compared} output codes of ${N} images: ${mismatches} mismatches`);
    assert.equal(compared, 80);
    assert.equal(mismatches, 0);
    // the dequantized outputs (softmax in float64) equal the host target's exactly, float for float
    const host = new HostTarget();
    await host.load({ graph: g });
    const h = await host.run({ data: x, batch: N }, { warmup: 0, repeats: 1 });
    assert.deepEqual(Array.from(r.outputs[0]), Array.from(h.outputs[0]));

    // timings: one sample per layer per timed inference, in seconds, the working layers > 0
    const rows = r.report.rows;
    assert.equal(rows.length, g.nodes.length);
    assert.equal(r.report.executor, `adb:${PHONE}`);
    const samples = rows.map((row) => row.latency!.samples);
    assert.equal(samples.flat().length, g.nodes.length * N * repeats);
    for (const row of rows) {
      assert.equal(row.latency!.unit, 's');
      assert.ok(row.latency!.samples.every((v) => v >= 0 && v < 10), row.layer);
    }
    const working = g.nodes.filter((n) => [OpKind.Conv2d, OpKind.Dense, OpKind.MaxPool, OpKind.Relu].includes(n.op)).map((n) => n.id);
    for (const row of rows.filter((row) => working.includes(row.layer))) assert.ok(row.latency!.samples.every((v) => v > 0), `${row.layer} > 0`);
    const total = r.report.total!.latency!.samples;
    assert.equal(total.length, N * repeats);
    for (let k = 0; k < total.length; k++) {
      const sum = samples.reduce((s, v) => s + v[k], 0);
      assert.ok(sum > 0 && sum <= total[k], `inference ${k}: layers ${sum} s <= total ${total[k]} s`);
    }
    const conv = rows.find((row) => row.layer === 'conv2')!.latency!.samples;
    console.log(`adb (qemu-user) vgg inference median ${(total.slice().sort((a, b) => a - b)[total.length >> 1] * 1e3).toFixed(1)} ms, conv2 ${(conv[0] * 1e3).toFixed(1)} ms`);

    // what went over adb: the runner ran pinned to CPU 7, twice (info at load, then run)
    const runs = log().filter((e) => e.taskset !== undefined);
    assert.deepEqual(runs.map((e) => [e.taskset, e.cmd?.[1]]), [
      ['80', 'info'],
      ['80', 'run'],
    ]);
    assert.deepEqual(runs[1].cmd?.slice(4, 7), [String(N), '1', String(repeats)]);
  });

  test('close() removes /data/local/tmp/tandem from the device', async () => {
    const u = await AdbTarget.open(PHONE, { cpus: [0, 1] });
    const m = tinyQuantized(1);
    await u.load({ graph: m.graph });
    const r = await u.run({ data: m.x, batch: 2 }, { warmup: 0, repeats: 1 });
    assert.equal(r.report.total!.latency!.samples.length, 2);
    assert.equal(log().filter((e) => e.taskset !== undefined).at(-1)?.taskset, '3');
    assert.ok(fs.existsSync(deviceDir()));
    await u.close();
    assert.ok(!fs.existsSync(deviceDir()), 'removed');
  });

  test('errors name the device and what adb or the runner said', async () => {
    await assert.rejects(AdbTarget.open('no-such-phone'), /adb -s no-such-phone get-state failed \(exit 1\): error: device 'no-such-phone' not found/);
    await assert.rejects(AdbTarget.open('standin-off'), /adb -s standin-off get-state failed \(exit 1\): error: device offline/);
    await assert.rejects(AdbTarget.open('standin-v7'), /device standin-v7 is 'armeabi-v7a' \(ro.product.cpu.abi\); tandem-runner is built for arm64-v8a/);
    await assert.rejects(AdbTarget.open(PHONE, { cpus: [3, 9] }), /device standin-a64 has CPUs 0-7; cannot pin to 9/);

    // adb absent: $TANDEM_ADB naming no file, and no adb on PATH
    process.env.TANDEM_ADB = path.join(home, 'no-adb-here');
    await assert.rejects(AdbTarget.open(PHONE), /\$TANDEM_ADB is .*no-adb-here, which does not exist/);
    delete process.env.TANDEM_ADB;
    process.env.PATH = home;
    try {
      await assert.rejects(AdbTarget.open(PHONE), /adb is not on PATH: install Android's platform tools \(Debian: apt-get install adb\) or set \$TANDEM_ADB/);
    } finally {
      process.env.PATH = saved.PATH;
      process.env.TANDEM_ADB = STANDIN;
    }

    // a runner that crashes (a real aarch64 program killed by SIGSEGV)
    const src = path.join(home, 'crash.c');
    const crasher = path.join(home, 'crasher');
    fs.writeFileSync(src, '#include <signal.h>\nint main(void) { raise(SIGSEGV); return 0; }\n');
    execFileSync('nice', ['-n', '19', 'aarch64-linux-gnu-gcc', '-static', '-O2', '-o', crasher, src]);
    const c = await AdbTarget.open(PHONE, { runner: crasher });
    try {
      await assert.rejects(c.load({ graph: tinyQuantized(1).graph }), /tandem-runner on device standin-a64 crashed: killed by signal 11 \(SIGSEGV\)/);
    } finally {
      await c.close();
    }

    // a blob the runner refuses on the device: unknown op code 200 at layer 1, correct CRC
    const m = tinyQuantized(1);
    const blob = writeBlob(m.graph);
    blob[HEADER_BYTES + 1 * 104 + L.op] = 200;
    new DataView(blob.buffer, blob.byteOffset).setUint32(H.crc, crc32(blob.subarray(HEADER_BYTES)), true);
    const b = await AdbTarget.open(PHONE);
    try {
      await assert.rejects(
        b.load({ graph: m.graph, blob }),
        /tandem-runner on device standin-a64 failed \(exit 1\): tandem-runner: \/data\/local\/tmp\/tandem\/model.blob: bad blob: unknown op code .*: op 200 at layer 1 relu0/,
      );
    } finally {
      await b.close();
    }
  });

  test('a run past its timeout and a cancelled run stop the runner on the device', async () => {
    const m = tinyQuantized(4);
    /** Processes whose command line names this test's device folder (the runner under qemu-aarch64). */
    const runners = () =>
      fs.readdirSync('/proc').filter((p) => {
        try {
          return /^\d+$/.test(p) && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path.join(home, PHONE)) && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('tandem-runner');
        } catch {
          return false;
        }
      });
    const u = await AdbTarget.open(PHONE, { runTimeoutMs: 1500 });
    try {
      await u.load({ graph: m.graph });
      let t1 = performance.now();
      await assert.rejects(u.run({ data: m.x, batch: 1 }, { warmup: 0, repeats: 10_000_000 }), /taskset 80 .*tandem-runner run .*: no answer within 2 s \(device standin-a64\); killed/);
      assert.ok(performance.now() - t1 < 6000, `timeout after ${performance.now() - t1} ms`);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 800);
      t1 = performance.now();
      await assert.rejects(u.run({ data: m.x, batch: 1 }, { warmup: 0, repeats: 10_000_000, signal: ac.signal }), (e: Error) => e.name === 'AbortError');
      assert.ok(performance.now() - t1 < 5000, `cancelled after ${performance.now() - t1} ms`);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(runners(), [], 'no runner left running');
    } finally {
      await u.close();
    }
  });

  test('tandem profile --target adb:<serial> stores the run; an unknown serial is a one-line error', async () => {
    const store = path.join(home, 'runs.sqlite');
    const r = await runCli(['profile', 'fmnist-vgg', '--target', `adb:${PHONE}`, '--images', '2', '--repeats', '2', '--calib', '16', '--store', store, '--json'], env());
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { target: { kind: string; details: { tasksetMask: string } }; rows: { layer: string; unit: string; summary?: { n: number; min: number } }[]; total: { unit: string; summary: { n: number; min: number } }; notes: string[]; stored: { id: number } };
    assert.equal(j.target.kind, 'adb');
    assert.equal(j.target.details.tasksetMask, '80');
    assert.equal(j.rows.length, 22);
    assert.ok(j.rows.every((row) => row.unit === 's' && row.summary?.n === 4));
    assert.equal(j.total.summary.n, 4);
    assert.ok(j.total.summary.min > 0);
    assert.ok(j.notes.some((n) => /adb-standin, a test stand-in/.test(n)));
    const s = RunStore.open(store);
    try {
      const run = s.get(j.stored.id)!;
      assert.equal(run.targetSpec, `adb:${PHONE}`);
      assert.equal(run.target.kind, 'adb');
      assert.equal(run.report.rows.length, 22);
      assert.equal(run.report.rows.reduce((a, row) => a + (row.latency?.samples.length ?? 0), 0), 22 * 4);
      assert.equal(s.list({ target: 'adb' }).length, 1);
    } finally {
      s.close();
    }
    const bad = await runCli(['profile', 'fmnist-vgg', '--target', 'adb:no-such-phone', '--no-store'], env());
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: device 'no-such-phone' not found/);
    const cpus = await runCli(['profile', 'fmnist-vgg', '--target', 'host', '--cpus', '4-7', '--no-store'], env());
    assert.equal(cpus.code, 1);
    assert.match(cpus.stderr, /--cpus pins the runner on a phone: it needs --target adb:<serial>/);
  });
});
