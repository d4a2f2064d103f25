// `tandem profile <model> --target qemu|serial:<port>|adb:<serial>|host`: time a quantized model per layer on a target.
// A float model gets default PTQ first (as `tandem simulate` does). Prints per original layer the median, IQR
// and min of the board's own cycle counts (and µs at the board clock), the total, and the host link's
// round-trip time apart from them. Every completed profile is stored in the run store (codesign/run-store.ts)
// unless --no-store.
import { graphHash, RunStore, storePath } from '../../codesign/run-store.js';
import type { LayerReport, Report } from '../../compiler/contracts/report.js';
import type { Target, TargetDescription } from '../../compiler/contracts/target.js';
import { DataError } from '../../compiler/data/errors.js';
import type { Graph } from '../../compiler/ir/types.js';
import { type ResolvedModel, resolveModel } from '../../compiler/models/registry.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../../compiler/passes/quantize/quantize.js';
import { initBackend } from '../../compiler/train/backend.js';
import type { ProgressFn } from '../../compiler/util/progress.js';
import { writeBlob } from '../../hw-targets/blob/write.js';
import { AdbTarget, parseCpuList } from '../../hw-targets/targets/adb.js';
import { openTarget, parseTarget } from '../../hw-targets/targets/open.js';
import { type LinkTiming, SerialTarget } from '../../hw-targets/targets/serial.js';
import { SimTarget } from '../../hw-targets/targets/sim.js';
import { type SampleSummary, summarize } from '../../hw-targets/targets/stats.js';
import { type CliProgress, cliProgress, interruptSignal } from '../progress.js';
import { num, table } from '../table.js';
import { isQuantized, trainImages } from './accel.js';
import { type DataOptions, type Splits, fashionMnistSplits } from './data.js';

export interface ProfileFlags extends DataOptions {
  readonly target: string;
  readonly images?: number;
  readonly warmup?: number;
  readonly repeats?: number;
  readonly calib?: number;
  /** sim:<accel>:analog: the Monte-Carlo seed (default 1). */
  readonly seed?: number;
  /** adb: CPUs to pin the runner to, e.g. '4-7' or '0,2' (default: the fastest cores). */
  readonly cpus?: string;
  /** A path, or false for --no-store; undefined: $TANDEM_STORE or the default. */
  readonly store?: string | false;
  readonly json?: boolean;
}

interface Row {
  readonly layer: string;
  readonly macs?: number;
  readonly unit: 'cycles' | 's';
  readonly clockHz?: number;
  readonly summary?: SampleSummary;
  /** Modelled targets (sim): joules per inference. */
  readonly energyJ?: number;
}

/** Seconds of a sample in its unit (cycles need the clock). */
const seconds = (v: number, unit: 'cycles' | 's', hz?: number) => (unit === 's' ? v : hz ? v / hz : NaN);

function row(r: Pick<LayerReport, 'latency' | 'macs' | 'energy'> & { layer: string }): Row {
  const l = r.latency;
  return { layer: r.layer, macs: r.macs, unit: l?.unit ?? 'cycles', clockHz: l?.clockHz, summary: l && l.samples.length ? summarize(l.samples) : undefined, ...(r.energy ? { energyJ: r.energy.joules } : {}) };
}

function profileText(d: TargetDescription, model: string, rows: readonly Row[], total: Row, link: LinkTiming | undefined, notes: readonly string[], n: number, repeats: number): string {
  const us = (v: number, r: Row) => (seconds(v, r.unit, r.clockHz) * 1e6).toFixed(1);
  const cyc = (v: number, r: Row) => (r.unit === 'cycles' ? num(Math.round(v)) : '');
  const energy = total.energyJ !== undefined;
  const line = (r: Row) => {
    const s = r.summary;
    const e = energy ? [r.energyJ !== undefined ? (r.energyJ * 1e9).toFixed(2) : ''] : [];
    if (!s) return [r.layer, r.macs ? num(r.macs) : '', '', '', '', '', '', '', ...e];
    return [r.layer, r.macs ? num(r.macs) : '', cyc(s.median, r), cyc(s.iqr, r), cyc(s.min, r), us(s.median, r), us(s.iqr, r), us(s.min, r), ...e];
  };
  const clock = total.clockHz ? ` (cycles at ${total.clockHz / 1e6} MHz)` : '';
  const out = [
    `${model} on ${d.name}${d.runtime ? `, runtime ${d.runtime}` : ''}: ${n} image(s) x ${repeats} timed repeat(s)${clock}`,
    ...notes.map((x) => `note: ${x}`),
    table(['layer', 'MACs', 'median', 'IQR', 'min', 'median us', 'IQR us', 'min us', ...(energy ? ['energy nJ'] : [])], [...rows.map(line), line({ ...total, layer: 'total' })], ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']),
  ];
  if (link) {
    const p = summarize(link.pingMs);
    const w = summarize(link.perInputMs);
    out.push(`host link (not in the cycles above): PING round trip median ${p.median.toFixed(2)} ms (min ${p.min.toFixed(2)}); per image on the host (input upload, run, answer) median ${w.median.toFixed(0)} ms`);
  }
  return out.join('\n') + '\n';
}

export async function profileCommand(model: string, f: ProfileFlags): Promise<void> {
  const spec = parseTarget(f.target);
  if (f.cpus !== undefined && spec.kind !== 'adb') throw new DataError(`--cpus pins the runner on a phone: it needs --target adb:<serial> (not ${f.target})`);
  const cpus = f.cpus !== undefined ? parseCpuList(f.cpus) : undefined;
  const progress = cliProgress({ quiet: !!f.json });
  const signal = interruptSignal();
  // The store before the run: a corrupt or too new store fails before minutes of uploading and timing.
  const store = f.store === false ? undefined : RunStore.open(storePath(f.store));
  try {
    // The target first: a missing port or a board that does not answer fails before any model work.
    const target = await openTarget(spec, { onProgress: progress.update, signal, seed: f.seed, ...(cpus ? { cpus } : {}) });
    try {
      await profileOn(target, model, f, progress, signal, store);
    } finally {
      progress.stop();
      await target.close();
    }
  } finally {
    store?.close();
  }
}

export interface ProfiledModel {
  readonly m: ResolvedModel;
  readonly data: Splits;
  /** The graph that is timed: the model, or its default PTQ when it is float. */
  readonly graph: Graph;
  /** The timed inputs: the first n test images (NHWC). */
  readonly x: Float32Array;
  readonly n: number;
  readonly notes: string[];
}

/** What `tandem profile` times, deterministically from its flags: exported so the app can rebuild the graph and
 * input a profile job ran (ui/server/latency-profile.ts) instead of copying these steps. */
export async function profiledModel(model: string, f: DataOptions & Pick<ProfileFlags, 'images' | 'calib'>, o: { signal?: AbortSignal; onProgress?: ProgressFn } = {}): Promise<ProfiledModel> {
  await initBackend();
  const m = await resolveModel(model);
  const data = await fashionMnistSplits(m.task, { ...f, splitSeed: (m.graph.meta?.seed as number | undefined) ?? 0, valFraction: 1 / 12, signal: o.signal, onProgress: o.onProgress });
  const notes: string[] = [];
  let graph = m.graph;
  if (!isQuantized(graph)) {
    const calib = trainImages(data, f.calib ?? 256);
    graph = quantizeGraph(graph, calib, DEFAULT_QUANTIZE).graph;
    notes.push(`the model was float: quantized first (PTQ, int8, min/max on ${calib.n} training images); \`tandem quantize\` gives more control`);
  }
  const n = Math.min(f.images ?? 1, data.test.size);
  if (n < 1) throw new DataError('--images must be at least 1');
  const per = data.test.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * per);
  data.test.fill(
    Array.from({ length: n }, (_, i) => i),
    x,
    new Float32Array(n * data.test.targetSize),
  );
  return { m, data, graph, x, n, notes };
}

async function profileOn(target: Target, model: string, f: ProfileFlags, progress: CliProgress, signal: AbortSignal, store: RunStore | undefined): Promise<void> {
  const spec = parseTarget(f.target);
  const { m, data, graph, x, n, notes } = await profiledModel(model, f, { signal, onProgress: progress.update });
  const repeats = f.repeats ?? 10;
  const warmup = f.warmup ?? 1;
  const d = await target.describe();
  if (target instanceof SerialTarget) {
    const blob = writeBlob(graph);
    await target.load({ graph, blob }, { signal });
    const up = target.lastUpload!;
    notes.push(`model blob ${num(blob.length)} bytes uploaded in ${(up.ms / 1000).toFixed(1)} s (${(blob.length / up.ms).toFixed(1)} KB/s)`);
    if (spec.kind === 'qemu') notes.push('QEMU cycle counts are SysTick ticks on virtual time under -icount shift=0 (40 instructions per tick), not real Cortex-M4 cycles: see docs/targets.md');
  } else if (target instanceof AdbTarget) {
    const blob = writeBlob(graph);
    await target.load({ graph, blob }, { signal });
    const dev = target.device;
    notes.push(`model blob ${num(blob.length)} bytes pushed with adb in ${(target.lastUpload!.ms / 1000).toFixed(1)} s; tandem-runner pinned with taskset ${dev.mask} (CPUs ${dev.cpus.join(',')}); times are CLOCK_MONOTONIC on the device`);
    if (dev.props['ro.tandem.standin'] === '1') notes.push('device is adb-standin, a test stand-in (qemu-user on this machine): the times are qemu-user\'s, not a phone\'s');
  } else {
    if (target instanceof SimTarget) {
      // lowered as `tandem compile` does: ADC ranges and input activity on real training images
      target.calibrate(trainImages(data, f.calib ?? 256));
      if (spec.kind === 'sim' && spec.mode === 'analog') notes.push(`analog mode: one device sample, seed ${f.seed ?? 1}`);
      notes.push('sim latencies and energies come from the cost model (deterministic: one sample per layer), not from a measurement');
    }
    await target.load({ graph });
  }
  const r = await target.run({ data: x, batch: n }, { warmup, repeats, perLayer: true, signal });
  progress.stop();
  const rows = r.report.rows.map((x) => row(x));
  const total = row({ layer: 'total', ...r.report.total });
  const link = 'link' in r ? (r as { link: LinkTiming }).link : undefined;
  // Stored in one transaction now that the run is complete; the results are printed even when storing fails.
  let stored: { id: number; store: string } | undefined;
  let storeError: unknown;
  if (store) {
    try {
      const options = { warmup, repeats, images: n, ...(f.calib !== undefined ? { calib: f.calib } : {}) };
      const id = store.save({ command: 'profile', argv: process.argv.slice(2), model: { name: model, hash: graphHash(m.graph), runHash: graphHash(graph) }, targetSpec: f.target, target: d, options, notes, report: r.report });
      stored = { id, store: store.file };
    } catch (e) {
      storeError = e;
    }
  }
  if (f.json) {
    const report: Report = r.report;
    process.stdout.write(JSON.stringify({ model: graph.name, target: d, notes, images: n, warmup, repeats, rows, total, link, report, ...(stored ? { stored } : {}) }) + '\n');
  } else {
    process.stdout.write(profileText(d, graph.name, rows, total, link, notes, n, repeats));
    if (stored) process.stdout.write(`stored as run ${stored.id} in ${stored.store} (\`tandem runs show ${stored.id}\`)\n`);
  }
  if (storeError) throw storeError;
}
