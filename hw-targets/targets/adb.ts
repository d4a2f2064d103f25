// An Android phone over adb as a Target (compiler/contracts/target.ts). The phone runs tandem-runner
// (hw-targets/firmware/android: the boards' C runtime as a static aarch64 program): open() checks the device
// (get-state, ro.product.cpu.abi = arm64-v8a) and reads its CPUs' highest frequencies; load() pushes the runner
// and the model blob to /data/local/tmp/tandem/ and has the runner check the blob (its layer table must list
// the graph's nodes in order); run() pushes the inputs' codes, runs warm-up + timed repeats pinned with
// taskset to a CPU set (default: the fastest cores), parses the per-layer ns it prints and pulls the output
// codes; close() removes the folder. Times are wall-clock ns on the phone (CLOCK_MONOTONIC), Report unit 's'.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayerReport, Report } from '../../compiler/contracts/report.js';
import type { CompiledModel, RunInput, RunOptions, RunResult, Target, TargetDescription } from '../../compiler/contracts/target.js';
import type { Graph } from '../../compiler/ir/types.js';
import { type ProgressFn, throwIfAborted } from '../../compiler/util/progress.js';
import { Adb, AdbError, signalName } from '../adb/client.js';
import { writeBlob } from '../blob/write.js';
import { type CodeIo, codeIo } from './codes.js';
import { layerRows } from './layer-rows.js';
import { blobName } from './serial.js';

export const REMOTE_DIR = '/data/local/tmp/tandem';
const ABI = 'arm64-v8a';

export interface AdbTargetOptions {
  readonly onProgress?: ProgressFn;
  /** CPUs to pin the runner to (taskset): 'big' (default) = every CPU with the highest cpuinfo_max_freq, or a list. */
  readonly cpus?: 'big' | readonly number[];
  /** A prebuilt tandem-runner; default: built with make in hw-targets/firmware/android (aarch64-linux-gnu-gcc). */
  readonly runner?: string;
  /** Folder on the device (removed by close()). Default /data/local/tmp/tandem. */
  readonly remoteDir?: string;
  /** One adb call other than the run (ms). Default 60 s. */
  readonly commandTimeoutMs?: number;
  /** The runner's whole run: every input's warm-up and repeats (ms). Default 300 s. */
  readonly runTimeoutMs?: number;
  /** nice level of the runner's build. */
  readonly nice?: number;
  readonly signal?: AbortSignal;
}

export interface DeviceInfo {
  readonly serial: string;
  readonly abi: string;
  readonly props: Readonly<Record<string, string>>;
  /** cpuinfo_max_freq (kHz) per CPU, index = CPU number; empty when the device does not expose it. */
  readonly maxFreqKHz: readonly number[];
  /** CPUs the runner is pinned to, and taskset's hex mask of them. */
  readonly cpus: readonly number[];
  readonly mask: string;
}

/** One layer of the runner's table. */
interface RunnerLayer {
  readonly index: number;
  readonly op: number;
  readonly macs: number;
  readonly name: string;
}

/** What tandem-runner prints (format 1, hw-targets/firmware/android/tandem_runner.c). */
export interface RunnerOutput {
  readonly layers: readonly RunnerLayer[];
  readonly inputSize: number;
  readonly outputSize: number;
  readonly arenaBytes: number;
  readonly clock?: { readonly name: string; readonly resolutionNs: number };
  /** One row per timed inference: ns per layer, then the inference's ns. */
  readonly rows: readonly { readonly input: number; readonly repeat: number; readonly ns: readonly number[] }[];
}

/** Parses the runner's stdout; every malformed line is an error naming its number. */
export function parseRunnerOutput(text: string, where: string): RunnerOutput {
  const lines = text.split('\n').filter((l) => l.length);
  const bad = (i: number, why: string): never => {
    throw new AdbError(`${where}: runner output line ${i + 1} '${lines[i]?.slice(0, 80) ?? ''}': ${why}`);
  };
  if (lines[0] !== 'tandem-runner 1') bad(0, "expected 'tandem-runner 1' (a runner of another version, or not the runner)");
  if (lines[lines.length - 1] !== 'end') bad(lines.length - 1, "the output does not end with 'end' (cut short)");
  let model: number[] | undefined;
  let clock: RunnerOutput['clock'];
  const layers: RunnerLayer[] = [];
  const rows: { input: number; repeat: number; ns: number[] }[] = [];
  const ints = (ws: string[], i: number) =>
    ws.map((w) => {
      if (!/^\d+$/.test(w)) bad(i, `'${w}' is not a non-negative integer`);
      return Number(w);
    });
  for (let i = 1; i < lines.length - 1; i++) {
    const w = lines[i].split(' ');
    if (w[0] === 'model' && w.length === 5) model = ints(w.slice(1), i);
    else if (w[0] === 'clock' && w.length === 3) clock = { name: w[1], resolutionNs: ints([w[2]], i)[0] };
    else if (w[0] === 'layer' && w.length >= 4) {
      const [index, op, macs] = ints(w.slice(1, 4), i);
      if (index !== layers.length) bad(i, `layer ${index} out of order (expected ${layers.length})`);
      layers.push({ index, op, macs, name: w.slice(4).join(' ') });
    } else if (w[0] === 't') {
      const v = ints(w.slice(1), i);
      if (!model || v.length !== model[0] + 3) bad(i, `expected input, repeat and ${model ? model[0] + 1 : '?'} times`);
      rows.push({ input: v[0], repeat: v[1], ns: v.slice(2) });
    } else bad(i, 'unknown record');
  }
  if (!model) return bad(0, "no 'model' line");
  if (layers.length !== model[0]) bad(0, `'model' says ${model[0]} layers, ${layers.length} 'layer' lines follow`);
  return { layers, inputSize: model[1], outputSize: model[2], arenaBytes: model[3], clock, rows };
}

/** "4-7,0" -> [0, 4, 5, 6, 7]. */
export function parseCpuList(s: string): number[] {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`CPU list '${s}': '${part}' is not a CPU number or range (e.g. 4-7 or 0,2)`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a || b > 1023) throw new Error(`CPU list '${s}': bad range '${part}'`);
    for (let c = a; c <= b; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

/** taskset's hex mask of a CPU set. */
export const cpuMask = (cpus: readonly number[]) => cpus.reduce((m, c) => m | (1n << BigInt(c)), 0n).toString(16);

/** The runner's folder in the sources (or next to dist*). */
export function runnerDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const p = path.join(here, up, 'hw-targets/firmware/android');
    if (fs.existsSync(path.join(p, 'Makefile'))) return p;
  }
  return path.join(here, '../..', 'hw-targets/firmware/android');
}

/** make in hw-targets/firmware/android (incremental); the runner's path. */
export function buildRunner(nice?: number): Promise<string> {
  const dir = runnerDir();
  const [cmd, args] = nice !== undefined ? ['nice', ['-n', String(nice), 'make', '-s', '-C', dir]] : ['make', ['-s', '-C', dir]];
  return new Promise((resolve, reject) =>
    execFile(cmd, args, (e, _out, err) =>
      e ? reject(new Error(`building tandem-runner in ${dir} failed (needs make and gcc-aarch64-linux-gnu): ${err.trim() || e.message}`)) : resolve(path.join(dir, 'build/tandem-runner')),
    ),
  );
}

interface Loaded {
  readonly graph: Graph;
  readonly io: CodeIo;
  readonly layers: readonly RunnerLayer[];
  readonly blobBytes: number;
  readonly pushMs: number;
}

export class AdbTarget implements Target {
  private loaded?: Loaded;
  private pushed = false;
  private codes?: readonly Int8Array[];
  private dirMade = false;
  private readonly local: string;
  private readonly remote: string;

  private constructor(
    readonly adb: Adb,
    readonly device: DeviceInfo,
    private readonly o: AdbTargetOptions,
  ) {
    this.local = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-adb-'));
    this.remote = o.remoteDir ?? REMOTE_DIR;
  }

  /** Checks the device: adb answers, the device is online and arm64-v8a; reads its CPUs and picks the pinning. */
  static async open(serial: string, o: AdbTargetOptions = {}): Promise<AdbTarget> {
    const adb = new Adb(serial, undefined, o.commandTimeoutMs ?? 60_000);
    const call = { signal: o.signal };
    const state = (await adb.call(['get-state'], call)).stdout.trim();
    if (state !== 'device') throw new AdbError(`device ${serial} is '${state}', not ready ('device')`);
    const props: Record<string, string> = {};
    for (const m of (await adb.shell('getprop', call)).stdout.matchAll(/^\[([^\]]+)\]: \[(.*)\]$/gm)) props[m[1]] = m[2];
    const abi = props['ro.product.cpu.abi'];
    if (abi !== ABI) throw new AdbError(`device ${serial} is ${abi ? `'${abi}'` : 'of unknown ABI'} (ro.product.cpu.abi); tandem-runner is built for ${ABI} (aarch64)`);
    const possible = (await adb.shell('cat /sys/devices/system/cpu/possible', call)).stdout.trim();
    const all = parseCpuList(possible);
    // cpuinfo_max_freq tells the big cores apart on big.LITTLE phones; unreadable on some: then every CPU
    let maxFreqKHz: number[] = [];
    try {
      const out = (await adb.shell(`cat ${all.map((c) => `/sys/devices/system/cpu/cpu${c}/cpufreq/cpuinfo_max_freq`).join(' ')}`, call)).stdout.trim().split(/\s+/).map(Number);
      if (out.length === all.length && out.every((f) => Number.isFinite(f) && f > 0)) all.forEach((c, i) => (maxFreqKHz[c] = out[i]));
    } catch (e) {
      if (!(e instanceof AdbError) || e.exitCode === undefined) throw e;
      maxFreqKHz = [];
    }
    let cpus: number[];
    if (o.cpus === undefined || o.cpus === 'big') {
      const top = Math.max(...all.map((c) => maxFreqKHz[c] ?? 0));
      cpus = top > 0 ? all.filter((c) => maxFreqKHz[c] === top) : all;
    } else {
      cpus = [...o.cpus];
      const missing = cpus.filter((c) => !all.includes(c));
      if (!cpus.length || missing.length) throw new AdbError(`device ${serial} has CPUs ${possible}; cannot pin to ${missing.length ? missing.join(',') : 'no CPU'}`);
    }
    return new AdbTarget(adb, { serial, abi, props, maxFreqKHz, cpus, mask: cpuMask(cpus) }, o);
  }

  describe(): Promise<TargetDescription> {
    const d = this.device;
    const p = d.props;
    const model = [p['ro.product.manufacturer'], p['ro.product.model']].filter(Boolean).join(' ') || 'Android device';
    const topKHz = Math.max(0, ...d.cpus.map((c) => d.maxFreqKHz[c] ?? 0));
    return Promise.resolve({
      id: `adb:${d.serial}`,
      kind: 'adb',
      name: `${model} (adb ${d.serial}, ${d.abi}, Android ${p['ro.build.version.release'] ?? '?'})`,
      runtime: 'tandem-rt/1 (tandem-runner, static aarch64)',
      ...(topKHz ? { clockHz: topKHz * 1000 } : {}),
      capabilities: { perLayerTiming: true, dtypes: ['int8'] },
      details: {
        serial: d.serial,
        abi: d.abi,
        model: p['ro.product.model'],
        manufacturer: p['ro.product.manufacturer'],
        android: p['ro.build.version.release'],
        sdk: p['ro.build.version.sdk'],
        soc: p['ro.soc.model'] ?? p['ro.board.platform'],
        cpuMaxFreqKHz: d.maxFreqKHz,
        pinnedCpus: d.cpus,
        tasksetMask: d.mask,
        timer: 'CLOCK_MONOTONIC (ns)',
        standin: p['ro.tandem.standin'] === '1',
        adb: this.adb.exe,
      },
    });
  }

  private r(name: string): string {
    return `${this.remote}/${name}`;
  }

  private async push(local: string, remote: string, signal?: AbortSignal): Promise<void> {
    await this.adb.call(['push', local, remote], { signal });
  }

  async load(model: CompiledModel, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = opts.signal ?? this.o.signal;
    const blob = model.blob ?? writeBlob(model.graph);
    this.loaded = undefined;
    const t0 = performance.now();
    if (!this.pushed) {
      const runner = this.o.runner ?? (await buildRunner(this.o.nice));
      if (!fs.existsSync(runner)) throw new AdbError(`tandem-runner ${runner} does not exist`);
      this.dirMade = true;
      await this.adb.shell(`mkdir -p ${this.remote}`, { signal });
      await this.push(runner, this.r('tandem-runner'), signal);
      await this.adb.shell(`chmod 755 ${this.r('tandem-runner')}`, { signal });
      this.pushed = true;
    }
    const file = path.join(this.local, 'model.blob');
    fs.writeFileSync(file, blob);
    await this.push(file, this.r('model.blob'), signal);
    const pushMs = performance.now() - t0;
    this.o.onProgress?.({ phase: 'upload', done: blob.length, total: blob.length, message: `${(blob.length / 1024).toFixed(0)} KiB` });
    // the runner checks the blob on the phone (CRC, every op) and lists its layers
    const out = parseRunnerOutput((await this.runner(`info ${this.r('model.blob')}`, this.o.commandTimeoutMs ?? 60_000, signal)).stdout, `device ${this.device.serial}`);
    const nodes = model.graph.nodes;
    if (out.layers.length !== nodes.length) throw new AdbError(`device ${this.device.serial}: the runner lists ${out.layers.length} layers for graph '${model.graph.name}' of ${nodes.length} nodes`);
    out.layers.forEach((l, i) => {
      if (l.name !== blobName(nodes[i].id)) throw new AdbError(`device ${this.device.serial}: layer ${i} is '${l.name}', graph node ${i} is '${nodes[i].id}'`);
    });
    this.loaded = { graph: model.graph, io: codeIo(model.graph), layers: out.layers, blobBytes: blob.length, pushMs };
  }

  /** The loaded blob's size and the time to push it (and the runner, the first time). */
  get lastUpload(): { bytes: number; ms: number } | undefined {
    return this.loaded && { bytes: this.loaded.blobBytes, ms: this.loaded.pushMs };
  }

  /** The last run's output codes as the runner wrote them, one array per input (before dequantizing). */
  get lastOutputCodes(): readonly Int8Array[] | undefined {
    return this.codes;
  }

  /** tandem-runner ARGS on the device, pinned; a failure names the device and what the runner said. */
  private async runner(args: string, timeoutMs: number, signal?: AbortSignal) {
    const d = this.device;
    try {
      return await this.adb.shell(`taskset ${d.mask} ${this.r('tandem-runner')} ${args}`, { timeoutMs, signal });
    } catch (e) {
      if (!(e instanceof AdbError) || e.exitCode === undefined) throw e;
      const said = (e.stderr ?? '').trim().split('\n').slice(-4).join(' | ') || 'no message';
      if (e.exitCode >= 128 && e.exitCode < 160) throw new AdbError(`tandem-runner on device ${d.serial} crashed: killed by ${signalName(e.exitCode)}: ${said}`, e.exitCode, e.stderr);
      throw new AdbError(`tandem-runner on device ${d.serial} failed (exit ${e.exitCode}): ${said}`, e.exitCode, e.stderr);
    }
  }

  async run(input: RunInput, options: RunOptions = {}): Promise<RunResult> {
    const m = this.loaded;
    const d = this.device;
    if (!m) throw new AdbError(`no model loaded on device ${d.serial}: call load() first`);
    const signal = options.signal ?? this.o.signal;
    const warmup = options.warmup ?? 1;
    const repeats = options.repeats ?? 10;
    if (!Number.isInteger(repeats) || repeats < 1) throw new AdbError(`repeats ${repeats} must be an integer >= 1`);
    if (!Number.isInteger(warmup) || warmup < 0) throw new AdbError(`warmup ${warmup} must be an integer >= 0`);
    const perLayer = options.perLayer ?? true;
    throwIfAborted(signal);
    const n = input.batch;
    const codes = new Int8Array(n * m.io.inputSize);
    for (let i = 0; i < n; i++) codes.set(m.io.inputCodes(input.data, i), i * m.io.inputSize);
    const inFile = path.join(this.local, 'inputs.bin');
    fs.writeFileSync(inFile, codes);
    await this.push(inFile, this.r('inputs.bin'), signal);
    this.o.onProgress?.({ phase: 'run', done: 0, total: n, message: `${n} input(s) on ${d.serial}` });
    const args = `run ${this.r('model.blob')} ${this.r('inputs.bin')} ${n} ${warmup} ${repeats} ${this.r('outputs.bin')}`;
    const out = parseRunnerOutput((await this.runner(args, this.o.runTimeoutMs ?? 300_000, signal)).stdout, `device ${d.serial}`);
    const L = m.layers.length;
    if (out.layers.length !== L || out.rows.length !== n * repeats)
      throw new AdbError(`device ${d.serial}: the runner printed ${out.layers.length} layers and ${out.rows.length} timed inferences, expected ${L} and ${n} x ${repeats}`);
    const outFile = path.join(this.local, 'outputs.bin');
    fs.rmSync(outFile, { force: true });
    await this.adb.call(['pull', this.r('outputs.bin'), outFile], { signal });
    const bytes = fs.readFileSync(outFile);
    if (bytes.length !== n * out.outputSize) throw new AdbError(`device ${d.serial}: ${this.r('outputs.bin')} has ${bytes.length} bytes, expected ${n} x ${out.outputSize}`);
    const outputs = Array.from({ length: n }, (_, i) => Int8Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + i * out.outputSize, out.outputSize)));
    this.codes = outputs;
    this.o.onProgress?.({ phase: 'run', done: n, total: n, message: `${n} input(s) on ${d.serial}` });
    // ns -> s (the Report's wall-clock unit); a double holds any ns count below 2^53 exactly before scaling
    const layerS = Array.from({ length: L }, (_, l) => out.rows.map((r) => r.ns[l] / 1e9));
    const totalS = out.rows.map((r) => r.ns[L] / 1e9);
    const executor = `adb:${d.serial}`;
    const rows: LayerReport[] = layerRows(m.graph, executor, perLayer ? m.graph.nodes.map((node, l) => ({ node: node.id, samples: layerS[l] })) : [], 's');
    const report: Report = {
      model: m.graph.name,
      executor,
      createdAt: new Date().toISOString(),
      rows,
      total: { latency: { unit: 's', samples: totalS }, macs: rows.reduce((a, r) => a + (r.macs ?? 0), 0) },
    };
    return { outputs: [m.io.outputReals(outputs)], report };
  }

  /** Removes the device folder (best effort: the device may be gone) and the local temp folder. */
  async close(): Promise<void> {
    try {
      if (this.dirMade) await this.adb.shell(`rm -rf ${this.remote}`, { timeoutMs: 15_000 });
    } catch {
      // a device that vanished keeps its folder; nothing else to do
    } finally {
      this.pushed = this.dirMade = false;
      fs.rmSync(this.local, { recursive: true, force: true });
    }
  }
}
