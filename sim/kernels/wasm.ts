// The WebAssembly module of the simulator's matrix kernels, assembled byte by byte (no toolchain):
// one generic packed GEMM loop nest instantiated for float32 (f32x4 mul + add, or relaxed_madd where the
// engine validates it) and for int16 → int32 (i32x4.dot_i16x8_s: 8 multiply-adds per instruction), the
// B-panel packers, and a row compaction helper. See gemm.ts for the layout and the measurements.

import { I32, leb, section, str, V128, vec } from '../../compiler/util/wasm-encode.js';
import {
  ADD, AND, BLOCK, br, brIf, ELSE, emitter, END, EQZ, F32X4_ADD, F32X4_MUL, F32X4_RELAXED_MADD, GE_S, GE_U, get, I32X4_ADD, I32X4_DOT_I16X8_S, i32, IF, LOOP, LT_S, LT_U,
  MEMCOPY, MUL, SELECT, set, shuffle, splat32, SUB, tee, vload, vstore, vzero,
} from './wasm-ops.js';

// ---------------------------------------------------------------------------------------------------
// The GEMM loop nest.

/** The element kind of a kernel and how its multiply-add is spelled. */
export type KernelKind = 'f32' | 'f32fma' | 'i16';

export interface TileShape {
  /** rows of A per micro-tile (one splatted A value each) */
  mr: number;
  /** columns per micro-tile, a multiple of 4 (of 8 for i16: the packer interleaves 8 columns at a time) */
  nr: number;
  /** k steps per iteration of the main loop (V8 unrolls loops itself: 1 measured best) */
  unroll: number;
  /** pack A into MR-row panels first (else the micro-kernel reads MR rows of A in place) */
  packA: boolean;
}

/** Parameters of the GEMM function (all i32; addresses and strides in bytes). */
export const GEMM_PARAMS = ['a', 'lda', 'bp', 'c', 'ldc', 'ks', 'nb', 'r0', 'r1', 'accumulate', 'kcMax', 'ig', 'ncp', 'ap', 'mp'] as const;

/**
 * C[rows r0·MR .. r1·MR) (+)= A · B over k steps of 4 bytes of A each (one float32, or a pair of int16
 * along k). A is row-major at a (lda bytes per row), read in place MR rows at a time; with t.packA the
 * function first packs its own row panels [r0, r1) into ap instead: k-blocks of kcMax steps one after
 * another (block p0 at ap + p0·mp·4), each holding the panels of MR rows (kc steps × MR lanes of 4
 * bytes) in order. B is packed by the packer that way with column panels of NR columns (block p0 at
 * bp + p0·nb·NR·4). Per k-block, row groups of ig
 * panels × column blocks of ncp panels; per micro-tile the accumulators start at zero and C is stored
 * (first k-block, unless accumulate) or added to. The order of the arithmetic for one C element never
 * depends on r0/r1, so a second thread on other rows gives bit-identical results.
 */
function gemmBody(kind: KernelKind, t: TileShape): number[] {
  const { mr, nr, unroll, packA } = t;
  const nv = nr / 4;
  const [a, lda, bp, cBase, ldc, ks, nb, r0, r1, accumulate, kcMax, ig, ncp, ap, mp] = GEMM_PARAMS.map((_, i) => i);
  let l = GEMM_PARAMS.length;
  const p0 = l++;
  const kc = l++;
  const store = l++;
  const blockA = l++;
  const blockB = l++;
  const g0 = l++;
  const g1 = l++;
  const c0 = l++;
  const c1 = l++;
  const ib = l++;
  const jb = l++;
  const apan = l++;
  const crow = l++;
  const pa = l++;
  const b = l++;
  const end = l++;
  const cp = l++;
  const np4 = l++;
  const panelB = l++;
  const panelA = l++;
  const src = l++;
  const r = l++;
  const ar: number[] = [];
  for (let rr = 0; rr < mr; rr++) ar.push(l++);
  const nI32 = l - GEMM_PARAMS.length;
  const acc: number[] = [];
  for (let q = 0; q < mr * nv; q++) acc.push(l++);
  const bv: number[] = [];
  for (let v = 0; v < nv; v++) bv.push(l++);
  const sv = l++;
  const nV = l - GEMM_PARAMS.length - nI32;

  const { code, c } = emitter();
  const madd = (q: number, v: number): number[][] => {
    if (kind === 'f32fma') return [get(sv), get(bv[v]), get(acc[q]), F32X4_RELAXED_MADD, set(acc[q])];
    if (kind === 'i16') return [get(acc[q]), get(sv), get(bv[v]), I32X4_DOT_I16X8_S, I32X4_ADD, set(acc[q])];
    return [get(acc[q]), get(sv), get(bv[v]), F32X4_MUL, F32X4_ADD, set(acc[q])];
  };
  const VADD = kind === 'i16' ? I32X4_ADD : F32X4_ADD;
  /** One k step at A offset u·MR·4 and B offset u·NR·4 from the current pointers. */
  const step = (u: number) => {
    for (let v = 0; v < nv; v++) c(get(b), vload((u * nv + v) * 16), set(bv[v]));
    for (let rr = 0; rr < mr; rr++) {
      if (packA) c(get(pa), splat32((u * mr + rr) * 4), set(sv));
      else c(get(ar[rr]), splat32(u * 4), set(sv));
      for (let v = 0; v < nv; v++) c(...madd(rr * nv + v, v));
    }
  };
  /** for (x = from; x < to; x += by) { body } with from/to/by as code */
  const forLoop = (x: number, from: number[][], to: number[][], by: number[][], body: () => void) => {
    c(...from, set(x));
    c(BLOCK, LOOP, get(x), ...to, GE_S, brIf(1));
    body();
    c(get(x), ...by, ADD, set(x), br(0), END, END);
  };
  const minInto = (x: number, lhs: number[][], rhs: number[][]) => {
    // x = min(lhs, rhs) (signed)
    c(...lhs, tee(x), ...rhs, get(x), ...rhs, LT_S, SELECT, set(x));
  };

  /** Moves the A pointer(s) on by `steps` k steps. */
  const advanceA = (steps: number) => {
    if (packA) c(get(pa), i32(mr * 4 * steps), ADD, set(pa));
    else for (const x of ar) c(get(x), i32(4 * steps), ADD, set(x));
  };

  c(get(nb), i32(nr * 4), MUL, set(np4));
  // pack A: panels [r0, r1) of every k-block
  if (packA) forLoop(ib, [get(r0)], [get(r1)], [i32(1)], () => {
    forLoop(p0, [i32(0)], [get(ks)], [get(kcMax)], () => {
      minInto(kc, [get(ks), get(p0), SUB], [get(kcMax)]);
      forLoop(r, [i32(0)], [i32(mr)], [i32(1)], () => {
        c(get(a), get(ib), i32(mr), MUL, get(r), ADD, get(lda), MUL, ADD, get(p0), i32(4), MUL, ADD, set(src));
        c(get(ap), get(p0), get(mp), MUL, i32(4), MUL, ADD, get(ib), get(kc), MUL, i32(mr * 4), MUL, ADD, get(r), i32(4), MUL, ADD, set(pa));
        c(get(pa), get(kc), i32(mr * 4), MUL, ADD, set(end));
        c(BLOCK, LOOP, get(pa), get(end), GE_U, brIf(1));
        c(get(pa), get(src), [0x28, 2, 0], [0x36, 2, 0]); // i32.store(pa, i32.load(src))
        c(get(src), i32(4), ADD, set(src), get(pa), i32(mr * 4), ADD, set(pa), br(0), END, END);
      });
    });
  });
  forLoop(p0, [i32(0)], [get(ks)], [get(kcMax)], () => {
    minInto(kc, [get(ks), get(p0), SUB], [get(kcMax)]);
    c(get(p0), EQZ, get(accumulate), EQZ, AND, set(store));
    c(get(bp), get(p0), get(np4), MUL, ADD, set(blockB));
    c(get(ap), get(p0), get(mp), MUL, i32(4), MUL, ADD, set(blockA));
    c(get(kc), i32(nr * 4), MUL, set(panelB));
    c(get(kc), i32(mr * 4), MUL, set(panelA));
    forLoop(g0, [get(r0)], [get(r1)], [get(ig)], () => {
      minInto(g1, [get(g0), get(ig), ADD], [get(r1)]);
      forLoop(c0, [i32(0)], [get(nb)], [get(ncp)], () => {
        minInto(c1, [get(c0), get(ncp), ADD], [get(nb)]);
        forLoop(ib, [get(g0)], [get(g1)], [i32(1)], () => {
          if (packA) c(get(blockA), get(ib), get(panelA), MUL, ADD, set(apan));
          else c(get(a), get(ib), i32(mr), MUL, get(lda), MUL, ADD, get(p0), i32(4), MUL, ADD, set(apan));
          c(get(cBase), get(ib), i32(mr), MUL, get(ldc), MUL, ADD, set(crow));
          forLoop(jb, [get(c0)], [get(c1)], [i32(1)], () => {
            if (packA) c(get(apan), set(pa));
            else for (let rr = 0; rr < mr; rr++) c(rr ? get(ar[rr - 1]) : get(apan), ...(rr ? [get(lda), ADD] : []), set(ar[rr]));
            c(get(blockB), get(jb), get(panelB), MUL, ADD, tee(b), get(panelB), ADD, set(end));
            for (const q of acc) c(vzero(), set(q));
            if (unroll > 1) {
              // main loop while at least `unroll` steps remain, then single steps
              c(get(end), i32(nr * 4 * (unroll - 1)), SUB, set(src));
              c(BLOCK, LOOP, get(b), get(src), GE_U, brIf(1));
              for (let u = 0; u < unroll; u++) step(u);
              advanceA(unroll);
              c(get(b), i32(nr * 4 * unroll), ADD, set(b), br(0), END, END);
              c(BLOCK, LOOP, get(b), get(end), GE_U, brIf(1));
              step(0);
              advanceA(1);
              c(get(b), i32(nr * 4), ADD, set(b), br(0), END, END);
            } else {
              c(LOOP);
              step(0);
              advanceA(1);
              c(get(b), i32(nr * 4), ADD, tee(b), get(end), LT_U, brIf(0), END);
            }
            // C tile
            c(get(crow), get(jb), i32(nr * 4), MUL, ADD, set(cp));
            c(get(store), IF);
            for (let rr = 0; rr < mr; rr++) {
              for (let v = 0; v < nv; v++) c(get(cp), get(acc[rr * nv + v]), vstore(v * 16));
              if (rr < mr - 1) c(get(cp), get(ldc), ADD, set(cp));
            }
            c(ELSE);
            for (let rr = 0; rr < mr; rr++) {
              for (let v = 0; v < nv; v++) c(get(cp), get(cp), vload(v * 16), get(acc[rr * nv + v]), VADD, vstore(v * 16));
              if (rr < mr - 1) c(get(cp), get(ldc), ADD, set(cp));
            }
            c(END);
          });
        });
      });
    });
  });
  c(END);
  return [...vec([[...leb(nI32), I32], [...leb(nV), V128]]), ...code];
}

// ---------------------------------------------------------------------------------------------------
// Packers: raw row-major B (in the heap) into the panels the GEMM reads.

/** Parameters of the packers (bytes / counts). */
export const PACK_PARAMS = ['raw', 'ldb', 'dst', 'ks', 'full', 'nbFull', 'np4', 'kcMax'] as const;

/**
 * Full column panels (jb < nbFull) of the k-blocks of ks steps (kcMax per block). f32: step p is row p
 * of B, NR floats copied. i16: step q is the rows 2q and 2q+1, interleaved per column ((b[2q][j],
 * b[2q+1][j]) pairs, 4 columns per vector). Only steps below `full` are written: the caller fills the
 * last step of an odd k (i16) itself.
 * The last, partial column panel is also the caller's (few elements).
 */
function packBody(kind: 'f32' | 'i16', nr: number): number[] {
  const [raw, ldb, dst, ks, full, nbFull, np4, kcMax] = PACK_PARAMS.map((_, i) => i);
  let l = PACK_PARAMS.length;
  const p0 = l++;
  const kc = l++;
  const jb = l++;
  const src = l++;
  const d = l++;
  const cnt = l++;
  const nI32 = l - PACK_PARAMS.length;
  const x = l++;
  const y = l++;
  const { code, c } = emitter();
  const rowStep = kind === 'i16' ? 2 : 1; // B rows per step
  c(i32(0), set(p0));
  c(BLOCK, LOOP, get(p0), get(ks), GE_S, brIf(1));
  c(get(ks), get(p0), SUB, tee(kc), get(kcMax), get(kc), get(kcMax), LT_S, SELECT, set(kc));
  c(i32(0), set(jb));
  c(BLOCK, LOOP, get(jb), get(nbFull), GE_S, brIf(1));
  // src = raw + p0·rowStep·ldb + jb·NR·esize; d = dst + p0·np4 + jb·kc·NR·4
  c(get(raw), get(p0), i32(rowStep), MUL, get(ldb), MUL, ADD, get(jb), i32(nr * (kind === 'i16' ? 2 : 4)), MUL, ADD, set(src));
  c(get(dst), get(p0), get(np4), MUL, ADD, get(jb), get(kc), MUL, i32(nr * 4), MUL, ADD, set(d));
  c(get(full), get(p0), SUB, tee(cnt), get(kc), get(cnt), get(kc), LT_S, SELECT, set(cnt)); // steps with data
  c(BLOCK, LOOP, get(cnt), i32(1), LT_S, brIf(1));
  if (kind === 'f32') {
    for (let v = 0; v < nr / 4; v++) c(get(d), get(src), vload(v * 16), vstore(v * 16));
  } else {
    for (let h = 0; h < nr / 8; h++) {
      c(get(src), vload(h * 16), set(x), get(src), get(ldb), ADD, vload(h * 16), set(y));
      c(get(d), get(x), get(y), shuffle([0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23]), vstore(h * 32));
      c(get(d), get(x), get(y), shuffle([8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31]), vstore(h * 32 + 16));
    }
  }
  c(get(src), get(ldb), i32(rowStep), MUL, ADD, set(src), get(d), i32(nr * 4), ADD, set(d), get(cnt), i32(1), SUB, set(cnt));
  c(br(0), END, END);
  c(get(jb), i32(1), ADD, set(jb), br(0), END, END);
  c(get(p0), get(kcMax), ADD, set(p0), br(0), END, END);
  c(END);
  return [...vec([[...leb(nI32), I32], [2, V128]]), ...code];
}

/**
 * moveRows(base, rows, from, to): row i (i ≥ 1) of a matrix at base moves from byte offset i·from to
 * i·to (rows of min(from, to) bytes): compaction (to < from, ascending) or expansion (descending).
 */
function moveRowsBody(): number[] {
  const [base, rows, from, to] = [0, 1, 2, 3];
  const i = 4;
  const len = 5;
  const { code, c } = emitter();
  c(get(from), get(to), get(from), get(to), LT_S, SELECT, set(len));
  c(get(to), get(from), LT_S, IF);
  c(i32(1), set(i));
  c(BLOCK, LOOP, get(i), get(rows), GE_S, brIf(1));
  c(get(base), get(i), get(to), MUL, ADD, get(base), get(i), get(from), MUL, ADD, get(len), MEMCOPY);
  c(get(i), i32(1), ADD, set(i), br(0), END, END);
  c(ELSE);
  c(get(rows), i32(1), SUB, set(i));
  c(BLOCK, LOOP, get(i), i32(1), LT_S, brIf(1));
  c(get(base), get(i), get(to), MUL, ADD, get(base), get(i), get(from), MUL, ADD, get(len), MEMCOPY);
  c(get(i), i32(1), SUB, set(i), br(0), END, END);
  c(END, END);
  return [...vec([[2, I32]]), ...code];
}

export interface ModuleShapes {
  f32: TileShape;
  i16: TileShape;
  /** f32x4.relaxed_madd instead of mul + add (only where the engine validates relaxed SIMD) */
  fma: boolean;
}

/** Export names, in the order of the function section. */
export const EXPORTS = ['f32', 'i16', 'packF32', 'packI16', 'moveRows'] as const;

/** The module: imports env.mem (shared: limits 1..65536 pages, for the helper thread). */
export function moduleBytes(shapes: ModuleShapes, shared: boolean): Uint8Array {
  const bodies = [
    gemmBody(shapes.fma ? 'f32fma' : 'f32', shapes.f32),
    gemmBody('i16', shapes.i16),
    packBody('f32', shapes.f32.nr),
    packBody('i16', shapes.i16.nr),
    moveRowsBody(),
  ];
  const sig = (n: number) => [0x60, ...vec(new Array(n).fill([I32])), 0];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([sig(GEMM_PARAMS.length), sig(PACK_PARAMS.length), sig(4)])),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, ...(shared ? [0x03, 0x01, ...leb(65536)] : [0x00, 0x01])]])),
    ...section(3, vec([[0], [0], [1], [1], [2]])),
    ...section(7, vec(EXPORTS.map((name, i) => [...str(name), 0x00, i]))),
    ...section(10, vec(bodies.map((b) => [...leb(b.length), ...b]))),
  ]);
}

/** A one-function module using f32x4.relaxed_madd: validates only where relaxed SIMD is enabled. */
export function relaxedProbeBytes(): Uint8Array {
  const body = [0, ...vzero(), ...vzero(), ...vzero(), ...F32X4_RELAXED_MADD, 0x1a, ...END];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0, 0]])),
    ...section(3, vec([[0]])),
    ...section(10, vec([[...leb(body.length), ...body]])),
  ]);
}
