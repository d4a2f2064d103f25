// Dense matrix products for the analog CIM simulator, row-major: gemmF32 (float32 C (+)= A·B) and gemmI16
// (int16 × int16 → int32, exact). The design is the float64 engine of the decomposition passes
// (compiler/passes/decompose/linalg.ts + gemm-threads.ts), redone for 4-byte lanes:
//   - one WebAssembly module assembled byte by byte (wasm.ts) on a shared memory. A is copied in as it is
//     and read in place, MR rows at a time, one splatted value per row and k step (packing A first was
//     slower: a second pass over A that costs as much as the product when n is small); B is packed by a
//     wasm packer into NR-column panels per k-block; C is staged in the heap and copied out.
//   - int16: a k step is a PAIR of k values. B's panels interleave rows 2q and 2q+1 per column, A's pair
//     (a[i][2q], a[i][2q+1]) is one 32-bit splat, and i32x4.dot_i16x8_s does 8 multiply-adds into the 4
//     int32 lanes of 4 columns. float32: f32x4 mul + add, or f32x4.relaxed_madd where the engine
//     validates relaxed SIMD (Node 20: only with --experimental-wasm-relaxed-simd; ~1.4× faster then).
//   - a helper worker thread on the same memory (threads.ts) takes chunks of row panels from a shared
//     counter while the main thread takes the others and copies the finished ones out; products of
//     2^19+ multiply-adds (2^20+ for int16) are split (TANDEM_GEMM_THREADS=1 turns it off); only 2^24+
//     for a while after a chunk took far longer than the others (a thread lost its core to another
//     process: small products then waited ~ms for its time slice, measured 10× slower). Every C element
//     is computed by the same instructions in the same order on either thread: bit-identical results.
// Micro-tiles, measured on the 2-core AMD EPYC (Zen 3, ~2.7 GHz) bench VM, Node 20, one thread, median
// G multiply-adds/s on 2048×1152×256, 2048×128×1024, 256×1152×256, 6272×9×32, 2048×27×256, 2048×72×512:
//   f32 2×16  12.0 12.3 11.8 6.3 10.2 11.7   (kept)      i16 2×16  22.4 21.6 22.8 8.1 14.5 20.1   (kept)
//   f32 4×8   11.8 11.5 11.5 5.8  9.4 10.9               i16 4×8   21.0 19.9 20.8 7.6 13.6 17.9
//   f32 3×8   10.7 10.9 10.7 5.7  9.1 10.7               i16 3×8   20.0 18.6 19.7 7.2 12.9 17.5
//   f32 5×8, 6×8, 3×12, 4×12, 3×16 (packed A): 8-10, 1×32: 7. V8 (TurboFan) loads every B vector and
//   every splat of a k step up front, so a tile needs accumulators + NR/4 + MR + 1 of the 15 xmm
//   registers it allocates: 8 accumulators (2×16, 4×8) is the most that does not spill. V8 also unrolls
//   the k loop itself; unrolling it in the module (×2, ×4) cost 30-50%. Cache blocking (k-block 128/256/
//   512 steps, row groups 8-32 panels × column blocks 8-64 panels) moved nothing beyond the noise here.
// Whole products (bench/sim-kernels.ts, one quiet run; G MAC/s, 2 threads / 1 thread; tfjs has 1):
//                     gemmF32      gemmI16      f64 gemmStrided   tfjs wasm tf.matMul (XNNPACK)
//   2048×1152×256    25.6 / 14.2  43.6 / 24.6  10.2 / 6.7        11.2
//   2048×128×1024    24.6 / 11.2  46.8 / 21.0   9.6 / 5.6         8.5
//   256×1152×256     20.8 / 15.4  42.3 / 26.9   9.1 / 6.8        10.9
//   6272×9×32         8.9 /  8.8  14.0 / 14.6   4.2 / 4.3         4.4
//   float32 per core is 2.0-2.3× the float64 engine (1.5-2.4 over three runs: f32x4 has twice the lanes,
//   but V8 emits no FMA: mul + add on 128-bit vectors, ~4.6 multiply-adds per cycle of the 8 the FP
//   pipes could do); int16 is ~2× float32 (dot_i16x8 does 8 per instruction). Small k is bound by the
//   copies in and out of the heap and the per-tile stores (a 6272×32 C at k = 9 is 9 multiply-adds per
//   stored float): the second thread gains little there unless the products come back to back.
// Accuracy: float32 sums in k order within k-blocks (see jsF32), relative error ~1e-7..1e-6 vs float64.
import { EXPORTS, GEMM_PARAMS, moduleBytes, relaxedProbeBytes, type ModuleShapes, type TileShape } from './wasm.js';
import type { WasmApi } from '../../compiler/util/wasm-encode.js';
import { rowSplitter, type RowSplitter } from './threads.js';

/** The register tiles and cache blocking (k-block in steps, row group in panels, column block in panels). */
export interface SimKernelTiling {
  f32: TileShape & { kc: number; ig: number; ncp: number };
  i16: TileShape & { kc: number; ig: number; ncp: number };
}

export const DEFAULT_TILING: SimKernelTiling = {
  f32: { mr: 2, nr: 16, unroll: 1, packA: false, kc: 256, ig: 16, ncp: 16 },
  i16: { mr: 2, nr: 16, unroll: 1, packA: false, kc: 256, ig: 16, ncp: 16 },
};

let tiling: SimKernelTiling = DEFAULT_TILING;


type Fn = (...args: number[]) => void;

interface WasmEngine {
  readonly kind: 'wasm';
  readonly fma: boolean;
  readonly shared: boolean;
  f32: Float32Array;
  i16: Int16Array;
  i32: Int32Array;
  ensure(bytes: number): void;
  fns: Record<(typeof EXPORTS)[number], Fn>;
  splitter?: RowSplitter;
  dispose(): void;
}

type Engine = WasmEngine | { readonly kind: 'js'; readonly fma: false; dispose(): void };

function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

/** Whether this engine validates relaxed SIMD (f32x4.relaxed_madd); Node 20 does only behind a flag. */
export function relaxedSimdAvailable(): boolean {
  try {
    return wasmApi()?.validate(relaxedProbeBytes()) ?? false;
  } catch {
    return false;
  }
}

function makeWasmEngine(wasm: WasmApi, t: SimKernelTiling): WasmEngine | undefined {
  const fma = relaxedSimdAvailable();
  const shapes: ModuleShapes = { f32: t.f32, i16: t.i16, fma };
  for (const shared of typeof SharedArrayBuffer === 'function' ? [true, false] : [false]) {
    const bytes = moduleBytes(shapes, shared);
    if (!wasm.validate(bytes)) continue;
    let mem: InstanceType<WasmApi['Memory']>;
    try {
      mem = new wasm.Memory({ initial: 64, ...(shared ? { maximum: 65536, shared: true } : {}) });
    } catch {
      continue; // no shared memory here: try a private one
    }
    const module = new wasm.Module(bytes);
    const inst = new wasm.Instance(module, { env: { mem } });
    const fns = Object.fromEntries(EXPORTS.map((n) => [n, inst.exports[n] as Fn])) as WasmEngine['fns'];
    const engine: WasmEngine = {
      kind: 'wasm',
      fma,
      shared,
      f32: new Float32Array(mem.buffer),
      i16: new Int16Array(mem.buffer),
      i32: new Int32Array(mem.buffer),
      ensure(need: number) {
        const have = mem.buffer.byteLength;
        if (have < need) mem.grow(Math.ceil((need - have) / 65536));
        if (engine.f32.buffer !== mem.buffer || engine.f32.length * 4 !== mem.buffer.byteLength) {
          engine.f32 = new Float32Array(mem.buffer);
          engine.i16 = new Int16Array(mem.buffer);
          engine.i32 = new Int32Array(mem.buffer);
        }
      },
      fns,
      splitter: shared ? rowSplitter(module, mem, ['f32', 'i16'], [fns.f32, fns.i16], GEMM_PARAMS.length) : undefined,
      dispose: () => engine.splitter?.dispose(),
    };
    return engine;
  }
  return undefined;
}

function makeEngine(jsOnly: boolean): Engine {
  const wasm = jsOnly ? undefined : wasmApi();
  if (wasm) {
    try {
      const e = makeWasmEngine(wasm, tiling);
      if (e) {
        warmUp(e);
        return e;
      }
    } catch {
      // fall through to JS
    }
  }
  return { kind: 'js', fma: false, dispose: () => undefined };
}

let engineInstance: Engine | undefined;
function engine(): Engine {
  return (engineInstance ??= makeEngine(false));
}

/** 'wasm' when the SIMD kernels run, 'js' for the fallback. */
export function simKernelBackend(): 'wasm' | 'js' {
  return engine().kind;
}

/** Whether gemmF32 uses fused multiply-adds (relaxed SIMD); its results then differ from the JS path's in the last bits. */
export function simKernelFma(): boolean {
  return engine().fma;
}

/** Forces the plain-JS kernels ('js') or the default choice ('auto'); for tests and benchmarks. */
export function useSimKernelBackend(kind: 'auto' | 'js'): 'wasm' | 'js' {
  engineInstance?.dispose();
  engineInstance = makeEngine(kind === 'js');
  return engineInstance.kind;
}

/** Replaces the tiling (benchmarks and tuning only; the JS path follows the same k-blocks). */
export function setSimKernelTiling(t: SimKernelTiling): void {
  tiling = t;
  const kind = engineInstance?.kind;
  engineInstance?.dispose();
  engineInstance = kind ? makeEngine(kind === 'js') : undefined;
}

export function simKernelTiling(): SimKernelTiling {
  return tiling;
}

// ---------------------------------------------------------------------------------------------------
// Products in the wasm heap.

const align16 = (x: number) => (x + 15) & ~15;

/** Products this small run in plain JS (the copies in and out of the heap would dominate). */
const SMALL_MACS = 4096;

/**
 * Runs the GEMM loop nest fn (0 f32, 1 i16) over all row panels, on two threads when the splitter finds
 * the work (multiply-adds, int16 counted as half) big enough, and copies
 * C (m×n, row stride np in the heap at cAt) out to c: chunk by chunk as they finish where the rows are
 * contiguous (np = n), so that the copy overlaps the other thread's work; else compacted at the end.
 */
function runProduct<T extends Float32Array | Int32Array>(e: WasmEngine, fn: 0 | 1, args: number[], m: number, n: number, np: number, mr: number, work: number, cAt: number, heap: T, c: T): void {
  const panels = Math.ceil(m / mr);
  const base = cAt >> 2;
  const ready =
    np === n
      ? (p0: number, p1: number) => {
          const r0 = p0 * mr;
          const r1 = Math.min(m, p1 * mr);
          if (r1 > r0) c.set(heap.subarray(base + r0 * n, base + r1 * n), r0 * n);
        }
      : undefined;
  if (e.splitter) e.splitter.run(fn, args, panels, work, ready);
  else {
    args[7] = 0;
    args[8] = panels;
    (fn ? e.fns.i16 : e.fns.f32)(...args);
    ready?.(0, panels);
  }
  if (np !== n) {
    e.fns.moveRows(cAt, m, np * 4, n * 4);
    c.set(heap.subarray(base, base + m * n));
  }
}

function wasmF32(e: WasmEngine, m: number, k: number, n: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void {
  const t = tiling.f32;
  const mb = Math.ceil(m / t.mr);
  const mp = mb * t.mr;
  const nb = Math.ceil(n / t.nr);
  const nbFull = Math.floor(n / t.nr);
  const np = nb * t.nr;
  const aAt = 0;
  const apAt = align16(aAt + mp * k * 4 + 16);
  const bRawAt = align16(apAt + (t.packA ? mp * k * 4 : 0));
  const bpAt = align16(bRawAt + k * n * 4 + 16);
  const cAt = align16(bpAt + k * np * 4);
  e.ensure(cAt + mp * np * 4 + 16);
  const h = e.f32;
  h.set(a.length === m * k ? a : a.subarray(0, m * k), aAt >> 2);
  h.fill(0, (aAt >> 2) + m * k, (aAt >> 2) + mp * k + 4);
  h.set(b.length === k * n ? b : b.subarray(0, k * n), bRawAt >> 2);
  e.fns.packF32(bRawAt, n * 4, bpAt, k, k, nbFull, np * 4, t.kc);
  if (nbFull < nb) {
    // the last, partial column panel: its columns past n are zeros
    const j0 = nbFull * t.nr;
    for (let p0 = 0; p0 < k; p0 += t.kc) {
      const kc = Math.min(t.kc, k - p0);
      let d = (bpAt >> 2) + p0 * np + nbFull * kc * t.nr;
      for (let p = 0; p < kc; p++, d += t.nr) {
        const s = (p0 + p) * n;
        for (let r = 0; r < t.nr; r++) h[d + r] = j0 + r < n ? b[s + j0 + r] : 0;
      }
    }
  }
  if (accumulate) {
    h.set(c.length === m * n ? c : c.subarray(0, m * n), cAt >> 2);
    if (np !== n) e.fns.moveRows(cAt, m, n * 4, np * 4);
  }
  const args = [aAt, k * 4, bpAt, cAt, np * 4, k, nb, 0, 0, accumulate ? 1 : 0, t.kc, t.ig, t.ncp, apAt, mp];
  runProduct(e, 0, args, m, n, np, t.mr, m * n * k, cAt, e.f32, c);
}

function wasmI16(e: WasmEngine, m: number, k: number, n: number, a: Int16Array, b: Int16Array, c: Int32Array, accumulate: boolean): void {
  const t = tiling.i16;
  const ks = Math.ceil(k / 2); // steps: pairs along k
  const full = k >> 1;
  const mb = Math.ceil(m / t.mr);
  const mp = mb * t.mr;
  const nb = Math.ceil(n / t.nr);
  const nbFull = Math.floor(n / t.nr);
  const np = nb * t.nr;
  const aAt = 0;
  const apAt = align16(aAt + mp * k * 2 + 16);
  const bRawAt = align16(apAt + (t.packA ? mp * ks * 4 : 0));
  const bpAt = align16(bRawAt + k * n * 2 + 16);
  const cAt = align16(bpAt + ks * np * 4);
  e.ensure(cAt + mp * np * 4 + 16);
  const h = e.i16;
  h.set(a.length === m * k ? a : a.subarray(0, m * k), aAt >> 1);
  h.fill(0, (aAt >> 1) + m * k, (aAt >> 1) + mp * k + 8);
  h.set(b.length === k * n ? b : b.subarray(0, k * n), bRawAt >> 1);
  e.fns.packI16(bRawAt, n * 2, bpAt, ks, full, nbFull, np * 4, t.kc);
  const nr2 = 2 * t.nr;
  if (full < ks) {
    // odd k: the last step pairs row k-1 with zeros (full panels; the partial one is filled below)
    const p0 = Math.floor((ks - 1) / t.kc) * t.kc;
    const kc = ks - p0;
    const s = (k - 1) * n;
    for (let jb = 0; jb < nbFull; jb++) {
      const d = (bpAt >> 1) + p0 * np * 2 + jb * kc * nr2 + (kc - 1) * nr2;
      for (let r = 0; r < t.nr; r++) {
        h[d + 2 * r] = b[s + jb * t.nr + r];
        h[d + 2 * r + 1] = 0;
      }
    }
  }
  if (nbFull < nb) {
    const j0 = nbFull * t.nr;
    for (let p0 = 0; p0 < ks; p0 += t.kc) {
      const kc = Math.min(t.kc, ks - p0);
      let d = (bpAt >> 1) + p0 * np * 2 + nbFull * kc * nr2;
      for (let q = 0; q < kc; q++, d += nr2) {
        const p = 2 * (p0 + q);
        for (let r = 0; r < t.nr; r++) {
          const j = j0 + r;
          h[d + 2 * r] = j < n ? b[p * n + j] : 0;
          h[d + 2 * r + 1] = j < n && p + 1 < k ? b[(p + 1) * n + j] : 0;
        }
      }
    }
  }
  if (accumulate) {
    e.i32.set(c.length === m * n ? c : c.subarray(0, m * n), cAt >> 2);
    if (np !== n) e.fns.moveRows(cAt, m, n * 4, np * 4);
  }
  const args = [aAt, k * 2, bpAt, cAt, np * 4, ks, nb, 0, 0, accumulate ? 1 : 0, t.kc, t.ig, t.ncp, apAt, mp];
  runProduct(e, 1, args, m, n, np, t.mr, (m * n * k) / 2, cAt, e.i32, c);
}

// ---------------------------------------------------------------------------------------------------
// Plain-JS products in the same arithmetic order.

/**
 * float32 C (+)= A·B in gemmF32's order: per k-block of tiling.f32.kc, each C element's partial sum runs
 * from zero in k order with float32 rounding after every multiply and add; the first block stores it
 * (unless accumulating), later blocks add it to C (rounded). (A float64 sum of two float32 values rounded
 * once to float32 is the float32 sum: double rounding is harmless at 53 ≥ 2·24 + 2 bits.)
 */
function jsF32(m: number, k: number, n: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void {
  const kcMax = tiling.f32.kc;
  const acc = new Float32Array(n);
  const fr = Math.fround;
  if (k === 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p0 = 0; p0 < k; p0 += kcMax) {
      const p1 = Math.min(k, p0 + kcMax);
      acc.fill(0);
      for (let p = p0; p < p1; p++) {
        const av = a[i * k + p];
        const bp = p * n;
        for (let j = 0; j < n; j++) acc[j] = acc[j] + fr(av * b[bp + j]);
      }
      if (p0 === 0 && !accumulate) c.set(acc, ci);
      else for (let j = 0; j < n; j++) c[ci + j] = c[ci + j] + acc[j];
    }
  }
}

/** int32 C (+)= A·B, wrapping modulo 2³² like the SIMD path (each product is exact in a double). */
function jsI16(m: number, k: number, n: number, a: Int16Array, b: Int16Array, c: Int32Array, accumulate: boolean): void {
  if (!accumulate) c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The API.

function checkShape(fn: string, m: number, k: number, n: number, a: { length: number }, b: { length: number }, c: { length: number }): void {
  for (const [name, v] of [['m', m], ['k', k], ['n', n]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${fn}: ${name} = ${v} must be an integer >= 0`);
  }
  if (a.length < m * k) throw new Error(`${fn}: a has ${a.length} values, ${m}×${k} needs ${m * k}`);
  if (b.length < k * n) throw new Error(`${fn}: b has ${b.length} values, ${k}×${n} needs ${k * n}`);
  if (c.length < m * n) throw new Error(`${fn}: c has ${c.length} values, ${m}×${n} needs ${m * n}`);
}

/**
 * C (m×n) = A (m×k) · B (k×n), or C += A·B when accumulate; row-major float32 (only the first m·k,
 * k·n, m·n values are read / written). Each C element is a float32 sum in k order within k-blocks of
 * tiling.f32.kc (see jsF32), the same on one or two threads and in the JS fallback (bit-identical unless
 * relaxed-SIMD FMA is in use, see simKernelFma).
 */
export function gemmF32(m: number, k: number, n: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate = false): void {
  checkShape('gemmF32', m, k, n, a, b, c);
  if (m === 0 || n === 0) return;
  const e = engine();
  if (e.kind === 'js' || k === 0 || m * n * k <= SMALL_MACS) jsF32(m, k, n, a, b, c, accumulate);
  else wasmF32(e, m, k, n, a, b, c, accumulate);
}

/**
 * C (m×n) = A (m×k) · B (k×n), or C += A·B when accumulate; row-major, int16 operands, int32 result,
 * computed modulo 2³² (int32 wrap-around, as Int32Array stores do). Exact whenever no partial sum leaves
 * the int32 range, i.e. when k · max|a| · max|b| < 2³¹ (plus |C| when accumulating): for |a| ≤ 255 and
 * |b| ≤ 127, any k ≤ 65536 (65536 · 255 · 127 = 2 122 383 360 < 2 147 483 648). Bit-identical on one or
 * two threads and in the JS fallback.
 */
export function gemmI16(m: number, k: number, n: number, a: Int16Array, b: Int16Array, c: Int32Array, accumulate = false): void {
  checkShape('gemmI16', m, k, n, a, b, c);
  if (m === 0 || n === 0) return;
  const e = engine();
  if (e.kind === 'js' || k === 0 || m * n * k <= SMALL_MACS) jsI16(m, k, n, a, b, c, accumulate);
  else wasmI16(e, m, k, n, a, b, c, accumulate);
}

/** A few products of each kind so that V8 tiers the wasm functions up before the first real one. */
function warmUp(e: WasmEngine): void {
  const m = 64;
  const k = 96;
  const n = 64;
  const af = new Float32Array(m * k).fill(1);
  const bf = new Float32Array(k * n).fill(1);
  const cf = new Float32Array(m * n);
  const ai = new Int16Array(m * k).fill(1);
  const bi = new Int16Array(k * n).fill(1);
  const ci = new Int32Array(m * n);
  for (let i = 0; i < 24; i++) {
    wasmF32(e, m, k, n, af, bf, cf, (i & 1) === 1);
    wasmI16(e, m, k, n, ai, bi, ci, (i & 1) === 1);
  }
}
