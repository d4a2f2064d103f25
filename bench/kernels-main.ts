// Standalone: node dist/bench/kernels-main.js [repeats]
import { benchKernels } from './kernels.js';

const repeats = Number(process.argv[2] ?? 5);
const rows = await benchKernels({ repeats });
const f = (x: number | undefined) => (x === undefined ? '' : x.toFixed(x < 0.1 ? 4 : 2));
console.log(['kernel', 'shape', 'wasm GFLOP/s', 'cpu GFLOP/s', 'ratio', 'wasm original GFLOP/s'].join(' | '));
for (const r of rows) console.log([r.kernel, r.shape, f(r.gflopsWasm), f(r.gflopsCpu), r.ratio.toFixed(0), f(r.gflopsWasmOriginal)].join(' | '));
