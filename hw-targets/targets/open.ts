// `--target qemu | serial:<port> | adb:<serial> | host | sim:<accelerator>[:analog] | predictor:<file>[#method]` -> a Target. qemu builds the firmware when needed (make), starts QEMU
// mps2-an386 under -icount shift=0 and closes it with the target.
import { execFile } from 'node:child_process';
import type { Target } from '../../compiler/contracts/target.js';
import type { ProgressFn } from '../../compiler/util/progress.js';
import type { SimMode } from '../../sim/simulate.js';
import { loadSpec } from '../../sim/spec/validate.js';
import { PredictorTarget } from '../predictor/target.js';
import { firmwarePortDir, startQemuBoard } from '../serial/qemu.js';
import { AdbTarget } from './adb.js';
import { HostTarget } from './host.js';
import { SerialTarget } from './serial.js';
import { SimTarget } from './sim.js';

export interface OpenTargetOptions {
  readonly onProgress?: ProgressFn;
  /** QEMU's nice level (default none). */
  readonly nice?: number;
  readonly signal?: AbortSignal;
  /** adb: CPUs to pin the runner to (default: the fastest cores). */
  readonly cpus?: readonly number[];
  /** sim analog mode: the Monte-Carlo seed. */
  readonly seed?: number;
}

export type TargetSpec =
  | { kind: 'qemu' }
  | { kind: 'serial'; port: string }
  | { kind: 'adb'; serial: string }
  | { kind: 'host' }
  | { kind: 'sim'; accel: string; mode: SimMode }
  | { kind: 'predictor'; file: string; method?: string };

export function parseTarget(s: string): TargetSpec {
  if (s === 'qemu' || s === 'host') return { kind: s };
  const m = /^serial:(.+)$/.exec(s);
  if (m) return { kind: 'serial', port: m[1] };
  // everything after 'adb:' is the serial: a network device's is host:port
  const a = /^adb:(.+)$/.exec(s);
  if (a) return { kind: 'adb', serial: a[1] };
  const sim = /^sim:(.+?)(:analog)?$/.exec(s);
  if (sim) return { kind: 'sim', accel: sim[1], mode: sim[2] ? 'analog' : 'exact' };
  // a fitted latency predictor (`tandem latency fit -o`), optionally one of its methods: predictor:p.json#lut
  const p = /^predictor:([^#]+)(?:#(.+))?$/.exec(s);
  if (p) return { kind: 'predictor', file: p[1], ...(p[2] ? { method: p[2] } : {}) };
  throw new Error(`--target ${s}: expected qemu, host, serial:<port> (e.g. serial:/dev/ttyACM0), adb:<serial> (as \`adb devices\` lists it), sim:<accelerator>[:analog] (e.g. sim:rram-128) or predictor:<file>[#method] (a fitted latency predictor)`);
}

/** make in the QEMU port folder (incremental: quick when the ELF is current). */
export function buildQemuFirmware(nice?: number): Promise<void> {
  const dir = firmwarePortDir();
  const [cmd, args] = nice !== undefined ? ['nice', ['-n', String(nice), 'make', '-s', '-C', dir]] : ['make', ['-s', '-C', dir]];
  return new Promise((resolve, reject) =>
    execFile(cmd, args, (e, _out, err) =>
      e ? reject(new Error(`building the QEMU firmware in ${dir} failed (needs make, gcc-arm-none-eabi, libnewlib-arm-none-eabi): ${err.trim() || e.message}`)) : resolve(),
    ),
  );
}

export async function openTarget(spec: TargetSpec, o: OpenTargetOptions = {}): Promise<Target> {
  if (spec.kind === 'host') return new HostTarget({ onProgress: o.onProgress });
  if (spec.kind === 'sim') return new SimTarget({ spec: loadSpec(spec.accel, []), mode: spec.mode, seed: o.seed, onProgress: o.onProgress });
  if (spec.kind === 'predictor') return PredictorTarget.open(spec.file, spec.method);
  if (spec.kind === 'serial') return SerialTarget.open(spec.port, { onProgress: o.onProgress, heartbeatMs: 0 });
  if (spec.kind === 'adb') return AdbTarget.open(spec.serial, { onProgress: o.onProgress, signal: o.signal, nice: o.nice, ...(o.cpus ? { cpus: o.cpus } : {}) });
  await buildQemuFirmware(o.nice);
  const q = await startQemuBoard({ nice: o.nice });
  try {
    return await SerialTarget.open(q.ptyPath, { onProgress: o.onProgress, heartbeatMs: 0, onClose: () => q.close() });
  } catch (e) {
    await q.close();
    throw e;
  }
}
