// CP-ALS and Tucker-2 on n×n×3×3 conv kernels (n = 64, 128, 256) against a numpy baseline measured in
// the same run (bench/numpy_decompose.py: the same algorithms written the way tensorly does them).
//
// Tensors (float32, seeded): a Gaussian kernel, and an exact CP-rank-16 kernel (Gaussian factors) plus 5%
// Gaussian noise (||noise||_F = 0.05·||X||_F). Both run on Tandem's layout [3, 3, n, n]. The issue's
// n×n×3×3 is the same tensor transposed: free conceptually, the errors do not depend on it, and numpy's
// CP-ALS is ~2.3× slower on it (its unfoldings of the trailing 3×3 modes copy through strides), so our
// layout is the fairer, faster baseline.
//   Tucker-2, ranks (n/2, n/2) on the two n-modes: HOSVD init + HOOI, both sides stopping like tensorly's
//     partial_tucker (a sweep that changes the error by < 1e-4); the sweeps are reported.
//   CP-ALS, rank n/2, exactly 100 sweeps (tol = 0) so that the times compare: ours with the SVD init and
//     with a seeded random init; numpy (tensorly's parafac) with its random init.
// Times are medians of repeats after a warm-up run (a single cold run for n = 256 CP, both sides), each
// side the faster of two such measurements (numpy: 1 and default BLAS threads; ours: 1 and 2 GEMM
// threads); errors are ||X - X̂|| / ||X||. Ours and numpy run back to back per n, so both see the same machine state.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpAls, cpReconstruct } from '../compiler/passes/decompose/cp.js';
import { gemmThreads, setGemmThreads } from '../compiler/passes/decompose/gemm-threads.js';
import { gemmBackend } from '../compiler/passes/decompose/linalg.js';
import { relativeError } from '../compiler/passes/decompose/tensor.js';
import { tucker2, tucker2Reconstruct } from '../compiler/passes/decompose/tucker2.js';
import { mixSeed, Rng } from '../compiler/util/rng.js';
import { median } from './stats.js';

export type DecomposeMethod = 'tucker2' | 'cp-svd' | 'cp-random';
export type DecomposeTensor = 'gaussian' | 'cp16';

export interface DecomposeMeasure {
  ms: number;
  relError: number;
  iterations: number;
  /** BLAS (numpy) or GEMM (ours) threads of the kept, faster, run */
  threads?: string;
}

export interface DecomposeRow {
  n: number;
  method: DecomposeMethod;
  tensor: DecomposeTensor;
  ours: DecomposeMeasure;
  /** numpy measured here (cp-svd rows compare with numpy's random-init CP, the reference). */
  baseline?: DecomposeMeasure;
  /** baseline ms / ours ms */
  speedup?: number;
}

export interface DecomposeBench {
  sizes: number[];
  gemm: 'wasm' | 'js';
  baseline: { kind: 'numpy'; numpy: string; threads: string } | { kind: 'quoted'; reason: string };
  /** The numbers, for reference either way. */
  quoted: typeof QUOTED;
  rows: DecomposeRow[];
  /**
   * The goal on the rows we recommend (tucker2 and cp-svd): speed-up >= 2 and error <= the
   * baseline's (+0.1% relative). cp-random rows are shown for information.
   */
  goalMet: boolean;
}

/** From the issue: tensorly on numpy, n = 64 / 128 / 256. */
export const QUOTED = {
  tucker2: { ms: { 64: 83, 128: 648, 256: 2519 }, relError: { gaussian: 0.731, cp16: 0.0385 } },
  cpRandom: { ms: { 64: 2200, 128: 9300, 256: 70000 }, relError: { gaussian: 0.883, cp16: 0.047 } },
} as const;

export interface DecomposeBenchOptions {
  quick?: boolean;
  /** Skip the numpy baseline even when numpy is there (tests). */
  noBaseline?: boolean;
  log?: (s: string) => void;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

function gaussian(n: number): Float32Array {
  const rng = new Rng(mixSeed(0xdec0, n));
  return Float32Array.from({ length: 9 * n * n }, () => rng.normal());
}

/** Exact CP rank 16 (Gaussian factors, layout [3, 3, n, n]) plus noise with ||noise|| = 0.05·||X||. */
function cp16(n: number): Float32Array {
  const rng = new Rng(mixSeed(0xc916, n));
  const dims = [3, 3, n, n];
  const factors = dims.map((d) => Float64Array.from({ length: d * 16 }, () => rng.normal()));
  const x = cpReconstruct(factors, new Float64Array(16).fill(1), dims);
  const noise = Float64Array.from({ length: x.length }, () => rng.normal());
  let nx = 0;
  let nn = 0;
  for (let i = 0; i < x.length; i++) {
    nx += x[i] * x[i];
    nn += noise[i] * noise[i];
  }
  const scale = 0.05 * Math.sqrt(nx / nn);
  return Float32Array.from(x, (v, i) => v + scale * noise[i]);
}

/**
 * The faster of two timed() measurements, with 1 and with 2 GEMM threads: the same rule as the numpy
 * side's best of 1 and default BLAS threads, so that both sides get two chances on this noisy VM.
 */
function timedBest<T>(repeats: number, fn: () => T): { ms: number; out: T; threads: string } {
  const before = gemmThreads();
  try {
    const runs = ([1, 2] as const).map((t) => {
      setGemmThreads(t);
      return { ...timed(repeats, fn), threads: String(gemmThreads()) };
    });
    return runs[1].ms < runs[0].ms ? runs[1] : runs[0];
  } finally {
    setGemmThreads(before);
  }
}

/** Median of `repeats` runs, after one untimed warm-up run when repeats > 1 (the numpy side does the same). */
function timed<T>(repeats: number, fn: () => T): { ms: number; out: T } {
  const ms: number[] = [];
  let out!: T;
  if (repeats > 1) fn();
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    out = fn();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), out };
}

function numpyAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
}

interface NumpyRow {
  /** BLAS threads of the kept run */
  threads?: string;
  n: number;
  method: 'tucker2' | 'cp-random';
  tensor: DecomposeTensor;
  ms: number;
  relError: number;
  iterations: number;
}

/**
 * numpy_decompose.py on one size, once with one BLAS thread and once with the default (all cores); each
 * row keeps the faster of the two (on this 2-core VM one thread is often faster for the small sizes, and
 * the default threading collapses when the other core is busy).
 */
function runNumpy(dir: string, n: number, repeatsTucker: number, repeatsCp: number, log: (s: string) => void): { numpy: string; threads: string; rows: NumpyRow[] } {
  const args = [path.join(root, 'bench', 'numpy_decompose.py'), dir, String(n), '--repeats-tucker', String(repeatsTucker), '--repeats-cp', String(repeatsCp)];
  const runs = (['1', undefined] as const).map((threads) => {
    log(`  numpy baseline n=${n}, BLAS threads ${threads ?? 'default'}: python3 ${path.relative(process.cwd(), args[0])} ...${n >= 256 ? ' (CP takes a while)' : ''}`);
    const env = { ...process.env };
    for (const k of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) {
      if (threads) env[k] = threads;
      else delete env[k];
    }
    const r = spawnSync('python3', args, { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'], env });
    if (r.status !== 0) throw new Error(`numpy_decompose.py failed (${r.status}): ${r.error?.message ?? ''}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { numpy: string; threads: string; rows: NumpyRow[] };
  });
  const rows = runs[0].rows.map((a) => {
    const b = runs[1].rows.find((q) => q.method === a.method && q.tensor === a.tensor && q.n === a.n);
    return b && b.ms < a.ms ? { ...b, threads: runs[1].threads } : { ...a, threads: '1' };
  });
  return { numpy: runs[0].numpy, threads: `best of 1 and ${runs[1].threads}`, rows };
}

export async function benchDecompose(opts: DecomposeBenchOptions = {}): Promise<DecomposeBench> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const quick = !!opts.quick;
  const sizes = quick ? [64, 128] : [64, 128, 256];
  const tensors: Record<DecomposeTensor, (n: number) => Float32Array> = { gaussian, cp16 };
  const dir = mkdtempSync(path.join(tmpdir(), 'tandem-decompose-'));
  try {
    const data = new Map<string, Float32Array>();
    for (const n of sizes) {
      for (const name of ['gaussian', 'cp16'] as const) {
        const x = tensors[name](n);
        data.set(`${name}_${n}`, x);
        writeFileSync(path.join(dir, `${name}_${n}.f32`), Buffer.from(x.buffer, x.byteOffset, x.byteLength));
      }
    }
    // warm-up: JIT and wasm tier-up, the heap grown
    const w = gaussian(32);
    tucker2(w, [3, 3, 32, 32], [16, 16]);
    cpAls(w, [3, 3, 32, 32], 16, { maxIter: 5 });

    const withNumpy = !opts.noBaseline && numpyAvailable();
    let baseline: DecomposeBench['baseline'] = opts.noBaseline ? { kind: 'quoted', reason: 'baseline skipped' } : { kind: 'quoted', reason: 'numpy not installed' };
    const rows: DecomposeRow[] = [];
    // per n: ours, then numpy right after (so that both see the same machine state)
    for (const n of sizes) {
      const dims = [3, 3, n, n] as const;
      const r = n / 2;
      const tuckerReps = n <= 64 ? 21 : n <= 128 ? 11 : quick ? 1 : 5;
      const cpReps = n >= 256 ? 1 : n <= 64 ? 5 : quick ? 1 : 3;
      const fromHere = rows.length;
      for (const name of ['gaussian', 'cp16'] as const) {
        const x = data.get(`${name}_${n}`)!;
        const t = timedBest(tuckerReps, () => tucker2(x, dims, [r, r], { maxIter: 100, tol: 1e-4 }));
        rows.push({ n, method: 'tucker2', tensor: name, ours: { ms: t.ms, relError: relativeError(tucker2Reconstruct(t.out, dims), x), iterations: t.out.iterations, threads: t.threads } });
        log(`  ours n=${n} ${name} tucker2: ${t.ms.toFixed(0)} ms, error ${rows.at(-1)!.ours.relError.toFixed(4)}, ${t.out.iterations} HOOI sweeps`);
        for (const init of ['svd', 'random'] as const) {
          const c = timedBest(cpReps, () => cpAls(x, dims, r, { init, maxIter: 100, tol: 0, seed: 0 }));
          rows.push({ n, method: init === 'svd' ? 'cp-svd' : 'cp-random', tensor: name, ours: { ms: c.ms, relError: c.out.relError, iterations: c.out.iterations, threads: c.threads } });
          log(`  ours n=${n} ${name} cp-${init}: ${c.ms.toFixed(0)} ms, error ${c.out.relError.toFixed(4)}`);
        }
      }
      if (withNumpy) {
        const np = runNumpy(dir, n, tuckerReps, cpReps, log);
        baseline = { kind: 'numpy', numpy: np.numpy, threads: np.threads };
        for (const row of rows.slice(fromHere)) {
          const want = row.method === 'tucker2' ? 'tucker2' : 'cp-random';
          const b = np.rows.find((q) => q.n === row.n && q.tensor === row.tensor && q.method === want);
          if (b) {
            row.baseline = { ms: b.ms, relError: b.relError, iterations: b.iterations, threads: b.threads };
            row.speedup = b.ms / row.ours.ms;
          }
        }
      }
    }
    if (baseline.kind === 'quoted') {
      for (const row of rows) {
        const q = row.method === 'tucker2' ? QUOTED.tucker2 : QUOTED.cpRandom;
        const ms = q.ms[row.n as 64 | 128 | 256];
        row.baseline = { ms, relError: q.relError[row.tensor], iterations: row.method === 'tucker2' ? NaN : 100 };
        row.speedup = ms / row.ours.ms;
      }
    }
    const compared = rows.filter((r) => r.baseline && r.method !== 'cp-random');
    const goalMet = compared.length > 0 && compared.every((r) => r.speedup! >= 2 && r.ours.relError <= r.baseline!.relError * 1.001);
    return { sizes, gemm: gemmBackend(), baseline, quoted: QUOTED, rows, goalMet };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The printed table: n, method, tensor, ours ms / error, baseline ms / error, speed ratio. */
export function decomposeTable(b: DecomposeBench): string[] {
  const label = b.baseline.kind === 'numpy' ? `numpy ${b.baseline.numpy} (measured here, BLAS threads: ${b.baseline.threads})` : `quoted from the issue (${b.baseline.reason})`;
  const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const lines = [
    `CP-ALS / Tucker-2 on [3,3,n,n] kernels, rank n/2 (GEMM: ${b.gemm}, best of 1 and 2 threads); baseline: ${label}`,
    `  ${'n'.padStart(4)} ${'method'.padEnd(10)} ${'tensor'.padEnd(9)} ${'ours ms'.padStart(9)} ${'error'.padStart(7)} ${'its'.padStart(4)}   ${'base ms'.padStart(9)} ${'error'.padStart(7)} ${'its'.padStart(4)}   speed-up`,
  ];
  for (const r of b.rows) {
    const base = r.baseline;
    lines.push(
      `  ${String(r.n).padStart(4)} ${r.method.padEnd(10)} ${r.tensor.padEnd(9)} ${f(r.ours.ms, 0).padStart(9)} ${f(r.ours.relError, 4).padStart(7)} ${String(r.ours.iterations).padStart(4)}   ` +
        (base ? `${f(base.ms, 0).padStart(9)} ${f(base.relError, 4).padStart(7)} ${(Number.isFinite(base.iterations) ? String(base.iterations) : '-').padStart(4)}   ${f(r.speedup!, 2).padStart(7)}x` : '(no baseline)'),
    );
  }
  lines.push(`  (cp-svd and cp-random both compare with the baseline's random-init CP; goal >= 2x at equal or lower error, tucker2 + cp-svd rows: ${b.goalMet ? 'met' : 'NOT met'})`);
  return lines;
}

/** Standalone run: prints the table and the JSON (`node dist/bench/decompose.js [--quick]`). */
export async function decomposeMain(argv: readonly string[] = process.argv): Promise<DecomposeBench> {
  const b = await benchDecompose({ quick: argv.includes('--quick') });
  process.stdout.write(decomposeTable(b).join('\n') + '\n');
  if (argv.includes('--json')) process.stdout.write(JSON.stringify(b, null, 1) + '\n');
  return b;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await decomposeMain();
