// What Tandem registers on wasm, and the shapes the benchmark measures each conv-gradient kernel at.

export interface ConvCase {
  /** NHWC input of the forward conv. */
  readonly x: readonly [number, number, number, number];
  /** [kh, kw, Cin, Cout] (regular) or [kh, kw, C, multiplier] (depthwise). */
  readonly filter: readonly [number, number, number, number];
  readonly strides: number;
  readonly pad: 'same' | 'valid';
}

export interface KernelDescriptor {
  readonly kernel: string;
  readonly depthwise: boolean;
  /** Which gradient of the forward conv the kernel computes. */
  readonly gradOf: 'filter' | 'input';
  /** How it is computed, for reports. */
  readonly how: string;
  readonly cases: readonly ConvCase[];
}

const vgg: readonly ConvCase[] = [
  { x: [32, 28, 28, 32], filter: [3, 3, 32, 32], strides: 1, pad: 'same' },
  { x: [32, 14, 14, 64], filter: [3, 3, 64, 64], strides: 1, pad: 'same' },
  { x: [32, 28, 28, 32], filter: [3, 3, 32, 64], strides: 2, pad: 'same' },
];
const mobile: readonly ConvCase[] = [
  { x: [32, 28, 28, 32], filter: [3, 3, 32, 1], strides: 1, pad: 'same' },
  { x: [32, 14, 14, 64], filter: [3, 3, 64, 1], strides: 1, pad: 'same' },
  { x: [32, 28, 28, 32], filter: [3, 3, 32, 1], strides: 2, pad: 'same' },
];

export const CONV_GRADIENT_KERNELS: readonly KernelDescriptor[] = [
  { kernel: 'Conv2DBackpropFilter', depthwise: false, gradOf: 'filter', how: 'forward conv of x^T [Ci,H,W,B] with dy^T [Ho,Wo,B,Co]', cases: vgg },
  { kernel: 'Conv2DBackpropInput', depthwise: false, gradOf: 'input', how: 'forward conv(s) of dy with the flipped, in/out-swapped filter; stride by s*s phase sub-filters', cases: vgg },
  { kernel: 'DepthwiseConv2dNativeBackpropFilter', depthwise: true, gradOf: 'filter', how: 'stride 1: per tap, a flat-shifted slice of x times dy on the padded grid, summed; else a JS loop over the heap', cases: mobile },
  { kernel: 'DepthwiseConv2dNativeBackpropInput', depthwise: true, gradOf: 'input', how: 'depthwise forward conv of dy (zero-inserted for stride) with the flipped filter, summed over the multiplier', cases: mobile },
];

/** Multiply-adds of the forward conv of `c` (equal to those of each of its two gradients). */
export function convMacs(c: ConvCase): number {
  const [b, h, w, ci] = c.x;
  const [kh, kw, , co] = c.filter;
  const ho = c.pad === 'same' ? Math.ceil(h / c.strides) : Math.ceil((h - kh + 1) / c.strides);
  const wo = c.pad === 'same' ? Math.ceil(w / c.strides) : Math.ceil((w - kw + 1) / c.strides);
  return b * ho * wo * kh * kw * ci * co; // depthwise: ci = C, co = multiplier
}
