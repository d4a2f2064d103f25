// `npm run bench`: training and inference throughput against baselines measured in the same run.
// Prints a table and writes bench/results/bench-<time>.json. Flags: --quick (fewer steps).
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allOf, classificationSet, loadFashionMnist } from '../compiler/data/index.js';
import { graphStats } from '../compiler/ir/graph.js';
import { fmnistVgg } from '../compiler/models/reference.js';
import { initBackend } from '../compiler/train/backend.js';
import { writeFileAtomic } from '../compiler/util/atomic.js';
import { inferenceThroughput } from './inference.js';
import { benchKernels } from './kernels.js';
import { benchDecompose, decomposeTable } from './decompose.js';
import { benchSimulator, simBenchLines } from './sim.js';
import { benchSimKernels, simKernelsTable } from './sim-kernels.js';
import { trainingThroughput } from './training.js';
import { benchUiGraph, uiGraphBenchLines } from './ui-graph.js';
import { benchUiDataflow, uiDataflowLines } from './ui-dataflow.js';
import { benchUiOpen, uiOpenLines } from './ui-open.js';
import { haveChromium } from '../test/ui-browser.js';

const quick = process.argv.includes('--quick');
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const cores = availableParallelism();

function pytorch(batch: number, steps: number): { torch: string; threads: number; medianStepMs: number } | string {
  try {
    execFileSync('python3', ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return 'python3-torch not installed (optional reference, skipped)';
  }
  const out = execFileSync('python3', [path.join(root, 'bench', 'pytorch_vgg.py'), String(batch), String(steps)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { torch: string; threads: number; medianStepMs: number };
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const backend = await initBackend();
const graph = fmnistVgg(1);
const macs = graphStats(graph).totalMacs;
const fm = await loadFashionMnist();
const data = classificationSet(allOf(fm.train));

log(`training throughput: fmnist-vgg (${macs} MACs/img), ${backend.name}, ${cores} workers...`);
const engine = await trainingThroughput(`Tandem engine (${backend.name} + Tandem kernels, ${cores} workers)`, graph, macs, data, {
  backend: 'auto',
  registerKernels: true,
  workers: cores,
  batch: 128,
  steps: quick ? 3 : 8,
  warmup: 2,
});
log('baseline: plain tfjs (cpu backend, no Tandem kernels, 1 thread); slow, small batch...');
const plain = await trainingThroughput('plain tfjs (cpu backend, no Tandem kernels, 1 thread)', graph, macs, data, {
  backend: 'cpu',
  registerKernels: false,
  workers: 1,
  batch: 4,
  steps: quick ? 1 : 2,
  warmup: 1,
});
let plainWasm: string;
try {
  await trainingThroughput('plain tfjs wasm', graph, macs, data, { backend: 'wasm', registerKernels: false, workers: 1, batch: 8, steps: 1, warmup: 1 });
  plainWasm = 'trains';
} catch (e) {
  plainWasm = `cannot train: ${(e as Error).message.split('\n')[0]}`;
}

log('conv gradient kernels vs tfjs cpu...');
const kernels = await benchKernels({ repeats: quick ? 3 : 7 });

log('inference: onnxruntime-node vs Tandem engine...');
const batch = 512;
const x = new Float32Array(batch * 784);
data.fill(
  Array.from({ length: batch }, (_, i) => i),
  x,
  new Float32Array(batch),
);
const inference = await inferenceThroughput(graph, x, batch, quick ? 3 : 7, cores);

log('CP-ALS / Tucker-2 vs numpy...');
const decompose = await benchDecompose({ quick, log });

log('CIM simulator kernels (gemmF32/gemmI16) vs the f64 GEMM and tfjs wasm...');
const simKernels = await benchSimKernels({ quick, log });

log('CIM simulator: exact, digit by digit and full analog vs the per-cell reference and numpy...');
const simulator = await benchSimulator({ quick, log });

log('app: the model graph view on a 200-layer model in headless Chromium...');
const uiGraph = haveChromium() ? await benchUiGraph({ runs: quick ? 5 : 9 }) : 'chromium not installed (Debian package chromium)';
log('app: opening a 200-layer model through the API into the graph view...');
const uiOpen = haveChromium() ? await benchUiOpen({ runs: quick ? 5 : 7 }) : 'chromium not installed (Debian package chromium)';
log('app: the 3D dataflow view at 10,000 arrays in headless Chromium (software GL)...');
const uiDataflow = haveChromium() ? await benchUiDataflow({ quick, log }) : 'chromium not installed (Debian package chromium)';

log('optional PyTorch reference...');
const torch = pytorch(128, quick ? 3 : 8);

const ort = inference.rows[0];
const best = inference.rows.slice(1).reduce((a, r) => (r.imgPerSec > a.imgPerSec ? r : a));
const result = {
  date: new Date().toISOString(),
  machine: { cores, node: process.version, backend: backend.name, backendReason: backend.reason },
  model: { name: graph.name, forwardMacs: macs },
  training: { engine, plainTfjs: plain, ratio: engine.imgPerSec / plain.imgPerSec, plainTfjsWasm: plainWasm },
  kernels,
  inference: { rows: inference.rows, maxAbsDiffVsOnnxruntime: inference.maxAbsDiff, ratioEngineToOnnxruntime: best.imgPerSec / ort.imgPerSec },
  decompose,
  simKernels,
  simulator,
  uiGraph,
  uiOpen,
  uiDataflow,
  pytorch:
    typeof torch === 'string'
      ? torch
      : { ...torch, imgPerSec: 128 / (torch.medianStepMs / 1000), effectiveGflops: (128 / (torch.medianStepMs / 1000)) * 6 * macs * 1e-9 },
};
const file = path.join(root, 'bench', 'results', `bench-${result.date.replace(/[:.]/g, '-')}.json`);
await writeFileAtomic(file, JSON.stringify(result, null, 1) + '\n');

const f = (v: number, d = 1) => v.toFixed(d);
const lines = [
  `fmnist-vgg training (median step, img/s, effective GFLOP/s = 3 x fwd FLOPs x img/s):`,
  `  ${engine.label}: ${f(engine.medianStepMs, 0)} ms/step @${engine.batch}, ${f(engine.imgPerSec)} img/s, ${f(engine.effectiveGflops, 2)} GFLOP/s`,
  `  ${plain.label}: ${f(plain.medianStepMs, 0)} ms/step @${plain.batch}, ${f(plain.imgPerSec, 3)} img/s, ${f(plain.effectiveGflops, 4)} GFLOP/s`,
  `  ratio engine / plain tfjs: ${f(result.training.ratio, 0)}x   (plain tfjs wasm: ${plainWasm})`,
  typeof result.pytorch === 'string' ? `  PyTorch: ${result.pytorch}` : `  PyTorch ${result.pytorch.torch} (${result.pytorch.threads} threads): ${f(result.pytorch.imgPerSec)} img/s, ${f(result.pytorch.effectiveGflops, 2)} GFLOP/s (reference)`,
  `conv gradient kernels (GFLOP/s, wasm ours vs tfjs cpu):`,
  ...kernels.map((k) => `  ${k.kernel.padEnd(36)} ${k.shape.padEnd(34)} ${f(k.gflopsWasm, 2).padStart(7)} vs ${f(k.gflopsCpu, 4).padStart(8)}  ${f(k.ratio, 0).padStart(6)}x${k.gflopsWasmOriginal !== undefined ? `  (wasm's own: ${f(k.gflopsWasmOriginal, 2)})` : ''}`),
  `inference, batch ${batch} (median):`,
  ...inference.rows.map((r) => `  ${r.label.padEnd(44)} ${f(r.medianMs, 0).padStart(6)} ms  ${f(r.imgPerSec, 0).padStart(6)} img/s`),
  `  ratio best engine / onnxruntime: ${f(result.inference.ratioEngineToOnnxruntime, 2)}   (max |diff| of outputs ${inference.maxAbsDiff.toExponential(1)})`,
  ...decomposeTable(decompose),
  ...simKernelsTable(simKernels),
  ...simBenchLines(simulator),
  ...(typeof uiGraph === 'string' ? [`app graph view: ${uiGraph}`] : uiGraphBenchLines(uiGraph)),
  ...(typeof uiOpen === 'string' ? [`app open: ${uiOpen}`] : uiOpenLines(uiOpen)),
  ...(typeof uiDataflow === 'string' ? [`app 3D view: ${uiDataflow}`] : uiDataflowLines(uiDataflow)),
  `results: ${path.relative(process.cwd(), file)}`,
];
process.stdout.write(lines.join('\n') + '\n');
