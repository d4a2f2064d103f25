// Dense linear algebra for the decomposition passes: row-major Float64Array matrices, float64 throughout.
//
// Products run through one blocked GEMM: operands are packed into 4-row / 4-column panels and a 4×4
// micro-kernel written as a tiny WebAssembly module (f64x2 SIMD, assembled below byte by byte; with a
// matrix-vector kernel and a row-axpy kernel for the eigensolver) multiplies them; plain-JS kernels on
// the same heap are the fallback where WebAssembly SIMD is missing (useGemmBackend('js') forces them).
// Measured on the 2-core AMD EPYC bench VM (Node 20), double precision: JS 4×4 kernel 2.2-3.5 GFLOP/s;
// wasm micro-kernel 10-15 GFLOP/s in cache (4×4 beat 4×6, 6×4, 2×8, 3×8, 4×8 and 2× unrolling);
// whole products 8-16 GFLOP/s (e.g. 2304×256 · 256×128 in ~10 ms). The heap is a shared memory where
// the platform allows, and products big enough (~0.3 ms and up) are split by row panels with a helper
// thread (gemm-threads.ts; TANDEM_GEMM_THREADS=1 turns it off): bit-identical results, Tucker-2 at
// n = 256 1.1-1.3× faster on this 2-core VM (the eigensolves and packing stay on one thread).
//
// SVD: chosen by measurement, the Gram of the SMALL side plus our own symmetric eigensolver, never
// ml-matrix's SVD (and never a full SVD of a long unfolding such as 3×12288):
//   time, 256×2304 (a Tucker / CP unfolding), rank-128 truncated SVD with both sides' vectors:
//     ml-matrix SVD (autoTranspose)                 4484 ms
//     ml-matrix EVD of the 256×256 Gram alone        ~260 ms
//     Gram (wasm GEMM) + symmetricTopEigen + Aᵀ U/s   ~40 ms warm (163 ms on the first, cold call)
//   precision, U diag(s) Vᵀ with s log-spaced over [1e-3, 1] (known answer):
//     max |s - s_true|: ours 3e-15, ml-matrix 2e-14; all 256 of ours within 6e-12 relative.
//   The Gram squares the condition number: a singular value s is accurate to about eps·s_max²/s, so
//   values below ~1e-7·s_max are noise (their vectors are still orthonormal). That is far below what
//   matters for compressing a CNN kernel (relative errors 1e-3..1); the known-answer tests pass at 1e-6.
// The eigensolver (symmetricTopEigen): blocked Householder tridiagonalisation (panels of TB reflectors
// against the deferred update, the trailing rank-2·TB update by GEMM in place, matrix-vector products
// in wasm), eigenvalues of the tridiagonal by implicit QR with Wilkinson shifts (no vectors, O(n²)), the
// k wanted eigenvectors by inverse iteration on the tridiagonal (after LAPACK's stein, written from the
// method; Gram-Schmidt only among near-equal eigenvalues, see tridiagonalVectors), back-transformed with blocked
// reflectors (I - V T Vᵀ) by GEMM: 4/3 n³ + 2 n² k, not the ~6 n³ of accumulating every rotation.
//   top half of a 256×256 Gram: ~12 ms (ml-matrix EVD ~260 ms); 512×512: ~80 ms (ml-matrix ~2 s);
//   residuals ~1e-15·||A||, orthogonality ~1e-13.
import { Rng } from '../../util/rng.js';
import { F64, I32, leb, section, sleb, str, V128, vec, type WasmApi } from '../../util/wasm-encode.js';
import { runTiles, tileHelper, type TileJob } from './gemm-threads.js';

type Arr = Float64Array | Float32Array;

/** Float64 view or copy (keeps the GEMM's element loads monomorphic). */
export function asFloat64(a: Arr): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a);
}

// ---------------------------------------------------------------------------------------------------
// The GEMM engine: a heap of doubles (wasm memory or a JS Float64Array) and a packed micro-kernel.

const MR = 4; // the A packing below is unrolled for 4 rows
const NR = 4;
const KC = 256;
const NC = 128;
/** Row panels per kernel call. */
const IG = 16;

/**
 * kernel(apByte, bpByte, cByte, mb, jb0, jb1, kc, ldcBytes, store): C[ib,jb tiles] += Apanel(ib) · Bpanel(jb),
 * or C = … when store is 1.
 */
type Kernel = (ap: number, bp: number, c: number, mb: number, jb0: number, jb1: number, kc: number, ldc: number, store: number) => void;
/** gemv(aByte, ldaBytes, xByte, yByte, m, n): y[i] = Σ_j A[i, j] x[j], i < m, j < n. */
type Gemv = (a: number, lda: number, x: number, y: number, m: number, n: number) => void;
/** axpys(aByte, ldaBytes, xByte, yByte, rows, n): y[j] += Σ_q x[q] A[q, j], q < rows, j < n (y += Aᵀx). */
type Axpys = Gemv;

interface Engine {
  readonly kind: 'wasm' | 'js';
  heap: Float64Array;
  /** Doubles at the start of the heap held by a caller (the tridiagonalisation); GEMM scratch starts after. */
  pinned: number;
  ensure(doubles: number): void;
  kernel: Kernel;
  /** The tiles of one k-block (row panels 0..panels-1), on two threads where that pays. */
  tiles: (job: TileJob, panels: number) => void;
  gemv: Gemv;
  axpys: Axpys;
  /** Releases the helper thread, if any. */
  dispose?: () => void;
}

const op = {
  get: (i: number) => [0x20, ...leb(i)],
  set: (i: number) => [0x21, ...leb(i)],
  tee: (i: number) => [0x22, ...leb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  mul: [0x6c],
  and: [0x71],
  shl: [0x74],
  ltU: [0x49],
  geS: [0x4e],
  geU: [0x4f],
  f64load: [0x2b, 3, 0],
  f64store: [0x39, 3, 0],
  f64add: [0xa0],
  f64mul: [0xa2],
  simd: (o: number) => [0xfd, ...leb(o)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, d],
  brIf: (d: number) => [0x0d, d],
};
const vload = (off: number) => [...op.simd(0x00), 3, ...leb(off)];
const vstore = (off: number) => [...op.simd(0x0b), 3, ...leb(off)];
const splat = (off: number) => [...op.simd(0x0a), 3, ...leb(off)];
const vzero = () => [...op.simd(0x0c), ...new Array<number>(16).fill(0)];
const FADD = op.simd(0xf0);
const FMUL = op.simd(0xf2);

function emitter(): { code: number[]; c: (...xs: number[][]) => void } {
  const code: number[] = [];
  return {
    code,
    c: (...xs: number[][]) => {
      for (const x of xs) code.push(...x);
    },
  };
}

/** The packed MR×NR micro-kernel loop nest: params ap, bp, c, mb, jb0, jb1, kc, ldc (bytes), store. */
function gemmBody(): number[] {
  const { get, set, tee, i32, add, mul, ltU, geS } = op;
  let l = 9;
  const ib = l++;
  const jb = l++;
  const a = l++;
  const b = l++;
  const end = l++;
  const cp = l++;
  const panelA = l++;
  const panelB = l++;
  const nI32 = l - 9;
  const half = NR / 2;
  const acc = l;
  l += MR * half;
  const bv = l;
  l += half;
  const sv = l++;
  const nV = l - acc;
  const { code, c } = emitter();
  c(get(6), i32(MR * 8), mul, set(panelA), get(6), i32(NR * 8), mul, set(panelB));
  c(i32(0), set(ib));
  c(op.block, op.loop, get(ib), get(3), geS, op.brIf(1));
  c(get(4), set(jb));
  c(op.block, op.loop, get(jb), get(5), geS, op.brIf(1));
  for (let q = 0; q < MR * half; q++) c(vzero(), set(acc + q));
  c(get(0), get(ib), get(panelA), mul, add, set(a));
  c(get(1), get(jb), get(panelB), mul, add, tee(b), get(panelB), add, set(end));
  c(op.loop);
  for (let v = 0; v < half; v++) c(get(b), vload(v * 16), set(bv + v));
  for (let r = 0; r < MR; r++) {
    c(get(a), splat(r * 8), set(sv));
    for (let v = 0; v < half; v++) c(get(acc + r * half + v), get(sv), get(bv + v), FMUL, FADD, set(acc + r * half + v));
  }
  c(get(a), i32(MR * 8), add, set(a), get(b), i32(NR * 8), add, tee(b), get(end), ltU, op.brIf(0), op.end);
  c(get(2), get(ib), i32(MR), mul, get(7), mul, add, get(jb), i32(NR * 8), mul, add, set(cp));
  c(get(8), [0x04, 0x40]); // if store: C = acc
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < half; v++) c(get(cp), get(acc + r * half + v), vstore(v * 16));
    c(get(cp), get(7), add, set(cp));
  }
  c([0x05]); // else: C += acc
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < half; v++) c(get(cp), get(cp), vload(v * 16), get(acc + r * half + v), FADD, vstore(v * 16));
    c(get(cp), get(7), add, set(cp));
  }
  c(op.end);
  c(get(jb), i32(1), add, set(jb), op.br(0), op.end, op.end);
  c(get(ib), i32(1), add, set(ib), op.br(0), op.end, op.end, op.end);
  return [...vec([[...leb(nI32), I32], [...leb(nV), V128]]), ...code];
}

/** Row-by-row dot products, two f64x2 accumulators: params a, lda, x, y, m, n (bytes / counts). */
function gemvBody(): number[] {
  const { get, set, tee, i32, add, mul, and, shl, geS, geU, f64load, f64store, f64add, f64mul } = op;
  const i = 6;
  const pa = 7;
  const px = 8;
  const end4 = 9;
  const end = 10;
  const acc0 = 11;
  const acc1 = 12;
  const s = 13;
  const lane = (k: number) => [...op.simd(0x21), k];
  const { code, c } = emitter();
  c(i32(0), set(i));
  c(op.block, op.loop, get(i), get(4), geS, op.brIf(1));
  c(get(0), get(i), get(1), mul, add, tee(pa), get(5), i32(3), shl, add, set(end));
  c(get(pa), get(5), i32(-4), and, i32(3), shl, add, set(end4));
  c(get(2), set(px), vzero(), set(acc0), vzero(), set(acc1));
  c(op.block, op.loop, get(pa), get(end4), geU, op.brIf(1));
  c(get(acc0), get(pa), vload(0), get(px), vload(0), FMUL, FADD, set(acc0));
  c(get(acc1), get(pa), vload(16), get(px), vload(16), FMUL, FADD, set(acc1));
  c(get(pa), i32(32), add, set(pa), get(px), i32(32), add, set(px), op.br(0), op.end, op.end);
  c(get(acc0), get(acc1), FADD, tee(acc0), lane(0), get(acc0), lane(1), f64add, set(s));
  c(op.block, op.loop, get(pa), get(end), geU, op.brIf(1));
  c(get(s), get(pa), f64load, get(px), f64load, f64mul, f64add, set(s));
  c(get(pa), i32(8), add, set(pa), get(px), i32(8), add, set(px), op.br(0), op.end, op.end);
  c(get(3), get(i), i32(3), shl, add, get(s), f64store);
  c(get(i), i32(1), add, set(i), op.br(0), op.end, op.end, op.end);
  return [...vec([[5, I32], [2, V128], [1, F64]]), ...code];
}

/** y += Aᵀx row by row (axpy per row of A), f64x2 with a scalar tail: params a, lda, x, y, rows, n. */
function axpysBody(): number[] {
  const { get, set, tee, i32, add, mul, and, shl, geS, geU, f64load, f64store, f64add, f64mul } = op;
  const q = 6;
  const pa = 7;
  const py = 8;
  const end2 = 9;
  const end = 10;
  const sv = 11;
  const sc = 12;
  const { code, c } = emitter();
  c(i32(0), set(q));
  c(op.block, op.loop, get(q), get(4), geS, op.brIf(1));
  c(get(2), get(q), i32(3), shl, add, f64load, tee(sc), op.simd(0x14), set(sv));
  c(get(0), get(q), get(1), mul, add, set(pa));
  c(get(3), tee(py), get(5), i32(3), shl, add, set(end));
  c(get(py), get(5), i32(-2), and, i32(3), shl, add, set(end2));
  c(op.block, op.loop, get(py), get(end2), geU, op.brIf(1));
  c(get(py), get(py), vload(0), get(sv), get(pa), vload(0), FMUL, FADD, vstore(0));
  c(get(pa), i32(16), add, set(pa), get(py), i32(16), add, set(py), op.br(0), op.end, op.end);
  c(op.block, op.loop, get(py), get(end), geU, op.brIf(1));
  c(get(py), get(py), f64load, get(sc), get(pa), f64load, f64mul, f64add, f64store);
  c(get(pa), i32(8), add, set(pa), get(py), i32(8), add, set(py), op.br(0), op.end, op.end);
  c(get(q), i32(1), add, set(q), op.br(0), op.end, op.end, op.end);
  return [...vec([[5, I32], [1, V128], [1, F64]]), ...code];
}

/** shared: the memory import is a shared memory (limits 1..65536 pages), for the helper thread. */
function moduleBytes(shared: boolean): Uint8Array {
  const bodies = [gemmBody(), gemvBody(), axpysBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(new Array(9).fill([I32])), 0], [0x60, ...vec(new Array(6).fill([I32])), 0]])),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, ...(shared ? [0x03, 0x01, ...leb(65536)] : [0x00, 0x01])]])),
    ...section(3, vec([[0], [1], [1]])),
    ...section(7, vec([[...str('gemm'), 0x00, 0x00], [...str('gemv'), 0x00, 0x01], [...str('axpys'), 0x00, 0x02]])),
    ...section(10, vec(bodies.map((b) => [...leb(b.length), ...b]))),
  ]);
}

/** The same micro-kernel in JS on a Float64Array heap (byte offsets like the wasm one). */
function jsKernel(engine: { heap: Float64Array }): Kernel {
  return (apB, bpB, cB, mb, jb0, jb1, kc, ldcB, store) => {
    const h = engine.heap;
    const ldc = ldcB >> 3;
    for (let ib = 0; ib < mb; ib++) {
      for (let jb = jb0; jb < jb1; jb++) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let x = (apB >> 3) + ib * kc * MR;
        let y = (bpB >> 3) + jb * kc * NR;
        for (let p = 0; p < kc; p++, x += MR, y += NR) {
          const a0 = h[x], a1 = h[x + 1], a2 = h[x + 2], a3 = h[x + 3];
          const b0 = h[y], b1 = h[y + 1], b2 = h[y + 2], b3 = h[y + 3];
          c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
          c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
          c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
          c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        let o = (cB >> 3) + ib * MR * ldc + jb * NR;
        if (store) {
          h[o] = c00; h[o + 1] = c01; h[o + 2] = c02; h[o + 3] = c03; o += ldc;
          h[o] = c10; h[o + 1] = c11; h[o + 2] = c12; h[o + 3] = c13; o += ldc;
          h[o] = c20; h[o + 1] = c21; h[o + 2] = c22; h[o + 3] = c23; o += ldc;
          h[o] = c30; h[o + 1] = c31; h[o + 2] = c32; h[o + 3] = c33;
          continue;
        }
        h[o] += c00; h[o + 1] += c01; h[o + 2] += c02; h[o + 3] += c03; o += ldc;
        h[o] += c10; h[o + 1] += c11; h[o + 2] += c12; h[o + 3] += c13; o += ldc;
        h[o] += c20; h[o + 1] += c21; h[o + 2] += c22; h[o + 3] += c23; o += ldc;
        h[o] += c30; h[o + 1] += c31; h[o + 2] += c32; h[o + 3] += c33;
      }
    }
  };
}

function jsGemv(engine: { heap: Float64Array }): Gemv {
  return (aB, ldaB, xB, yB, m, n) => {
    const h = engine.heap;
    const x = xB >> 3;
    for (let i = 0; i < m; i++) {
      const r = (aB + i * ldaB) >> 3;
      let s = 0;
      for (let j = 0; j < n; j++) s += h[r + j] * h[x + j];
      h[(yB >> 3) + i] = s;
    }
  };
}

function jsAxpys(engine: { heap: Float64Array }): Axpys {
  return (aB, ldaB, xB, yB, rows, n) => {
    const h = engine.heap;
    const y = yB >> 3;
    for (let q = 0; q < rows; q++) {
      const r = (aB + q * ldaB) >> 3;
      const s = h[(xB >> 3) + q];
      for (let j = 0; j < n; j++) h[y + j] += s * h[r + j];
    }
  };
}

/**
 * The module and its memory: a shared memory where the platform allows one (the helper thread multiplies
 * in it too), else a private one; undefined without WebAssembly SIMD.
 */
function wasmModule(wasm: WasmApi): { bytes: Uint8Array; mem: InstanceType<WasmApi['Memory']>; shared: boolean } | undefined {
  for (const shared of typeof SharedArrayBuffer === 'function' ? [true, false] : [false]) {
    const bytes = moduleBytes(shared);
    if (!wasm.validate(bytes)) continue;
    try {
      return { bytes, shared, mem: new wasm.Memory({ initial: 64, ...(shared ? { maximum: 65536, shared: true } : {}) }) };
    } catch {
      // no shared memory here (e.g. a page without cross-origin isolation): try a private one
    }
  }
  return undefined;
}

function makeEngine(jsOnly = false): Engine {
  const wasm = jsOnly ? undefined : (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    const mod = wasm && wasmModule(wasm);
    if (wasm && mod) {
      const { bytes, mem, shared } = mod;
      const inst = new wasm.Instance(new wasm.Module(bytes), { env: { mem } });
      const kernel = inst.exports.gemm as Kernel;
      const helper = shared ? tileHelper(bytes, mem) : undefined;
      const engine: Engine = {
        kind: 'wasm',
        heap: new Float64Array(mem.buffer),
        pinned: 0,
        ensure(doubles: number) {
          const bytesNeeded = doubles * 8;
          if (mem.buffer.byteLength < bytesNeeded) mem.grow(Math.ceil((bytesNeeded - mem.buffer.byteLength) / 65536));
          if (engine.heap.buffer !== mem.buffer) engine.heap = new Float64Array(mem.buffer);
        },
        kernel,
        tiles: helper ? (job, panels) => helper.run(kernel, job, panels, NC) : (job, panels) => runTiles(kernel, job, 0, panels, NC),
        gemv: inst.exports.gemv as Gemv,
        axpys: inst.exports.axpys as Axpys,
        dispose: () => helper?.dispose(),
      };
      // Warm-up: wasm starts in the baseline tier; a few calls let V8 tier the functions up early.
      engine.ensure(3 * 64 * 64);
      for (let i = 0; i < 24; i++) {
        engine.kernel(0, 64 * 64 * 8, 2 * 64 * 64 * 8, 16, 0, 16, 64, 64 * 8, i & 1);
        engine.gemv(0, 64 * 8, 64 * 64 * 8, 2 * 64 * 64 * 8, 64, 64);
        engine.axpys(0, 64 * 8, 64 * 64 * 8, 2 * 64 * 64 * 8, 64, 64);
      }
      return engine;
    }
  } catch {
    // fall through to JS
  }
  const engine: Engine = {
    kind: 'js',
    heap: new Float64Array(1 << 16),
    pinned: 0,
    ensure(doubles: number) {
      if (engine.heap.length < doubles) {
        const h = new Float64Array(Math.max(doubles, engine.heap.length * 2));
        h.set(engine.heap);
        engine.heap = h;
      }
    },
    kernel: () => undefined,
    tiles: (job, panels) => runTiles(engine.kernel, job, 0, panels, NC),
    gemv: () => undefined,
    axpys: () => undefined,
  };
  engine.kernel = jsKernel(engine);
  engine.gemv = jsGemv(engine);
  engine.axpys = jsAxpys(engine);
  return engine;
}

let engineInstance: Engine | undefined;
function engine(): Engine {
  return (engineInstance ??= makeEngine());
}

/** 'wasm' when the SIMD kernels run, 'js' for the fallback. */
export function gemmBackend(): 'wasm' | 'js' {
  return engine().kind;
}

/** Forces the plain-JS kernels ('js') or the default choice ('auto'); for tests and benchmarks. */
export function useGemmBackend(kind: 'auto' | 'js'): 'wasm' | 'js' {
  engineInstance?.dispose?.();
  engineInstance = kind === 'js' ? makeEngine(true) : makeEngine();
  return engineInstance.kind;
}

/** A[:, p0:p0+kc] (A(i,p) = a[aOff + i·aRs + p·aCs], m rows) into MR-row panels at dst: [(ib·kc + p)·MR + r]. */
function packAInto(dst: Float64Array, base: number, m: number, kc: number, a: Float64Array, aOff: number, aRs: number, aCs: number, p0: number): void {
  const mb = Math.ceil(m / MR);
  const mbFull = Math.floor(m / MR);
  for (let ib = 0; ib < mb; ib++) {
    let d = base + ib * kc * MR;
    if (ib < mbFull) {
      let s0 = aOff + ib * MR * aRs + p0 * aCs;
      let s1 = s0 + aRs;
      let s2 = s1 + aRs;
      let s3 = s2 + aRs;
      for (let p = 0; p < kc; p++, d += MR) {
        dst[d] = a[s0];
        dst[d + 1] = a[s1];
        dst[d + 2] = a[s2];
        dst[d + 3] = a[s3];
        s0 += aCs;
        s1 += aCs;
        s2 += aCs;
        s3 += aCs;
      }
    } else {
      for (let p = 0; p < kc; p++, d += MR) {
        for (let r = 0; r < MR; r++) {
          const i = ib * MR + r;
          dst[d + r] = i < m ? a[aOff + i * aRs + (p0 + p) * aCs] : 0;
        }
      }
    }
  }
}

/** A left operand packed once for many products with it (the fixed tensor in CP-ALS / HOOI). */
export interface PackedA {
  readonly m: number;
  readonly k: number;
  /** k-blocks of KC columns one after another, each m (padded to MR) × kc in panel order. */
  readonly data: Float64Array;
}

/** Packs op(A) (m×k, A(i,p) = a[aOff + i·aRs + p·aCs]) for gemmPacked. */
export function packA(m: number, k: number, a: Arr, aOff: number, aRs: number, aCs: number): PackedA {
  const mp = Math.ceil(m / MR) * MR;
  const data = new Float64Array(mp * k);
  const a64 = asFloat64(a);
  for (let p0 = 0; p0 < k; p0 += KC) packAInto(data, mp * p0, m, Math.min(KC, k - p0), a64, aOff, aRs, aCs, p0);
  return { m, k, data };
}

/** A packed operand kept in the engine's heap (see withResident); valid only inside its callback. */
export interface ResidentA {
  readonly m: number;
  readonly k: number;
  /** heap offset (doubles) of the packed data */
  readonly at: number;
}

/**
 * Runs fn with the packed operands copied once into a pinned region of the GEMM heap, so that
 * gemmPacked(resident, …) reads its panels in place (no copy per product). Regions nest like a stack.
 */
export function withResident<T>(packs: readonly PackedA[], fn: (resident: ResidentA[]) => T): T {
  const e = engine();
  const saved = e.pinned;
  let at = saved + (saved & 1);
  const resident: ResidentA[] = [];
  const total = packs.reduce((s, p) => s + p.data.length + 2, at);
  e.ensure(total);
  for (const p of packs) {
    e.heap.set(p.data, at);
    resident.push({ m: p.m, k: p.k, at });
    at += p.data.length + (p.data.length & 1);
  }
  e.pinned = at;
  try {
    return fn(resident);
  } finally {
    e.pinned = saved;
  }
}

interface AOperand {
  resident?: ResidentA;
  /** B's packed panels equal A's (B = Aᵀ of the same data, MR = NR): pack once (Gram matrices). */
  bIsAT?: boolean;
  packed: PackedA | null;
  a: Float64Array;
  aOff: number;
  aRs: number;
  aCs: number;
}

/**
 * C (+)= op(A)·op(B) with C inside the heap (doubles from cBase, row stride ldcH) and the packed panels
 * from `scratch` on; store0: the first k-block overwrites C instead of adding. Edge tiles overhang C by
 * up to 3 rows / 3 columns and add exact zeros there (or store zeros, with store0): the caller keeps that
 * memory inside the heap (columns past the row end wrap into the next row's first ones).
 */
function gemmCore(
  e: Engine, m: number, k: number, n: number, A: AOperand,
  b: Float64Array, bOff: number, bRs: number, bCs: number,
  cBase: number, ldcH: number, scratch: number, upperOnly: boolean, store0: boolean,
): void {
  const mp = Math.ceil(m / MR) * MR;
  const np = Math.ceil(n / NR) * NR;
  const mb = mp / MR;
  const kcMax = Math.min(KC, k);
  const apBase = scratch + (scratch & 1);
  const bpBase = apBase + mp * kcMax;
  e.ensure(Math.max(bpBase + kcMax * np, cBase + (mp - 1) * ldcH + np));
  const nbFull = Math.floor(n / NR);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    const h = e.heap;
    const aAt = A.resident ? A.resident.at + mp * p0 : apBase;
    if (A.resident) {
      // panels already in the heap
    } else if (A.packed) h.set(A.packed.data.subarray(mp * p0, mp * (p0 + kc)), apBase);
    else packAInto(h, apBase, m, kc, A.a, A.aOff, A.aRs, A.aCs, p0);
    const bAt = A.bIsAT ? aAt : bpBase;
    // pack B[p0:p0+kc, :] into NR-column panels: bp[(jb·kc + p)·NR + r]
    for (let jb = 0; jb < (A.bIsAT ? 0 : np / NR); jb++) {
      let d = bpBase + jb * kc * NR;
      const j0 = jb * NR;
      if (jb < nbFull) {
        for (let p = 0; p < kc; p++, d += NR) {
          const s = bOff + (p0 + p) * bRs + j0 * bCs;
          h[d] = b[s];
          h[d + 1] = b[s + bCs];
          h[d + 2] = b[s + 2 * bCs];
          h[d + 3] = b[s + 3 * bCs];
        }
      } else {
        for (let p = 0; p < kc; p++, d += NR) {
          const s = bOff + (p0 + p) * bRs;
          for (let r = 0; r < NR; r++) h[d + r] = j0 + r < n ? b[s + (j0 + r) * bCs] : 0;
        }
      }
    }
    const store = store0 && p0 === 0 ? 1 : 0;
    // row groups of IG panels × column blocks of NC; upperOnly skips tiles wholly below the diagonal
    // (finer row groups skip more of the lower triangle)
    e.tiles({ aAt, bAt, cBase, ldcH, kc, np, store, ig: upperOnly ? 2 : IG, upper: upperOnly ? 1 : 0 }, mb);
  }
}

/** Runs gemmCore with C staged in the heap: copied in when accumulating, copied out at the end. */
function gemmStaged(
  m: number, k: number, n: number, A: AOperand,
  b: Float64Array, bOff: number, bRs: number, bCs: number,
  c: Float64Array, cOff: number, ldc: number, accumulate: boolean, upperOnly: boolean,
): void {
  const e = engine();
  const mp = Math.ceil(m / MR) * MR;
  const np = Math.ceil(n / NR) * NR;
  const cBase = e.pinned + (e.pinned & 1);
  e.ensure(cBase + mp * np);
  let h = e.heap;
  if (accumulate) {
    for (let i = 0; i < mp; i++) {
      const hi = cBase + i * np;
      if (i < m) {
        const ci = cOff + i * ldc;
        if (n >= 32) h.set(c.subarray(ci, ci + n), hi);
        else for (let j = 0; j < n; j++) h[hi + j] = c[ci + j];
        for (let j = n; j < np; j++) h[hi + j] = 0;
      } else h.fill(0, hi, hi + np);
    }
  }
  gemmCore(e, m, k, n, A, b, bOff, bRs, bCs, cBase, np, cBase + mp * np, upperOnly, !accumulate);
  h = e.heap;
  if (!upperOnly && np === n && ldc === n) {
    c.set(h.subarray(cBase, cBase + m * n), cOff);
    return;
  }
  for (let i = 0; i < m; i++) {
    const j0 = upperOnly ? i : 0;
    const hi = cBase + i * np + j0;
    const ci = cOff + i * ldc + j0;
    const len = n - j0;
    if (len >= 32) c.set(h.subarray(hi, hi + len), ci);
    else for (let j = 0; j < len; j++) c[ci + j] = h[hi + j];
  }
}

/**
 * C (m×n) = op(A) · op(B) (+ C when accumulate), general strides: A(i,p) = a[aOff + i·aRs + p·aCs],
 * B(p,j) = b[bOff + p·bRs + j·bCs], C(i,j) = c[cOff + i·ldc + j]. upperOnly: only C(i,j) with j ≥ i is
 * computed and written (for symmetric products). Float32 operands are converted (copied) first.
 */
export function gemmStrided(
  m: number, k: number, n: number,
  a: Arr, aOff: number, aRs: number, aCs: number,
  b: Arr, bOff: number, bRs: number, bCs: number,
  c: Float64Array, cOff: number, ldc: number, accumulate = false, upperOnly = false,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0 || m * n * k <= 8192) {
    for (let i = 0; i < m; i++) {
      const ci = cOff + i * ldc;
      if (!accumulate) for (let j = 0; j < n; j++) c[ci + j] = 0;
      for (let p = 0; p < k; p++) {
        const av = a[aOff + i * aRs + p * aCs];
        if (av === 0) continue;
        const bp = bOff + p * bRs;
        for (let j = upperOnly ? i : 0; j < n; j++) c[ci + j] += av * b[bp + j * bCs];
      }
    }
    return;
  }
  const a64 = asFloat64(a);
  const bIsAT = MR === NR && m === n && a === b && aOff === bOff && aRs === bCs && aCs === bRs;
  gemmStaged(m, k, n, { packed: null, a: a64, aOff, aRs, aCs, bIsAT }, bIsAT ? a64 : asFloat64(b), bOff, bRs, bCs, c, cOff, ldc, accumulate, upperOnly);
}

/**
 * C (pa.m × n) = A · op(B) with A packed by packA (or made resident by withResident);
 * B(p,j) = b[bOff + p·bRs + j·bCs].
 */
export function gemmPacked(pa: PackedA | ResidentA, n: number, b: Float64Array, bOff: number, bRs: number, bCs: number, c: Float64Array, cOff: number, ldc: number): void {
  if (pa.m === 0 || n === 0) return;
  if (pa.k === 0) {
    for (let i = 0; i < pa.m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  const A: AOperand = 'data' in pa ? { packed: pa, a: pa.data, aOff: 0, aRs: 0, aCs: 0 } : { resident: pa, packed: null, a: new Float64Array(0), aOff: 0, aRs: 0, aCs: 0 };
  gemmStaged(pa.m, pa.k, n, A, b, bOff, bRs, bCs, c, cOff, ldc, false, false);
}

/** (m×k)(k×n) row-major; transA: a is stored k×m, transB: b is stored n×k. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number, transA = false, transB = false): Float64Array {
  if (a.length < m * k || b.length < k * n) throw new Error(`matmul: operands too short for (${m}×${k})(${k}×${n})`);
  const c = new Float64Array(m * n);
  gemmStrided(m, k, n, a, 0, transA ? 1 : k, transA ? m : 1, b, 0, transB ? 1 : n, transB ? k : 1, c, 0, n);
  return c;
}

/** A Aᵀ (rows×rows) for side 'rows', AᵀA (cols×cols) for side 'cols'; exactly symmetric. */
export function gram(a32: Float64Array | Float32Array, rows: number, cols: number, side: 'rows' | 'cols', out?: Float64Array): Float64Array {
  const a = asFloat64(a32);
  const n = side === 'rows' ? rows : cols;
  const k = side === 'rows' ? cols : rows;
  const g = out ?? new Float64Array(n * n);
  if (side === 'rows') gemmStrided(n, k, n, a, 0, cols, 1, a, 0, 1, cols, g, 0, n, false, true);
  else gemmStrided(n, k, n, a, 0, 1, cols, a, 0, cols, 1, g, 0, n, false, true);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[i * n + j] = g[j * n + i];
  return g;
}

function symmetrize(g: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (g[i * n + j] + g[j * n + i]);
      g[i * n + j] = v;
      g[j * n + i] = v;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Symmetric eigenproblem.

const EPS = 2.220446049250313e-16;

interface Tridiagonal {
  d: Float64Array;
  e: Float64Array;
  /** Householder vector k right of the diagonal in row k (row-major n×n, upper part), and the betas. */
  w: Float64Array;
  beta: Float64Array;
}

/**
 * Householder vector for row k right of the diagonal (x = h[wb + k·n + k+1..], equal to column k by
 * symmetry; contiguous): stores v there, returns beta (0 when no reflection is needed), sets d[k], e[k].
 */
function reflector(h: Float64Array, wb: number, n: number, k: number, d: Float64Array, e: Float64Array, v: Float64Array): number {
  const m = n - k - 1;
  let s2 = 0;
  const row = wb + k * n + k + 1;
  for (let i = 0; i < m; i++) {
    const x = h[row + i];
    v[i] = x;
    s2 += x * x;
  }
  d[k] = h[wb + k * n + k];
  const x0 = v[0];
  const tail = s2 - x0 * x0;
  if (tail <= 0 || !(s2 > 0)) {
    e[k] = x0;
    v.fill(0, 0, m);
    return 0;
  }
  const norm = Math.sqrt(s2);
  const alpha = x0 > 0 ? -norm : norm;
  v[0] = x0 - alpha;
  e[k] = alpha;
  for (let i = 0; i < m; i++) h[row + i] = v[i];
  return 2 / (tail + v[0] * v[0]);
}

/** Columns per panel of the blocked tridiagonalisation (8..48 measured within noise at n = 64..256). */
const TB = 16;

/**
 * A = Q T Qᵀ, Q = H_0 H_1 … H_{n-3}, H_k = I - beta_k v_k v_kᵀ acting on rows k+1.. . Blocked like
 * LAPACK's sytrd: the reflectors of a panel are built against the deferred update A - V Wᵀ - W Vᵀ, then
 * the trailing matrix takes the rank-2·TB update in one GEMM. The matrix lives in the engine's heap
 * (pinned) so that the matrix-vector products run in the wasm gemv and the GEMM updates it in place.
 * The input must be symmetric (both triangles are used).
 */
function tridiagonalize(a: Float64Array, n: number): Tridiagonal {
  const en = engine();
  const saved = en.pinned;
  const tb = n > TB + 10 ? TB : 0; // blocked pays off from n ≈ 64 up (measured), tiny n go unblocked
  // heap layout (doubles): w (n×n, plus the overhang of the GEMM's edge tiles), x, y, the panel's
  // coefficients, V and W (2·TB rows of length n), and -[W V] for the trailing GEMM
  const wb = saved + (saved & 1);
  const xb = wb + n * n + 4 * n + 8;
  const yb = xb + n + 2;
  const cb = yb + n + 2;
  const vwb = cb + 2 * TB + 2;
  const negb = vwb + 2 * tb * n;
  const end = negb + 2 * tb * n + 2;
  const np = Math.ceil(n / NR) * NR + NR;
  en.ensure(end + np * 2 * TB * 2 + 64); // + the trailing GEMM's packing scratch: no growth inside
  en.pinned = end;
  try {
    const h = en.heap;
    h.set(a.subarray(0, n * n), wb);
    h.fill(0, wb + n * n, end);
    const d = new Float64Array(n);
    const e = new Float64Array(Math.max(0, n - 1));
    const beta = new Float64Array(n);
    const v = new Float64Array(n);
    const y = new Float64Array(n);
    let k = 0;
    if (tb) {
      for (; n - 2 - k > tb + 8; k += tb) {
        const j0 = k;
        h.fill(0, vwb, vwb + 2 * tb * n);
        for (let c = 0; c < tb; c++) {
          const j = j0 + c;
          // 1. bring column j (rows j..n-1) up to date: a_j -= V W[j,:]ᵀ + W V[j,:]ᵀ
          if (c > 0) {
            for (let q = 0; q < c; q++) {
              h[cb + q] = h[vwb + (tb + q) * n + j];
              h[cb + tb + q] = h[vwb + q * n + j];
            }
            h.fill(0, yb, yb + n - j);
            en.axpys((vwb + j) * 8, n * 8, cb * 8, yb * 8, c, n - j);
            en.axpys((vwb + tb * n + j) * 8, n * 8, (cb + tb) * 8, yb * 8, c, n - j);
            for (let i = j; i < n; i++) h[wb + j * n + i] -= h[yb + i - j]; // row j (= column j)
          }
          // 2. reflector
          const bk = reflector(h, wb, n, j, d, e, v);
          beta[j] = bk;
          const m = n - j - 1;
          if (bk === 0) continue; // V, W columns stay zero
          // 3. y = bk (A_start v - V (Wᵀ v) - W (Vᵀ v)) on rows j+1..
          h.set(v.subarray(0, m), xb);
          en.gemv((wb + (j + 1) * n + j + 1) * 8, n * 8, xb * 8, yb * 8, m, m);
          if (c > 0) {
            en.gemv((vwb + tb * n + j + 1) * 8, n * 8, xb * 8, cb * 8, c, m); // Wᵀv
            en.gemv((vwb + j + 1) * 8, n * 8, xb * 8, (cb + tb) * 8, c, m); // Vᵀv
            for (let q = 0; q < c; q++) {
              h[cb + q] = -h[cb + q];
              h[cb + tb + q] = -h[cb + tb + q];
            }
            en.axpys((vwb + j + 1) * 8, n * 8, cb * 8, yb * 8, c, m); // -V (Wᵀv)
            en.axpys((vwb + tb * n + j + 1) * 8, n * 8, (cb + tb) * 8, yb * 8, c, m); // -W (Vᵀv)
          }
          let kk = 0;
          for (let i = 0; i < m; i++) {
            const yi = h[yb + i] * bk;
            y[i] = yi;
            kk += yi * v[i];
          }
          kk *= bk / 2;
          const vc = vwb + c * n + j + 1;
          const wc = vwb + (tb + c) * n + j + 1;
          for (let i = 0; i < m; i++) {
            h[vc + i] = v[i];
            h[wc + i] = y[i] - kk * v[i];
          }
        }
        // trailing block (rows, cols j1..n-1) += [V W] · (-[W V])ᵀ, in place in the heap
        const j1 = j0 + tb;
        const nt = n - j1;
        for (let q = 0; q < tb; q++) {
          for (let i = j1; i < n; i++) {
            h[negb + q * n + i] = -h[vwb + (tb + q) * n + i];
            h[negb + (tb + q) * n + i] = -h[vwb + q * n + i];
          }
        }
        gemmCore(en, nt, 2 * tb, nt, { packed: null, a: h, aOff: vwb + j1, aRs: 1, aCs: n }, h, negb + j1, n, 1, wb + j1 * n + j1, n, en.pinned, false, false);
        if (en.heap !== h) throw new Error('tridiagonalize: heap moved'); // ensured above
      }
    }
    for (; k < n - 2; k++) {
      const m = n - k - 1;
      const o = k + 1;
      const bk = reflector(h, wb, n, k, d, e, v);
      beta[k] = bk;
      if (bk === 0) continue;
      h.set(v.subarray(0, m), xb);
      en.gemv((wb + o * n + o) * 8, n * 8, xb * 8, yb * 8, m, m);
      let kk = 0;
      for (let i = 0; i < m; i++) {
        y[i] = h[yb + i] * bk;
        kk += y[i] * v[i];
      }
      kk *= bk / 2;
      for (let i = 0; i < m; i++) y[i] -= kk * v[i];
      // B -= v yᵀ + y vᵀ (both triangles, so that gemv reads whole rows)
      for (let i = 0; i < m; i++) {
        const row = wb + (o + i) * n + o;
        const vi = v[i];
        const yi = y[i];
        for (let j = 0; j < m; j++) h[row + j] -= vi * y[j] + yi * v[j];
      }
    }
    if (n >= 2) {
      d[n - 2] = h[wb + (n - 2) * n + n - 2];
      e[n - 2] = h[wb + (n - 1) * n + n - 2];
    }
    if (n >= 1) d[n - 1] = h[wb + (n - 1) * n + n - 1];
    return { d, e, w: h.slice(wb, wb + n * n), beta };
  } finally {
    en.pinned = saved;
  }
}

/** Eigenvalues of the unreduced symmetric tridiagonal (d, e) (copies), implicit QR with Wilkinson shifts. */
function tridiagonalEigenvalues(d0: Float64Array, e0: Float64Array): Float64Array {
  const n = d0.length;
  const d = Float64Array.from(d0);
  const e = Float64Array.from(e0);
  let hi = n - 1;
  let iter = 0;
  while (hi > 0) {
    if (Math.abs(e[hi - 1]) <= EPS * (Math.abs(d[hi - 1]) + Math.abs(d[hi]))) {
      e[hi - 1] = 0;
      hi--;
      iter = 0;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && Math.abs(e[lo - 1]) > EPS * (Math.abs(d[lo - 1]) + Math.abs(d[lo]))) lo--;
    if (++iter > 60) {
      // Not converging (should not happen): accept the current diagonal entry.
      e[hi - 1] = 0;
      continue;
    }
    const delta = (d[hi - 1] - d[hi]) / 2;
    const b = e[hi - 1];
    const mu = d[hi] - (b * b) / (delta + (delta >= 0 ? 1 : -1) * Math.sqrt(delta * delta + b * b));
    let x = d[lo] - mu;
    let z = e[lo];
    for (let k = lo; k < hi; k++) {
      const r = Math.sqrt(x * x + z * z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : z / r;
      if (k > lo) e[k - 1] = r;
      const dk = d[k];
      const dk1 = d[k + 1];
      const ek = e[k];
      d[k] = c * c * dk + 2 * c * s * ek + s * s * dk1;
      d[k + 1] = s * s * dk - 2 * c * s * ek + c * c * dk1;
      e[k] = c * s * (dk1 - dk) + (c * c - s * s) * ek;
      if (k < hi - 1) {
        x = e[k];
        z = s * e[k + 1];
        e[k + 1] *= c;
      }
    }
  }
  return d;
}

/**
 * Inverse iteration on the unreduced tridiagonal block (d, e) for eigenvalues `lams` (descending);
 * returns the unit vectors one after another (vector j at j·m).
 *
 * Orthogonality: a vector from inverse iteration is within ~eps·||T||/gap of its eigenvector, so two of
 * them overlap by about that much. Vectors whose eigenvalues are closer than 1e-9·||T|| (which inverse
 * iteration cannot tell apart) are Gram-Schmidt'ed against each other as they are computed; runs of
 * eigenvalues chained by gaps below 1e-5·||T|| are then made orthonormal at once (polishOrthonormal;
 * pairs farther apart overlap by < ~2e-11). The overlaps it removes are ~eps·||T||/gap, so the mixing
 * changes a residual by ~eps·||T|| only (measured: such runs are orthogonal to ~1e-15 already, the
 * polish is a guard for the worst case). stein re-orthogonalises every vector against its whole cluster instead, which costs
 * O(k²·m) when a noise bulk chains most of the spectrum (a low-rank-plus-noise conv kernel: ~9 ms of a
 * 256×256 top-128 eigensolve).
 */
function tridiagonalVectors(d: Float64Array, e: Float64Array, lams: readonly number[], seed: number): Float64Array {
  const m = d.length;
  const kk = lams.length;
  if (m === 1) return new Float64Array(kk).fill(1);
  // the vectors live in the engine's heap, so that the cluster re-orthogonalisation (dots against the
  // earlier vectors, then their combination subtracted) runs in the wasm gemv / axpys kernels
  const en = engine();
  const saved = en.pinned;
  const ob = saved + (saved & 1);
  const xb = ob + m * kk + 2;
  const cb = xb + m + 2;
  en.ensure(cb + kk + 2);
  en.pinned = cb + kk + 2;
  let out: { vectors: Float64Array; chains: [number, number][] };
  try {
    out = inverseIteration(en, ob, xb, cb, d, e, lams, seed);
  } finally {
    en.pinned = saved;
  }
  for (const [c0, c1] of out.chains) polishOrthonormal(out.vectors, m, c0, c1);
  return out.vectors;
}

/**
 * Rows c0..c1-1 of v (vectors of length m, nearly orthonormal: overlaps δ ≪ 1) made orthonormal by
 * Newton-Schulz steps towards the polar factor, V ← (3/2·I − 1/2·V Vᵀ) V: each step squares the
 * overlaps (δ → ~3/4·δ²), all in GEMMs, and each vector moves by ~δ/2 towards its neighbours only.
 */
function polishOrthonormal(v: Float64Array, m: number, c0: number, c1: number): void {
  const nc = c1 - c0;
  const block = v.subarray(c0 * m, c1 * m);
  for (let step = 0; step < 3; step++) {
    const g = gram(block, nc, m, 'rows');
    let off = 0;
    for (let i = 0; i < nc; i++) for (let j = 0; j < nc; j++) off = Math.max(off, Math.abs(g[i * nc + j] - (i === j ? 1 : 0)));
    if (off <= 1e-14 || off > 0.25) return; // orthonormal already / not nearly so: leave as computed
    for (let i = 0; i < nc * nc; i++) g[i] *= -0.5;
    for (let i = 0; i < nc; i++) g[i * nc + i] += 1.5;
    block.set(matmul(g, block, nc, nc, m));
    if (off < 1e-7) return; // the next overlaps are ~off² plus rounding
  }
}

function inverseIteration(
  en: Engine, ob: number, xb: number, cb: number, d: Float64Array, e: Float64Array, lams: readonly number[], seed: number,
): { vectors: Float64Array; chains: [number, number][] } {
  const m = d.length;
  const kk = lams.length;
  const h = en.heap;
  let norm = 0;
  for (let i = 0; i < m; i++) norm = Math.max(norm, Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < m - 1 ? Math.abs(e[i]) : 0));
  if (norm === 0) norm = 1;
  // Gram-Schmidt inside a window of eigenvalues within wtol (inverse iteration cannot separate closer
  // ones); pairs up to ctol apart are chained and polished afterwards (overlaps there are ~eps·norm/gap).
  const wtol = 1e-9 * norm;
  const ctol = 1e-5 * norm;
  const pertol = 10 * EPS * norm;
  const tiny = EPS * norm;
  const u0 = new Float64Array(m);
  const u1 = new Float64Array(m);
  const u2 = new Float64Array(m);
  const mult = new Float64Array(m);
  const swap = new Uint8Array(m);
  const x = new Float64Array(m);
  const pair = new Float64Array(2);
  let state = (seed | 1) >>> 0;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2147483648 - 1;
  };
  // chains (consecutive gaps <= ctol) in which some pair fell outside each other's window
  const chains: [number, number][] = [];
  let chainStart = 0;
  let chainLoose = false;
  let windowStart = 0;
  let prev = Infinity;
  for (let j = 0; j < kk; j++) {
    let lam = lams[j];
    if (j > 0 && lams[j - 1] - lams[j] > ctol) {
      if (chainLoose) chains.push([chainStart, j]);
      chainStart = j;
      chainLoose = false;
    }
    while (lams[windowStart] - lams[j] > wtol) windowStart++;
    if (windowStart > chainStart) chainLoose = true;
    if (j > 0 && prev - lam < pertol) lam = prev - pertol;
    prev = lam;
    // LU with partial pivoting of T - lam I
    let pd = d[0] - lam;
    let ps = e[0];
    for (let i = 0; i < m - 1; i++) {
      const a = e[i];
      const bb = d[i + 1] - lam;
      const cc = i + 1 < m - 1 ? e[i + 1] : 0;
      if (Math.abs(pd) >= Math.abs(a)) {
        swap[i] = 0;
        if (pd === 0) pd = tiny;
        const l = a / pd;
        mult[i] = l;
        u0[i] = pd;
        u1[i] = ps;
        u2[i] = 0;
        pd = bb - l * ps;
        ps = cc;
      } else {
        swap[i] = 1;
        const l = pd / a;
        mult[i] = l;
        u0[i] = a;
        u1[i] = bb;
        u2[i] = cc;
        pd = ps - l * bb;
        ps = -l * cc;
      }
    }
    u0[m - 1] = pd === 0 ? tiny : pd;
    for (let i = 0; i < m; i++) {
      if (Math.abs(u0[i]) < tiny) u0[i] = u0[i] < 0 ? -tiny : tiny;
      u0[i] = 1 / u0[i]; // reciprocal pivots from here on
    }
    for (let i = 0; i < m; i++) x[i] = uniform();
    for (let it = 0; it < 6; it++) {
      // solve (T - lam I) y = x in place
      // (branch-free row swaps: the pivoting pattern is data-dependent and mispredicts)
      for (let i = 0; i < m - 1; i++) {
        pair[0] = x[i];
        pair[1] = x[i + 1];
        const sw = swap[i];
        const p = pair[sw];
        x[i] = p;
        x[i + 1] = pair[1 - sw] - mult[i] * p;
      }
      x[m - 1] *= u0[m - 1];
      x[m - 2] = (x[m - 2] - u1[m - 2] * x[m - 1]) * u0[m - 2];
      for (let i = m - 3; i >= 0; i--) x[i] = (x[i] - u1[i] * x[i + 1] - u2[i] * x[i + 2]) * u0[i];
      let growth = 0;
      for (let i = 0; i < m; i++) growth += x[i] * x[i];
      growth = Math.sqrt(growth);
      // re-orthogonalise against the window's earlier vectors (classical Gram-Schmidt, twice)
      const nc = j - windowStart;
      if (nc > 0) {
        h.set(x, xb);
        for (let pass = 0; pass < 2; pass++) {
          en.gemv((ob + windowStart * m) * 8, m * 8, xb * 8, cb * 8, nc, m);
          for (let q = 0; q < nc; q++) h[cb + q] = -h[cb + q];
          en.axpys((ob + windowStart * m) * 8, m * 8, cb * 8, xb * 8, nc, m);
        }
        for (let i = 0; i < m; i++) x[i] = h[xb + i];
      }
      let nx = growth;
      if (nc > 0) {
        nx = 0;
        for (let i = 0; i < m; i++) nx += x[i] * x[i];
        nx = Math.sqrt(nx);
      }
      if (!(nx > 0) || !Number.isFinite(nx)) {
        for (let i = 0; i < m; i++) x[i] = uniform();
        continue;
      }
      const inx = 1 / nx;
      for (let i = 0; i < m; i++) x[i] *= inx;
      // two solves at least (one from a random start leaves ~1e-10 orthogonality errors)
      if (it >= 1 && growth * 1e-9 * norm >= 1) break;
    }
    // deterministic sign: largest-magnitude component positive
    let big = 0;
    for (let i = 1; i < m; i++) if (Math.abs(x[i]) > Math.abs(x[big]) + 1e-12) big = i;
    const sg = x[big] < 0 ? -1 : 1;
    for (let i = 0; i < m; i++) h[ob + j * m + i] = sg * x[i];
  }
  if (chainLoose) chains.push([chainStart, kk]);
  return { vectors: h.slice(ob, ob + m * kk), chains };
}

/** z (n×k) := H_0 H_1 … H_{n-3} z: blocks of WB reflectors as I - V T Vᵀ applied with GEMMs. */
function backTransform(t: Tridiagonal, n: number, z: Float64Array, k: number): void {
  const WB = 32;
  const last = n - 3; // reflectors 0..n-3
  if (last < 0) return;
  const tt = new Float64Array(WB * WB);
  for (let j0 = Math.floor(last / WB) * WB; j0 >= 0; j0 -= WB) {
    const j1 = Math.min(j0 + WB, last + 1);
    const nb = j1 - j0;
    const r0 = j0 + 1;
    const rows = n - r0;
    // V (rows×nb): column c is reflector j0+c, supported on global rows j0+c+1..n-1
    const v = new Float64Array(rows * nb);
    for (let c = 0; c < nb; c++) {
      const j = j0 + c;
      if (t.beta[j] === 0) continue;
      for (let i = j + 1; i < n; i++) v[(i - r0) * nb + c] = t.w[j * n + i];
    }
    // T upper triangular: H_{j0} … H_{j1-1} = I - V T Vᵀ, from the Gram VᵀV
    const vtv = gram(v, rows, nb, 'cols');
    tt.fill(0, 0, nb * nb);
    for (let c = 0; c < nb; c++) {
      const bc = t.beta[j0 + c];
      for (let q = 0; q < c; q++) {
        let sum = 0;
        for (let p = q; p < c; p++) sum += tt[q * nb + p] * vtv[p * nb + c];
        tt[q * nb + c] = -bc * sum;
      }
      tt[c * nb + c] = bc;
    }
    for (let i = 0; i < nb * nb; i++) tt[i] = -tt[i];
    // z[r0:, :] += V ((-T) (Vᵀ z[r0:, :]))
    const w1 = new Float64Array(nb * k);
    gemmStrided(nb, rows, k, v, 0, 1, nb, z, r0 * k, k, 1, w1, 0, k);
    const w2 = new Float64Array(nb * k);
    gemmStrided(nb, nb, k, tt, 0, nb, 1, w1, 0, k, 1, w2, 0, k);
    gemmStrided(rows, nb, k, v, 0, nb, 1, w2, 0, k, 1, z, r0 * k, k, true);
  }
}

/** A NaN or infinity would never converge in the QR sweeps: refuse it up front. */
function checkFinite(fn: string, a: Float64Array, n: number): void {
  if (a.length < n * n) throw new Error(`${fn}: matrix has ${a.length} values, ${n}×${n} needs ${n * n}`);
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`${fn}: entry (${Math.floor(i / n)}, ${i % n}) is ${a[i]}; the matrix must be finite`);
  }
}

/**
 * The k largest eigenpairs of the symmetric n×n matrix a (row-major; both triangles are read as given,
 * the lower one is used). values descending; vectors n×k row-major, columns orthonormal.
 */
export function symmetricTopEigen(a: Float64Array, n: number, k: number): { values: Float64Array; vectors: Float64Array } {
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`symmetricTopEigen: k = ${k} must be an integer in [0, ${n}]`);
  const values = new Float64Array(k);
  const vectors = new Float64Array(n * k);
  if (k === 0 || n === 0) return { values, vectors };
  checkFinite('symmetricTopEigen', a, n);
  const t = tridiagonalize(a, n);
  // split into unreduced blocks
  const blocks: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < n - 1; i++) {
    if (Math.abs(t.e[i]) <= EPS * (Math.abs(t.d[i]) + Math.abs(t.d[i + 1]))) {
      blocks.push([start, i + 1]);
      start = i + 1;
    }
  }
  blocks.push([start, n]);
  const all: { lam: number; block: number }[] = [];
  blocks.forEach(([b0, b1], bi) => {
    const lam = tridiagonalEigenvalues(t.d.subarray(b0, b1), t.e.subarray(b0, Math.max(b0, b1 - 1)));
    for (const l of lam) all.push({ lam: l, block: bi });
  });
  all.sort((x, y) => y.lam - x.lam || x.block - y.block);
  const chosen = all.slice(0, k);
  // eigenvectors of T, block by block, into z (n×k)
  const z = new Float64Array(n * k);
  blocks.forEach(([b0, b1], bi) => {
    const cols: number[] = [];
    chosen.forEach((c, j) => {
      if (c.block === bi) cols.push(j);
    });
    if (!cols.length) return;
    const lams = cols.map((j) => chosen[j].lam);
    const vb = tridiagonalVectors(t.d.subarray(b0, b1), t.e.subarray(b0, Math.max(b0, b1 - 1)), lams, 0x5eed + bi);
    const m = b1 - b0;
    cols.forEach((col, c) => {
      for (let i = 0; i < m; i++) z[(b0 + i) * k + col] = vb[c * m + i];
    });
  });
  backTransform(t, n, z, k);
  for (let j = 0; j < k; j++) values[j] = chosen[j].lam;
  vectors.set(z);
  return { values, vectors };
}

/** All eigenpairs of a symmetric matrix: values descending, vectors n×n with column j the j-th eigenvector. */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  return symmetricTopEigen(a, n, n);
}

/** Eigenvalues only (descending), O(4/3 n³ + n²). */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (n === 0) return new Float64Array(0);
  checkFinite('symmetricEigenvalues', a, n);
  const t = tridiagonalize(a, n);
  const out = Array.from(tridiagonalEigenvalues(t.d, t.e));
  out.sort((x, y) => y - x);
  return Float64Array.from(out);
}

// ---------------------------------------------------------------------------------------------------
// SVD through the Gram of the small side.

export interface Svd {
  u: Float64Array;
  s: Float64Array;
  v: Float64Array;
  rank: number;
}

function checkRank(fn: string, rank: number, limit: number, what: string): void {
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`${fn}: rank ${rank} must be an integer >= 1`);
  if (rank > limit) throw new Error(`${fn}: rank ${rank} exceeds ${what} = ${limit}`);
}

/**
 * Orthonormalises column j of x (rows×cols row-major) against columns 0..j-1 (two passes of
 * Gram-Schmidt); replaces it by a seeded random direction when it is (numerically) in their span.
 */
function completeColumn(x: Float64Array, rows: number, cols: number, j: number, rng: Rng, tol: number): void {
  for (let attempt = 0; attempt < 8; attempt++) {
    let before = 0;
    for (let i = 0; i < rows; i++) before += x[i * cols + j] ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let q = 0; q < j; q++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += x[i * cols + q] * x[i * cols + j];
        for (let i = 0; i < rows; i++) x[i * cols + j] -= dot * x[i * cols + q];
      }
    }
    let nn = 0;
    for (let i = 0; i < rows; i++) nn += x[i * cols + j] ** 2;
    if (nn > 0 && nn > tol * tol * before && nn > 1e-300) {
      const inv = 1 / Math.sqrt(nn);
      for (let i = 0; i < rows; i++) x[i * cols + j] *= inv;
      return;
    }
    for (let i = 0; i < rows; i++) x[i * cols + j] = rng.normal();
  }
  throw new Error('completeColumn: could not find an orthogonal direction');
}

/**
 * Rank-`rank` truncated SVD A ≈ U diag(s) Vᵀ of a rows×cols row-major matrix. u is rows×rank, v is
 * cols×rank (orthonormal columns), s descending, rank = the number of components returned
 * (= min(rank, rows, cols)). Singular values below ~1e-7·s_max are at the Gram's noise floor; their
 * vectors are still orthonormal (completed by seeded Gram-Schmidt where needed).
 */
export function truncatedSvd(a32: Float64Array | Float32Array, rows: number, cols: number, rank: number): Svd {
  const a = asFloat64(a32);
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`truncatedSvd: rank ${rank} must be an integer >= 1`);
  const r = Math.min(rank, rows, cols);
  const wide = rows <= cols;
  const small = wide ? rows : cols;
  const big = wide ? cols : rows;
  const g = gram(a, rows, cols, wide ? 'rows' : 'cols');
  const { values, vectors } = symmetricTopEigen(g, small, r);
  const s = new Float64Array(r);
  for (let j = 0; j < r; j++) s[j] = Math.sqrt(Math.max(0, values[j]));
  // other side: W = op(A) · E / s  (big×r)
  const other = new Float64Array(big * r);
  if (wide) gemmStrided(big, small, r, a, 0, 1, cols, vectors, 0, r, 1, other, 0, r);
  else gemmStrided(big, small, r, a, 0, cols, 1, vectors, 0, r, 1, other, 0, r);
  const smax = s[0];
  const rng = new Rng(0x5fd);
  for (let j = 0; j < r; j++) {
    const sj = s[j];
    const reliable = sj > 1e-7 * smax && sj > 0;
    if (reliable) for (let i = 0; i < big; i++) other[i * r + j] /= sj;
    if (!reliable) {
      for (let i = 0; i < big; i++) other[i * r + j] = rng.normal();
      completeColumn(other, big, r, j, rng, 1e-6);
    } else if (sj < 1e-4 * smax) completeColumn(other, big, r, j, rng, 1e-6);
  }
  return wide ? { u: vectors, s, v: other, rank: r } : { u: other, s, v: vectors, rank: r };
}

/** All min(rows, cols) singular values, descending (Gram of the small side; see the precision note). */
export function singularValues(a: Float64Array | Float32Array, rows: number, cols: number): Float64Array {
  const wide = rows <= cols;
  const g = gram(a, rows, cols, wide ? 'rows' : 'cols');
  const ev = symmetricEigenvalues(g, wide ? rows : cols);
  return ev.map((x) => Math.sqrt(Math.max(0, x)));
}

/**
 * rows×rank orthonormal: the leading left singular vectors, from the Gram of the SMALL side (never a
 * full SVD of a long unfolding). rank must be in [1, rows]; beyond cols (zero singular values) the
 * columns are an orthonormal completion.
 */
export function leadingLeftSingularVectors(a32: Float64Array | Float32Array, rows: number, cols: number, rank: number): Float64Array {
  const a = asFloat64(a32);
  checkRank('leadingLeftSingularVectors', rank, rows, 'the number of rows');
  if (rows <= cols) {
    const g = gram(a, rows, cols, 'rows');
    return symmetricTopEigen(g, rows, rank).vectors;
  }
  const g = gram(a, rows, cols, 'cols');
  const r = Math.min(rank, cols);
  const { values, vectors } = symmetricTopEigen(g, cols, r);
  const u = new Float64Array(rows * rank);
  gemmStrided(rows, cols, r, a, 0, cols, 1, vectors, 0, r, 1, u, 0, rank);
  const smax = Math.sqrt(Math.max(0, values[0]));
  const rng = new Rng(0x1e5);
  for (let j = 0; j < rank; j++) {
    const sj = j < r ? Math.sqrt(Math.max(0, values[j])) : 0;
    if (sj > 1e-7 * smax && sj > 0) {
      for (let i = 0; i < rows; i++) u[i * rank + j] /= sj;
      if (sj < 1e-4 * smax) completeColumn(u, rows, rank, j, rng, 1e-6);
    } else {
      for (let i = 0; i < rows; i++) u[i * rank + j] = rng.normal();
      completeColumn(u, rows, rank, j, rng, 1e-6);
    }
  }
  return u;
}

// ---------------------------------------------------------------------------------------------------
// Symmetric (semi)definite solves.

/** In-place Cholesky A = L Lᵀ on the lower triangle; false when A is not numerically positive definite. */
function cholesky(l: Float64Array, n: number): boolean {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(l[i * n + i]));
  if (!(maxDiag > 0) || !Number.isFinite(maxDiag)) return false;
  const floor = n * 1e-14 * maxDiag;
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let djj = l[rj + j];
    for (let p = 0; p < j; p++) djj -= l[rj + p] * l[rj + p];
    if (!(djj > floor)) return false;
    const ljj = Math.sqrt(djj);
    l[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = l[ri + j];
      for (let p = 0; p < j; p++) s -= l[ri + p] * l[rj + p];
      l[ri + j] = s * inv;
    }
  }
  return true;
}

/** A + ridge·I, symmetrised (into `into` when given). */
function withRidge(a: Float64Array, n: number, ridge: number, into?: Float64Array): Float64Array {
  const s = into ?? new Float64Array(n * n);
  s.set(a.subarray(0, n * n));
  if (ridge) for (let i = 0; i < n; i++) s[i * n + i] += ridge;
  symmetrize(s, n);
  return s;
}

/** Pseudo-inverse of a symmetric matrix (eigenvalues below n·eps·|λ|max dropped). */
function pinvSymmetric(sym: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(sym, n);
  const cut = n * EPS * Math.max(Math.abs(values[0]), Math.abs(values[n - 1]));
  const scaled = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) scaled[i * n + j] = values[j] > cut ? vectors[i * n + j] / values[j] : 0;
  const out = matmul(scaled, vectors, n, n, n, false, true);
  symmetrize(out, n);
  return out;
}

/** Reused workspace of spdInverse (single-threaded; not re-entrant, and spdInverse does not recurse). */
let spdWork: { n: number; sym: Float64Array; l: Float64Array; li: Float64Array } = { n: -1, sym: new Float64Array(0), l: new Float64Array(0), li: new Float64Array(0) };

/**
 * (A + ridge·I)⁻¹ for symmetric positive (semi)definite A: Cholesky, the triangular inverse, then
 * L⁻ᵀL⁻¹ by GEMM; the pseudo-inverse when A is not numerically positive definite.
 */
export function spdInverse(a: Float64Array, n: number, ridge = 0, out?: Float64Array): Float64Array {
  if (spdWork.n !== n) spdWork = { n, sym: new Float64Array(n * n), l: new Float64Array(n * n), li: new Float64Array(n * n) };
  const { sym, l, li } = spdWork;
  withRidge(a, n, ridge, sym);
  l.set(sym);
  if (!cholesky(l, n)) {
    const p = pinvSymmetric(Float64Array.from(sym), n);
    if (!out) return p;
    out.set(p);
    return out;
  }
  // Li = L⁻¹ (lower), row by row: Li[i, :] = (e_i - Σ_{p<i} L[i,p] Li[p, :]) / L[i,i]
  li.fill(0);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let p = 0; p < i; p++) {
      const lip = l[ri + p];
      if (lip === 0) continue;
      const rp = p * n;
      for (let j = 0; j <= p; j++) li[ri + j] -= lip * li[rp + j];
    }
    const inv = 1 / l[ri + i];
    for (let j = 0; j < i; j++) li[ri + j] *= inv;
    li[ri + i] = inv;
  }
  const inv = out ?? new Float64Array(n * n);
  gemmStrided(n, n, n, li, 0, 1, n, li, 0, n, 1, inv, 0, n, false, true);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) inv[i * n + j] = inv[j * n + i];
  return inv;
}

/**
 * Solves A X = B, A n×n symmetric positive (semi)definite, B n×nrhs row-major; returns X (n×nrhs).
 * ridge is added to A's diagonal first. Cholesky (many right-hand sides: the inverse and one GEMM); if
 * A (+ridge) is not numerically positive definite, the pseudo-inverse from the eigendecomposition.
 */
export function solveSpd(a: Float64Array, b: Float64Array, n: number, nrhs: number, ridge = 0): Float64Array {
  if (a.length < n * n || b.length < n * nrhs) throw new Error(`solveSpd: operands too short for n = ${n}, nrhs = ${nrhs}`);
  if (n >= 32 && nrhs >= n / 2) return matmul(spdInverse(a, n, ridge), b, n, n, nrhs);
  if (spdWork.n !== n) spdWork = { n, sym: new Float64Array(n * n), l: new Float64Array(n * n), li: new Float64Array(n * n) };
  const { sym, l } = spdWork;
  withRidge(a, n, ridge, sym);
  l.set(sym);
  if (!cholesky(l, n)) return matmul(pinvSymmetric(Float64Array.from(sym), n), b, n, n, nrhs);
  const x = Float64Array.from(b.subarray(0, n * nrhs));
  // forward: L y = b
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const xi = i * nrhs;
    for (let p = 0; p < i; p++) {
      const lip = l[ri + p];
      if (lip === 0) continue;
      const xp = p * nrhs;
      for (let c = 0; c < nrhs; c++) x[xi + c] -= lip * x[xp + c];
    }
    const inv = 1 / l[ri + i];
    for (let c = 0; c < nrhs; c++) x[xi + c] *= inv;
  }
  // backward: Lᵀ x = y
  for (let i = n - 1; i >= 0; i--) {
    const xi = i * nrhs;
    for (let p = i + 1; p < n; p++) {
      const lpi = l[p * n + i];
      if (lpi === 0) continue;
      const xp = p * nrhs;
      for (let c = 0; c < nrhs; c++) x[xi + c] -= lpi * x[xp + c];
    }
    const inv = 1 / l[i * n + i];
    for (let c = 0; c < nrhs; c++) x[xi + c] *= inv;
  }
  return x;
}
