// A seeded population of network variants for latency datasets (LETI / nn-Meter style): the reference
// classifiers fmnist-vgg and fmnist-resnet (compiler/models/reference.ts) with other widths, kernel sizes,
// pruned channel counts and low-rank factorized layers. Layers are built directly in their compressed shape
// (a pruned layer is the layer with fewer channels; a Tucker-2 layer is 1x1 -> kxk core -> 1x1 and an SVD dense
// is two denses, all with the original layer as `origin`), which is the architecture the compress and prune
// passes produce; weights are random because latency does not depend on their values.
import { GraphBuilder } from '../../compiler/ir/builder.js';
import type { Graph } from '../../compiler/ir/types.js';
import { Rng } from '../../compiler/util/rng.js';

export type Family = 'vgg' | 'resnet';

/** The knobs of one conv layer of a variant. */
export interface ConvKnobs {
  readonly filters: number;
  readonly kernel: number;
  /** Tucker-2 ranks [in, out] when factorized. */
  readonly tucker?: readonly [number, number];
}

export interface Variant {
  /** `<family>-<index>`, unique within a population. */
  readonly id: string;
  readonly family: Family;
  /** Per-variant seed (weights), derived from the population seed and the index. */
  readonly seed: number;
  /** What was drawn, for the dataset: per-block width multipliers, kernels, prune ratios, ranks. */
  readonly knobs: Readonly<Record<string, unknown>>;
  readonly graph: Graph;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
const ch = (base: number, mult: number) => Math.max(4, Math.round(base * mult));

/** Kernel sizes drawn per block: 3 as in the references, 1 and 5 for spread. */
const KERNELS = [1, 3, 3, 5] as const;
const WIDTHS = [0.25, 0.375, 0.5, 0.625, 0.75, 1] as const;
const PRUNE = [0, 0, 0.1, 0.2, 0.3, 0.4, 0.5] as const;
/** Tucker-2 rank as a fraction of the channels; 0 = not factorized (twice as likely). */
const RANKS = [0, 0, 0.25, 0.5] as const;

function convKnobs(rng: Rng, base: number, width: number, kernel: number, prunable: boolean): ConvKnobs & { prune: number } {
  const prune = prunable ? pick(rng, PRUNE) : 0;
  const filters = ch(base * width, 1 - prune);
  const r = kernel > 1 ? pick(rng, RANKS) : 0;
  return { filters, kernel, prune, ...(r ? { tucker: [0, Math.max(2, Math.round(filters * r))] as [number, number] } : {}) };
}

/** A conv (+ bias) and relu, as Tucker-2 (1x1 -> kxk core -> 1x1, origin = the layer) when `k.tucker` is set. */
function conv(b: GraphBuilder, x: string, id: string, k: ConvKnobs, strides = 1, relu = true): string {
  let h: string;
  if (k.tucker) {
    const rin = Math.max(2, Math.min(k.tucker[1], b.shape(x)[2]));
    const rout = k.tucker[1];
    h = b.conv2d(x, { id: `${id}/tucker.in`, origin: id, filters: rin, kernel: 1, useBias: false });
    h = b.conv2d(h, { id: `${id}/tucker.core`, origin: id, filters: rout, kernel: k.kernel, strides, padding: 'same', useBias: false });
    h = b.conv2d(h, { id: `${id}/tucker.out`, origin: id, filters: k.filters, kernel: 1 });
  } else h = b.conv2d(x, { id, filters: k.filters, kernel: k.kernel, strides, padding: 'same' });
  return relu ? b.relu(h, { id: `${id}_relu` }) : h;
}

function vgg(rng: Rng, name: string, seed: number): { graph: Graph; knobs: Record<string, unknown> } {
  const b = new GraphBuilder(name, seed);
  let h = b.input('image', [28, 28, 1]);
  const blocks: unknown[] = [];
  for (const [blk, base] of [32, 64, 128].entries()) {
    const width = pick(rng, WIDTHS);
    const kernel = pick(rng, KERNELS);
    const convs: unknown[] = [];
    for (let k = 0; k < 2; k++) {
      const id = `conv${blk * 2 + k + 1}`;
      const c = convKnobs(rng, base, width, kernel, true);
      convs.push(c);
      h = conv(b, h, id, c);
    }
    blocks.push({ width, kernel, convs });
    h = b.maxPool(h, 2, { id: `pool${blk + 1}` });
  }
  h = b.flatten(h, { id: 'flatten' });
  const fcWidth = pick(rng, WIDTHS);
  const fc = ch(128, fcWidth);
  // SVD of fc1: dense(in -> r) then dense(r -> fc), both reported as fc1
  const svd = pick(rng, RANKS) ? Math.max(2, Math.round(fc * pick(rng, [0.125, 0.25, 0.5]))) : 0;
  if (svd) h = b.dense(b.dense(h, svd, { id: 'fc1/svd.u', origin: 'fc1', useBias: false }), fc, { id: 'fc1/svd.v', origin: 'fc1' });
  else h = b.dense(h, fc, { id: 'fc1' });
  h = b.relu(h, { id: 'relu_fc1' });
  h = b.dense(h, 10, { id: 'fc2' });
  return { graph: b.build([b.softmax(h, { id: 'softmax' })]), knobs: { blocks, fc, fcSvdRank: svd } };
}

function resnet(rng: Rng, name: string, seed: number): { graph: Graph; knobs: Record<string, unknown> } {
  const b = new GraphBuilder(name, seed);
  const x = b.input('image', [28, 28, 1]);
  const stemWidth = pick(rng, WIDTHS);
  const stem = { filters: ch(16, stemWidth), kernel: pick(rng, KERNELS) };
  let h = conv(b, x, 'stem', stem);
  const stages: unknown[] = [];
  for (const [s, base] of [16, 32, 64].entries()) {
    const stride = s === 0 ? 1 : 2;
    const p = `s${s + 1}`;
    const width = pick(rng, WIDTHS);
    const kernel = pick(rng, KERNELS);
    const out = ch(base, width);
    // Only the block's inner channels are pruned: conv2's output must match the shortcut's.
    const c1 = convKnobs(rng, base, width, kernel, true);
    const c2 = { ...convKnobs(rng, base, width, kernel, false), filters: out };
    let r = conv(b, h, `${p}_conv1`, c1, stride);
    r = conv(b, r, `${p}_conv2`, c2, 1, false);
    let shortcut = h;
    if (stride !== 1 || b.shape(h)[2] !== out) shortcut = b.conv2d(h, { id: `${p}_proj`, filters: out, kernel: 1, strides: stride });
    h = b.relu(b.addValues([r, shortcut], { id: `${p}_add` }), { id: `${p}_relu2` });
    stages.push({ width, kernel, conv1: c1, conv2: c2 });
  }
  h = b.globalAvgPool(h, { id: 'gap' });
  h = b.dense(h, 10, { id: 'fc' });
  return { graph: b.build([b.softmax(h, { id: 'softmax' })]), knobs: { stem, stages } };
}

/** Variant `index` of the population `seed`: the same (seed, index) always gives the same variant. */
export function makeVariant(seed: number, index: number): Variant {
  const rng = new Rng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
  // Interleaved families: any prefix of the population has both.
  const family: Family = index % 2 === 0 ? 'vgg' : 'resnet';
  const id = `${family}-${index}`;
  const wseed = (seed * 100003 + index) >>> 0;
  const v = family === 'vgg' ? vgg(rng, id, wseed) : resnet(rng, id, wseed);
  return { id, family, seed: wseed, knobs: v.knobs, graph: v.graph };
}

/** Variants 0..n-1 of the population `seed`. */
export function* variants(seed: number, n: number, from = 0): Generator<Variant> {
  for (let i = from; i < n; i++) yield makeVariant(seed, i);
}
