// Labelled image sets kept as raw uint8 (60000×784 floats would be 188 MB); floats are made per batch.

export interface LabeledImages {
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** n×height×width×channels bytes, NHWC row-major, 0..255. */
  readonly pixels: Uint8Array;
  /** n class ids in 0..numClasses-1. */
  readonly labels: Uint8Array;
  readonly numClasses: number;
}

export const imageSize = (d: LabeledImages): number => d.height * d.width * d.channels;

// byte -> float32 in [0, 1]; a table gives exactly fround(v / 255) and is faster than dividing.
const TO_UNIT = new Float32Array(256).map((_, v) => v / 255);

/**
 * The images at `indices` as float32 in [0, 1], NHWC [indices.length, H, W, C].
 * Writes into `out` when given (it must be large enough) so training loops can reuse one buffer.
 */
export function imagesToFloat(d: LabeledImages, indices: ArrayLike<number>, out?: Float32Array): Float32Array {
  const size = imageSize(d);
  const x = out ?? new Float32Array(indices.length * size);
  if (x.length < indices.length * size) throw new RangeError(`output holds ${x.length} floats, need ${indices.length * size}`);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < d.n)) throw new RangeError(`image index ${i} out of range 0..${d.n - 1}`);
    const src = i * size;
    const dst = k * size;
    for (let p = 0; p < size; p++) x[dst + p] = TO_UNIT[d.pixels[src + p]];
  }
  return x;
}

/** The labels at `indices`. */
export function labelsAt(d: LabeledImages, indices: ArrayLike<number>): Uint8Array {
  const y = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) y[k] = d.labels[indices[k]];
  return y;
}
