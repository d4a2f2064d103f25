// Synthetic runs for the run-store tests: Reports whose samples include the doubles JSON cannot carry.
import type { LayerReport, Report } from '../compiler/contracts/report.js';
import type { TargetDescription } from '../compiler/contracts/target.js';
import type { RunRecord } from '../codesign/run-store.js';

/** Deterministic pseudo-random doubles (xorshift32). */
function rng(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const SPECIAL = [-0, Number.MIN_VALUE, Number.MAX_VALUE, NaN, Infinity, -Infinity, 0.1 + 0.2, 2 ** 53 + 2];

export const QEMU_TARGET: TargetDescription = {
  id: 'serial:/dev/pts/7',
  kind: 'serial',
  name: 'qemu-mps2-an386 on /dev/pts/7',
  runtime: 'tandem-rt 1',
  clockHz: 25_000_000,
  capabilities: { perLayerTiming: true, dtypes: ['int8'], maxModelBytes: 1 << 20 },
  details: { boardId: 'qemu-mps2-an386', timerHz: 25_000_000 },
};

export const HOST_TARGET: TargetDescription = { id: 'host', kind: 'host', name: 'Tandem integer executor in-process', runtime: 'int8-executor', capabilities: { perLayerTiming: false, dtypes: ['int8'] } };

export function makeReport(o: { layers: number; samples: number; seed: number; special?: boolean; unit?: 'cycles' | 's' }): Report {
  const r = rng(o.seed);
  const unit = o.unit ?? 'cycles';
  const samples = (k: number) => Array.from({ length: o.samples }, (_, i) => (o.special && k === 0 && i < SPECIAL.length ? SPECIAL[i] : unit === 'cycles' ? Math.round(1e6 * r()) : r() * 1e-3));
  const rows: LayerReport[] = Array.from({ length: o.layers }, (_, k) => ({
    layer: `conv${k}`,
    executor: 'serial:qemu-mps2-an386',
    nodes: [`conv${k}`, `conv${k}/relu`],
    macs: 1000 * k + 7,
    params: 10 * k,
    ...(k % 5 === 4 ? {} : { latency: { unit, samples: samples(k), ...(unit === 'cycles' ? { clockHz: 25e6 } : {}) } }),
    ...(k === 1 ? { error: { mse: 0.125, sqnrDb: 31.5 }, energy: { joules: 1e-6, breakdown: { adc: 4e-7, cells: 6e-7 } } } : {}),
  }));
  return {
    model: 'vgg',
    executor: 'serial:qemu-mps2-an386',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, o.seed)).toISOString(),
    seed: o.seed,
    rows,
    total: { latency: { unit, samples: samples(1) }, macs: 123456789012, accuracy: 0.9 },
  };
}

export function makeRecord(o: { label: string; layers: number; samples: number; seed: number; special?: boolean; target?: TargetDescription; model?: string; hash?: string }): RunRecord {
  const target = o.target ?? QEMU_TARGET;
  return {
    command: 'profile',
    argv: ['profile', o.model ?? 'fmnist-vgg', '--target', target.kind === 'host' ? 'host' : 'qemu', '--label', o.label],
    model: { name: o.model ?? 'fmnist-vgg', hash: o.hash ?? 'ab'.repeat(32), runHash: 'cd'.repeat(32) },
    targetSpec: target.kind === 'host' ? 'host' : 'qemu',
    target,
    options: { warmup: 1, repeats: o.samples, images: 1, seed: o.seed, label: o.label },
    notes: [`run ${o.label}`],
    report: makeReport({ ...o, unit: target.kind === 'host' ? 's' : 'cycles' }),
  };
}
