// The simulator's matrix kernels (sim/kernels: gemmF32, gemmI16) against the float64 GEMM of the
// decomposition passes (linalg.ts gemmStrided) and tfjs's wasm backend (tf.matMul, XNNPACK), on
// simulator-like shapes, all measured in the same run.
//
// Operands as the simulator has them: A (m×k) input digits 0..15, B (k×n) conductances (float32) or
// int8-range weights (int16, in [-127, 127]). Each contender's time is the median of `repeats` samples
// after two warm-up samples, a sample being one call, or a burst of back-to-back calls for the small
// shapes; the contenders run round-robin (one sample each per round) so that they all see the same
// machine state on this noisy 2-core VM. Ours and the f64 GEMM take and return JS typed arrays
// (their copies into and out of wasm memory are timed); tf.matMul's operands are tensors already in wasm
// memory, and its time includes reading C back (dataSync). G MAC/s = m·k·n / time.
//
// Standalone: node dist/bench/sim-kernels.js [--quick] [--json]
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setGemmThreads } from '../compiler/passes/decompose/gemm-threads.js';
import { gemmBackend, gemmStrided } from '../compiler/passes/decompose/linalg.js';
import { Rng } from '../compiler/util/rng.js';
import { gemmF32, gemmI16, setSimKernelThreads, simKernelBackend, simKernelFma, simKernelTiling } from '../sim/kernels/index.js';
import { median } from './stats.js';

export const SIM_KERNEL_SHAPES: readonly (readonly [number, number, number])[] = [
  [2048, 1152, 256],
  [2048, 128, 1024],
  [256, 1152, 256],
  [6272, 9, 32],
];

/** Contenders, each at 2 threads (default) and 1. */
export type SimKernelContender = 'f32' | 'f32-1t' | 'i16' | 'i16-1t' | 'f64' | 'f64-1t' | 'tfjs';

export interface SimKernelRow {
  m: number;
  k: number;
  n: number;
  /** median milliseconds per product */
  ms: Record<SimKernelContender, number>;
  /** m·k·n / time, in G multiply-adds per second */
  gmacs: Record<SimKernelContender, number>;
}

export interface SimKernelBench {
  backend: string;
  fma: boolean;
  tiling: ReturnType<typeof simKernelTiling>;
  f64Gemm: 'wasm' | 'js';
  tfjs: string;
  repeats: number;
  rows: SimKernelRow[];
}

const CONTENDERS: readonly SimKernelContender[] = ['f32', 'f32-1t', 'i16', 'i16-1t', 'f64', 'f64-1t', 'tfjs'];

async function tfjsWasm(): Promise<string> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return `tfjs ${tf.version.tfjs} wasm (simd ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')})`;
    }
    return 'unavailable: the wasm backend failed to initialise';
  } catch (e) {
    return `unavailable: ${(e as Error).message.split('\n')[0]}`;
  }
}

export async function benchSimKernels(opts: { repeats?: number; quick?: boolean; log?: (s: string) => void } = {}): Promise<SimKernelBench> {
  const repeats = opts.repeats ?? (opts.quick ? 3 : 7);
  const log = opts.log ?? (() => undefined);
  const before = tf.getBackend();
  const tfjs = await tfjsWasm();
  const rows: SimKernelRow[] = [];
  try {
    for (const [m, k, n] of SIM_KERNEL_SHAPES) {
      const rng = new Rng(m * 31 + k * 7 + n);
      const af = Float32Array.from({ length: m * k }, () => rng.int(16));
      const bf = Float32Array.from({ length: k * n }, () => rng.uniform(1e-6, 1e-4));
      const ai = Int16Array.from(af);
      const bi = Int16Array.from({ length: k * n }, () => rng.int(255) - 127);
      const a64 = Float64Array.from(af);
      const b64 = Float64Array.from(bf);
      const cf = new Float32Array(m * n);
      const ci = new Int32Array(m * n);
      const c64 = new Float64Array(m * n);
      const ta = tfjs.startsWith('unavailable') ? undefined : tf.tensor2d(af, [m, k]);
      const tb = tfjs.startsWith('unavailable') ? undefined : tf.tensor2d(bf, [k, n]);
      const runs: Record<SimKernelContender, () => void> = {
        f32: () => gemmF32(m, k, n, af, bf, cf),
        'f32-1t': () => gemmF32(m, k, n, af, bf, cf),
        i16: () => gemmI16(m, k, n, ai, bi, ci),
        'i16-1t': () => gemmI16(m, k, n, ai, bi, ci),
        f64: () => gemmStrided(m, k, n, a64, 0, k, 1, b64, 0, n, 1, c64, 0, n),
        'f64-1t': () => gemmStrided(m, k, n, a64, 0, k, 1, b64, 0, n, 1, c64, 0, n),
        tfjs: () => {
          if (!ta || !tb) return;
          const c = tf.matMul(ta, tb);
          c.dataSync();
          c.dispose();
        },
      };
      // a sample is a burst of back-to-back calls (~20 M multiply-adds; one call for the big shapes), as
      // the simulator makes them: small products are not timed alone against the timer's resolution and
      // the helper threads' wake-up
      const burst = Math.max(1, Math.round(2e7 / (m * k * n)));
      const time = (who: SimKernelContender): number => {
        const one = who.endsWith('-1t');
        setSimKernelThreads(one ? 1 : 2);
        setGemmThreads(one ? 1 : 2);
        const t0 = performance.now();
        for (let i = 0; i < burst; i++) runs[who]();
        const ms = (performance.now() - t0) / burst;
        setSimKernelThreads(2);
        setGemmThreads(2);
        return ms;
      };
      const samples = Object.fromEntries(CONTENDERS.map((w) => [w, [] as number[]])) as Record<SimKernelContender, number[]>;
      for (let r = 0; r < repeats + 2; r++) {
        for (const who of CONTENDERS) {
          const ms = time(who);
          if (r >= 2) samples[who].push(ms);
        }
      }
      tf.dispose([ta, tb].filter((t): t is tf.Tensor2D => t !== undefined));
      const ms = Object.fromEntries(CONTENDERS.map((w) => [w, w === 'tfjs' && !ta ? NaN : median(samples[w])])) as Record<SimKernelContender, number>;
      const gmacs = Object.fromEntries(CONTENDERS.map((w) => [w, (m * k * n) / (ms[w] * 1e6)])) as Record<SimKernelContender, number>;
      rows.push({ m, k, n, ms, gmacs });
      log(`  ${m}×${k}×${n}: f32 ${gmacs.f32.toFixed(1)}, i16 ${gmacs.i16.toFixed(1)}, f64 ${gmacs.f64.toFixed(1)}, tfjs ${gmacs.tfjs.toFixed(1)} G MAC/s`);
    }
  } finally {
    if (before && before !== tf.getBackend()) await tf.setBackend(before);
  }
  return { backend: simKernelBackend(), fma: simKernelFma(), tiling: simKernelTiling(), f64Gemm: gemmBackend(), tfjs, repeats, rows };
}

/** The printed table: G MAC/s per contender (2 threads and 1), then the ratios. */
export function simKernelsTable(b: SimKernelBench): string[] {
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const shape = (r: SimKernelRow) => `${r.m}×${r.k}×${r.n}`.padEnd(16);
  const t = b.tiling;
  const lines = [
    `sim kernels (${b.backend}${b.fma ? ', relaxed-SIMD FMA' : ', f32x4 mul+add'}; tiles f32 ${t.f32.mr}×${t.f32.nr}, i16 ${t.i16.mr}×${t.i16.nr}), G MAC/s, median of ${b.repeats}:`,
    `  ${'m×k×n'.padEnd(16)} ${'f32'.padStart(6)} ${'f32 1t'.padStart(7)} ${'i16'.padStart(6)} ${'i16 1t'.padStart(7)} ${'f64'.padStart(6)} ${'f64 1t'.padStart(7)} ${'tfjs'.padStart(6)}   f32/f64 f32/tfjs i16/f64 i16/tfjs  f32/f64 1t i16/f32`,
  ];
  for (const r of b.rows) {
    const g = r.gmacs;
    lines.push(
      `  ${shape(r)} ${f(g.f32).padStart(6)} ${f(g['f32-1t']).padStart(7)} ${f(g.i16).padStart(6)} ${f(g['i16-1t']).padStart(7)} ${f(g.f64).padStart(6)} ${f(g['f64-1t']).padStart(7)} ${f(g.tfjs).padStart(6)}` +
        `   ${f(g.f32 / g.f64, 2).padStart(7)} ${f(g.f32 / g.tfjs, 2).padStart(8)} ${f(g.i16 / g.f64, 2).padStart(7)} ${f(g.i16 / g.tfjs, 2).padStart(8)}  ${f(g['f32-1t'] / g['f64-1t'], 2).padStart(10)} ${f(g.i16 / g.f32, 2).padStart(7)}`,
    );
  }
  lines.push(`  (f32/i16: sim/kernels, 2 threads unless "1t"; f64: linalg gemmStrided (${b.f64Gemm}); tfjs: ${b.tfjs}, tf.matMul on resident tensors + dataSync)`);
  return lines;
}

/** Standalone run: prints the table (and the JSON with --json). */
export async function simKernelsMain(argv: readonly string[] = process.argv): Promise<SimKernelBench> {
  const b = await benchSimKernels({ quick: argv.includes('--quick'), log: (s) => process.stderr.write(`${s}\n`) });
  process.stdout.write(simKernelsTable(b).join('\n') + '\n');
  if (argv.includes('--json')) process.stdout.write(JSON.stringify(b, null, 1) + '\n');
  return b;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await simKernelsMain();
