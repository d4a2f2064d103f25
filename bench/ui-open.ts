// The app opening a 200-layer model, end to end: a seeded synthetic residual CNN exported as ONNX, opened
// through the real API (upload, import, per-layer stats on the server), then laid out (dagre in the worker)
// and drawn by the graph view in headless Chromium. Time: from clicking "Model graph" until the view is
// ready; median of repeated opens after a warm-up. Baseline in the same run: fmnist-vgg (30 nodes).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportModel } from '../compiler/export/index.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import type { Graph } from '../compiler/ir/types.js';
import { Backend, ROOT } from '../ui/server/backend.js';
import { startAppServer } from '../ui/server/http.js';
import { launchChromium } from '../test/ui-browser.js';
import { median } from './stats.js';

/** Exactly `layers` nodes: a residual chain of conv/bn/relu with an add every two convs, then a head. */
export function residualChain(layers: number, seed: number): Graph {
  const b = new GraphBuilder(`synthetic-${layers}`, seed);
  let x = b.input('image', [32, 32, 16]);
  let skip = x;
  const cycle: ((v: string) => string)[] = [
    (v) => b.conv2d(v, { filters: 16, kernel: 3, padding: 'same' }),
    (v) => b.batchNorm(v),
    (v) => b.relu(v),
    (v) => b.conv2d(v, { filters: 16, kernel: 3, padding: 'same' }),
    (v) => b.batchNorm(v),
    (v) => (skip = b.addValues([v, skip])),
    (v) => b.relu(v),
  ];
  for (let n = 0; n < layers - 3; n++) x = cycle[n % cycle.length](x);
  return b.build([b.softmax(b.dense(b.globalAvgPool(x), 10))]);
}

export interface UiOpenCase {
  readonly model: string;
  readonly nodes: number;
  readonly medianMs: number;
  readonly runsMs: readonly number[];
}

export interface UiOpenBench {
  readonly cases: readonly UiOpenCase[];
  readonly ratio: number;
  readonly loadAverage: readonly number[];
}

export async function benchUiOpen(opts: { runs?: number; layers?: number; seed?: number } = {}): Promise<UiOpenBench> {
  const runs = opts.runs ?? 7;
  const tmp = mkdtempSync(path.join(tmpdir(), 'tandem-bench-open-'));
  const backend = new Backend({ workspace: path.join(tmp, 'ws'), store: path.join(tmp, 'runs.sqlite') });
  const server = await startAppServer({ api: backend, staticDir: path.join(ROOT, 'dist', 'ui', 'app') });
  const browser = await launchChromium();
  try {
    const onnx = path.join(tmp, 'synthetic-200.onnx');
    await exportModel(residualChain(opts.layers ?? 200, opts.seed ?? 1), 'onnx', onnx);
    const { model } = await backend.uploadModel({ name: 'synthetic-200.onnx', base64: readFileSync(onnx).toString('base64') });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    const cases: UiOpenCase[] = [];
    for (const ref of [model, 'fmnist-vgg']) {
      const nodes = (await backend.openModel({ model: ref })).nodes.length;
      const times: number[] = [];
      for (let i = 0; i <= runs; i++) {
        await page.click('nav a[data-view="project"]');
        await page.waitForSelector('select.project-model');
        await page.selectOption('select.project-model', ref);
        const t0 = await page.evaluate(() => performance.now());
        await page.click('nav a[data-view="graph"]');
        await page.waitForSelector('#view[data-ready="true"]', { timeout: 60_000 });
        const t1 = await page.evaluate(() => performance.now());
        if (i > 0) times.push(t1 - t0); // the first open warms the worker and the JIT
      }
      cases.push({ model: ref, nodes, medianMs: median(times), runsMs: times });
    }
    return { cases, ratio: cases[0].medianMs / cases[1].medianMs, loadAverage: loadavg() };
  } finally {
    await browser.close();
    backend.jobs.stopAll();
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function uiOpenLines(r: UiOpenBench): string[] {
  return [
    `app: open a model and lay out its graph (API + worker layout + SVG), headless Chromium (goal: < 1 s at 200 layers)`,
    ...r.cases.map((c) => `  ${c.model.padEnd(26)} ${String(c.nodes).padStart(4)} nodes: median ${c.medianMs.toFixed(0)} ms (runs ${c.runsMs.map((x) => x.toFixed(0)).join(' ')})`),
    `  ratio 200-layer / fmnist-vgg: ${r.ratio.toFixed(2)}; load average ${r.loadAverage.map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(uiOpenLines(await benchUiOpen()).join('\n') + '\n');
}
