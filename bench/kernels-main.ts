// Standalone: node dist/bench/kernels-main.js [repeats] [--profile]
// Prints the conv-gradient kernel table and, with --profile, a VGG training step's per-kernel time
// with only the conv-gradient kernels registered ("before") and with all of Tandem's ("after").
import { benchKernels, profileTrainingStep, type StepProfile } from './kernels.js';
import { CONV_GRADIENT_KERNELS, TRAINING_KERNEL_NAMES } from '../compiler/train/kernels/index.js';

const repeats = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const f = (x: number | undefined) => (x === undefined ? '' : x.toFixed(x < 0.1 ? 4 : 2));

if (process.argv.includes('--profile')) {
  const show = (label: string, p: StepProfile) => {
    const total = p.breakdown.reduce((s, k) => s + k.ms, 0);
    console.log(`\n${label}: batch ${p.batch}, step ${p.stepMs.toFixed(0)} ms, ${p.imgPerSec.toFixed(1)} img/s, ${p.gflops.toFixed(2)} GFLOP/s (profiled kernels: ${total.toFixed(0)} ms)`);
    for (const k of p.breakdown.filter((k) => k.ms >= total / 500)) {
      console.log(`  ${k.kernel.padEnd(36)} ${k.ms.toFixed(1).padStart(8)} ms ${String(k.calls).padStart(4)} calls ${((100 * k.ms) / total).toFixed(1).padStart(5)}%`);
    }
  };
  show('before (conv gradients only)', await profileTrainingStep({ kernels: CONV_GRADIENT_KERNELS.map((k) => k.kernel), steps: repeats }));
  show('after (all Tandem kernels)', await profileTrainingStep({ kernels: TRAINING_KERNEL_NAMES, steps: repeats }));
} else {
  const rows = await benchKernels({ repeats });
  console.log(['kernel', 'shape', 'wasm GFLOP/s', 'cpu GFLOP/s', 'ratio', 'wasm original GFLOP/s'].join(' | '));
  for (const r of rows) console.log([r.kernel, r.shape, f(r.gflopsWasm), f(r.gflopsCpu), r.ratio.toFixed(0), f(r.gflopsWasmOriginal)].join(' | '));
}
