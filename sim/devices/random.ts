// Fast seeded bulk random fills for the device models (millions of cells per call).
//
// Each fill takes one 32-bit seed from its source (`rng.fork()`, advancing a shared Rng by one draw,
// or `new Rng(seed).fork()` for a number) and runs its own inlined mulberry32 stream (the generator of
// compiler/util/rng.ts) over the whole array: no per-element method calls, closures or allocations.
// The same source state gives the same numbers; successive fills from one Rng are independent streams.
//
// Normals: the Ziggurat method of Marsaglia & Tsang (J. Stat. Softw. 5(8), 2000), 128 layers. Each
// sample takes one 32-bit draw: the low 7 bits pick the layer, the upper 25 bits (signed) the position
// in it (separate bits, avoiding the layer/value correlation of the original 32-bit-for-both scheme);
// about 1.2% of samples take the slow path (wedge test or the exponential tail beyond r = 3.4426).
import { Rng } from '../../compiler/util/rng.js';

/** A random source: a shared generator (one draw is taken from it) or a seed. */
export type RandomSource = Rng | number;

/** The seed of a fresh stream: one draw from the Rng, or derived from the number. */
export function streamSeed(src: RandomSource): number {
  return typeof src === 'number' ? new Rng(src).fork() : src.fork();
}

const LAYERS = 128;
const R = 3.442619855899; // start of the tail
const V = 9.91256303526217e-3; // area of each layer
const SCALE = 16777216; // 2^24: the 25-bit signed position is in (-2^24, 2^24)
const KN = new Int32Array(LAYERS);
const WN = new Float64Array(LAYERS);
const FN = new Float64Array(LAYERS);
{
  let dn = R;
  let tn = dn;
  const q = V / Math.exp(-0.5 * dn * dn);
  KN[0] = Math.floor((dn / q) * SCALE);
  KN[1] = 0;
  WN[0] = q / SCALE;
  WN[LAYERS - 1] = dn / SCALE;
  FN[0] = 1;
  FN[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(V / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = Math.floor((dn / tn) * SCALE);
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / SCALE;
  }
}

const INV32 = 1 / 4294967296;

/** Fills `out` with independent N(mean, std²) samples. Returns `out`. */
export function fillNormal<T extends Float32Array | Float64Array>(out: T, src: RandomSource, mean = 0, std = 1): T {
  let s = streamSeed(src) >>> 0;
  const n = out.length;
  for (let i = 0; i < n; i++) {
    let z: number;
    for (;;) {
      // mulberry32
      let t = (s = (s + 0x6d2b79f5) >>> 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      t ^= t >>> 14;
      const iz = t & 127;
      const hz = t >> 7; // signed 25 bits
      const x = hz * WN[iz];
      if ((hz < 0 ? -hz : hz) < KN[iz]) {
        z = x;
        break;
      }
      if (iz === 0) {
        // the tail beyond R (Marsaglia 1964)
        let e: number;
        for (;;) {
          t = (s = (s + 0x6d2b79f5) >>> 0);
          t = Math.imul(t ^ (t >>> 15), t | 1);
          t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
          const u1 = (((t ^ (t >>> 14)) >>> 0) + 0.5) * INV32;
          t = (s = (s + 0x6d2b79f5) >>> 0);
          t = Math.imul(t ^ (t >>> 15), t | 1);
          t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
          const u2 = (((t ^ (t >>> 14)) >>> 0) + 0.5) * INV32;
          e = -Math.log(u1) / R;
          if (-2 * Math.log(u2) >= e * e) break;
        }
        z = hz >= 0 ? R + e : -R - e;
        break;
      }
      // the wedge between layers iz and iz-1
      t = (s = (s + 0x6d2b79f5) >>> 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const u = ((t ^ (t >>> 14)) >>> 0) * INV32;
      if (FN[iz] + u * (FN[iz - 1] - FN[iz]) < Math.exp(-0.5 * x * x)) {
        z = x;
        break;
      }
    }
    out[i] = mean + std * z;
  }
  return out;
}

/** Fills `out` with independent uniform samples in [lo, hi) (32-bit resolution; a Float32Array may round
 * the largest draws up to hi). Returns `out`. */
export function fillUniform<T extends Float32Array | Float64Array>(out: T, src: RandomSource, lo = 0, hi = 1): T {
  let s = streamSeed(src) >>> 0;
  const n = out.length;
  const scale = (hi - lo) * INV32;
  for (let i = 0; i < n; i++) {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + ((t ^ (t >>> 14)) >>> 0) * scale;
  }
  return out;
}

/** Fills `out` with independent categories: 1 with probability p1, 2 with probability p2, else 0
 * (p1 + p2 <= 1; decided on a double-precision uniform). Returns `out`. */
export function fillCategories(out: Uint8Array, src: RandomSource, p1: number, p2: number): Uint8Array {
  if (!(p1 >= 0 && p2 >= 0 && p1 + p2 <= 1)) throw new RangeError(`category probabilities ${p1}, ${p2} must be >= 0 with sum <= 1`);
  let s = streamSeed(src) >>> 0;
  const n = out.length;
  // u = draw / 2^32 < p  <=>  draw < p·2^32 (exact for the integer draw)
  const c1 = p1 * 4294967296;
  const c2 = (p1 + p2) * 4294967296;
  for (let i = 0; i < n; i++) {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const d = (t ^ (t >>> 14)) >>> 0;
    out[i] = d < c1 ? 1 : d < c2 ? 2 : 0;
  }
  return out;
}
