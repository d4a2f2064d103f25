// Instruction spellings shared by the simulator's hand-assembled WebAssembly modules (wasm.ts: the GEMMs;
// bitserial-wasm.ts: the fused bit-serial column sums, ADC and shift-add; normals). Each returns the bytes.
import { leb, sleb } from '../../compiler/util/wasm-encode.js';

export const get = (i: number) => [0x20, ...leb(i)];
export const set = (i: number) => [0x21, ...leb(i)];
export const tee = (i: number) => [0x22, ...leb(i)];
export const i32 = (v: number) => [0x41, ...sleb(v)];
export const ADD = [0x6a];
export const SUB = [0x6b];
export const MUL = [0x6c];
export const AND = [0x71];
export const OR = [0x72];
export const XOR = [0x73];
export const SHL = [0x74];
export const SHR_U = [0x76];
export const EQZ = [0x45];
export const LT_S = [0x48];
export const GE_S = [0x4e];
export const GT_S = [0x4a];
export const LT_U = [0x49];
export const GE_U = [0x4f];
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const IF = [0x04, 0x40];
export const ELSE = [0x05];
export const END = [0x0b];
export const br = (d: number) => [0x0c, d];
export const brIf = (d: number) => [0x0d, d];
export const SELECT = [0x1b];
export const i32load = (off = 0) => [0x28, 2, ...leb(off)];
export const i32store = (off = 0) => [0x36, 2, ...leb(off)];
export const i32load16s = (off = 0) => [0x2e, 1, ...leb(off)];
export const f32load = (off = 0) => [0x2a, 2, ...leb(off)];
export const f32store = (off = 0) => [0x38, 2, ...leb(off)];
export const F32_ADD = [0x92];
export const F32_MUL = [0x94];
export const F32_SQRT = [0x91];
export const F32_CONVERT_I32_U = [0xb3];
export const MEMCOPY = [0xfc, 0x0a, 0x00, 0x00];

export const simd = (o: number) => [0xfd, ...leb(o)];
export const vload = (off: number) => [...simd(0x00), 4, ...leb(off)];
export const vstore = (off: number) => [...simd(0x0b), 4, ...leb(off)];
export const splat32 = (off: number) => [...simd(0x09), 2, ...leb(off)];
export const splat64 = (off: number) => [...simd(0x0a), 3, ...leb(off)];
export const vzero = () => [...simd(0x0c), ...new Array<number>(16).fill(0)];
/** v128.const of four i32 lanes (also f32 bit patterns). */
export const vconst32 = (lanes: readonly number[]) => [...simd(0x0c), ...lanes.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff])];
/** v128.const of an f32 in all four lanes. */
export const vconstF32 = (v: number) => vconst32(new Array<number>(4).fill(new Int32Array(new Float32Array([v]).buffer)[0]));
/** v128.const of an f64 in both lanes. */
export const vconstF64 = (v: number) => {
  const b = new Uint8Array(new Float64Array([v, v]).buffer);
  return [...simd(0x0c), ...b];
};
export const shuffle = (lanes: number[]) => [...simd(0x0d), ...lanes];

export const I32X4_SPLAT = simd(0x11);
export const F32X4_SPLAT = simd(0x13);
export const V128_AND = simd(0x4e);
export const V128_OR = simd(0x50);
export const V128_XOR = simd(0x51);
export const V128_BITSELECT = simd(0x52);
export const F64X2_PROMOTE_LOW = simd(0x5f);
export const I32X4_NEG = simd(0xa1);
export const I32X4_SHL = simd(0xab);
export const I32X4_SHR_U = simd(0xad);
export const I32X4_ADD = simd(0xae);
export const I32X4_SUB = simd(0xb1);
export const I32X4_MUL = simd(0xb5);
export const I32X4_MIN_S = simd(0xb6);
export const I32X4_MAX_S = simd(0xb8);
export const I32X4_DOT_I16X8_S = simd(0xba);
export const F32X4_GT = simd(0x44);
export const F32X4_GE = simd(0x46);
export const F32X4_TRUNC = simd(0x69);
export const F32X4_ABS = simd(0xe0);
export const F32X4_SQRT = simd(0xe3);
export const F32X4_ADD = simd(0xe4);
export const F32X4_SUB = simd(0xe5);
export const F32X4_MUL = simd(0xe6);
export const F32X4_DIV = simd(0xe7);
export const F32X4_PMIN = simd(0xea);
export const F32X4_PMAX = simd(0xeb);
export const F32X4_RELAXED_MADD = simd(0x105);
export const F64X2_GE = simd(0x4c);
export const F64X2_TRUNC = simd(0x7a);
export const F64X2_ABS = simd(0xec);
export const F64X2_ADD = simd(0xf0);
export const F64X2_SUB = simd(0xf1);
export const F64X2_MUL = simd(0xf2);
export const F64X2_DIV = simd(0xf3);
export const F64X2_PMIN = simd(0xf6);
export const F64X2_PMAX = simd(0xf7);
export const I32X4_TRUNC_SAT_F32X4_S = simd(0xf8);
export const F32X4_CONVERT_I32X4_S = simd(0xfa);
export const F32X4_CONVERT_I32X4_U = simd(0xfb);
export const I32X4_TRUNC_SAT_F64X2_S_ZERO = simd(0xfc);
export const F64X2_CONVERT_LOW_I32X4_S = simd(0xfe);

/** Collects instructions; `c(...)` appends any number of byte runs. */
export function emitter(): { code: number[]; c: (...xs: number[][]) => void } {
  const code: number[] = [];
  return {
    code,
    c: (...xs: number[][]) => {
      for (const x of xs) for (const b of x) code.push(b);
    },
  };
}
