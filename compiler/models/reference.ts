// The reference architectures, built with GraphBuilder. Their trained weights live in refs/<name>/.
import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/types.js';

/** VGG-style: 3 blocks of two 3x3 conv-BN-ReLU (32-64-128) with 2x2 max-pool, then dense 128 -> 10. */
export function fmnistVgg(seed = 1): Graph {
  const b = new GraphBuilder('fmnist-vgg', seed);
  let h = b.input('image', [28, 28, 1]);
  let i = 0;
  for (const [block, ch] of [32, 64, 128].entries()) {
    for (let k = 0; k < 2; k++) {
      i++;
      h = b.conv2d(h, { id: `conv${i}`, filters: ch, kernel: 3, padding: 'same', useBias: false });
      h = b.batchNorm(h, { id: `bn${i}`, momentum: 0.99 });
      h = b.relu(h, { id: `relu${i}` });
    }
    h = b.maxPool(h, 2, { id: `pool${block + 1}` });
  }
  h = b.flatten(h, { id: 'flatten' });
  h = b.dropout(h, 0.3, { id: 'drop1' });
  h = b.dense(h, 128, { id: 'fc1', useBias: false });
  h = b.batchNorm(h, { id: 'bn_fc1', momentum: 0.99 });
  h = b.relu(h, { id: 'relu_fc1' });
  h = b.dropout(h, 0.3, { id: 'drop2' });
  h = b.dense(h, 10, { id: 'fc2' });
  return b.build([b.softmax(h, { id: 'softmax' })]);
}

/**
 * DnCNN-style denoiser (Zhang et al. 2017), residual learning: 8 convs of 32 channels predict the
 * negated noise, which is added to the noisy input (so the graph needs only `add`).
 */
export function fmnistDncnn(seed = 2, depth = 8, width = 32): Graph {
  const b = new GraphBuilder('fmnist-dncnn', seed);
  const x = b.input('noisy', [28, 28, 1]);
  let h = b.relu(b.conv2d(x, { id: 'conv1', filters: width, kernel: 3, padding: 'same' }), { id: 'relu1' });
  for (let i = 2; i < depth; i++) {
    h = b.conv2d(h, { id: `conv${i}`, filters: width, kernel: 3, padding: 'same', useBias: false });
    h = b.batchNorm(h, { id: `bn${i}`, momentum: 0.99 });
    h = b.relu(h, { id: `relu${i}` });
  }
  // Zero-initialised, so training starts from the identity (output = noisy input).
  const residual = b.conv2d(h, { id: `conv${depth}`, filters: 1, kernel: 3, padding: 'same', zeroInit: true });
  return b.build([b.addValues([x, residual], { id: 'denoised' })]);
}

/** A small ResNet: stem + three stages of one basic block (16-32-64), projection shortcuts on stride 2. */
export function fmnistResnet(seed = 3): Graph {
  const b = new GraphBuilder('fmnist-resnet', seed);
  const x = b.input('image', [28, 28, 1]);
  let h = b.relu(b.batchNorm(b.conv2d(x, { id: 'stem', filters: 16, kernel: 3, padding: 'same', useBias: false }), { id: 'stem_bn', momentum: 0.99 }), { id: 'stem_relu' });
  for (const [s, ch] of [16, 32, 64].entries()) {
    const stride = s === 0 ? 1 : 2;
    const p = `s${s + 1}`;
    let r = b.conv2d(h, { id: `${p}_conv1`, filters: ch, kernel: 3, strides: stride, padding: 'same', useBias: false });
    r = b.relu(b.batchNorm(r, { id: `${p}_bn1`, momentum: 0.99 }), { id: `${p}_relu1` });
    r = b.conv2d(r, { id: `${p}_conv2`, filters: ch, kernel: 3, padding: 'same', useBias: false });
    r = b.batchNorm(r, { id: `${p}_bn2`, momentum: 0.99 });
    let shortcut = h;
    if (stride !== 1 || b.shape(h)[2] !== ch) {
      shortcut = b.batchNorm(b.conv2d(h, { id: `${p}_proj`, filters: ch, kernel: 1, strides: stride, useBias: false }), { id: `${p}_proj_bn`, momentum: 0.99 });
    }
    h = b.relu(b.addValues([r, shortcut], { id: `${p}_add` }), { id: `${p}_relu2` });
  }
  h = b.globalAvgPool(h, { id: 'gap' });
  h = b.dense(h, 10, { id: 'fc' });
  return b.build([b.softmax(h, { id: 'softmax' })]);
}

export const REFERENCE_MODELS = {
  'fmnist-vgg': { build: fmnistVgg, task: 'classification' },
  'fmnist-dncnn': { build: fmnistDncnn, task: 'denoising' },
  'fmnist-resnet': { build: fmnistResnet, task: 'classification' },
} as const;

export type ReferenceName = keyof typeof REFERENCE_MODELS;
export const isReferenceName = (s: string): s is ReferenceName => s in REFERENCE_MODELS;
