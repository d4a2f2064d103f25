// The model graph view in headless Chromium: a 200-layer synthetic CNN handed to the view (the harness page,
// ui/app/graph/harness.ts) until data-ready, i.e. dagre layout in the worker, copying, and the d3 drawing;
// the layout alone (inside the worker); and the next painted frame. Baseline in the same run: the same
// pipeline on a 20-layer model, runs interleaved with the 200-layer ones so load changes hit both.
// Acceptance goal: 200 layers open and lay out in < 1 s (median).
import { loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import type { ModelGraph } from '../ui/api/types.js';
import type { GraphHarness, HarnessTimings } from '../ui/app/graph/harness-api.js';
import { launchChromium } from '../test/ui-browser.js';
import { syntheticModelGraph } from '../test/ui-fixtures.js';
import { serveGraphHarness } from '../test/ui-graph-harness.js';
import { median } from './stats.js';

export interface UiGraphCase {
  readonly layers: number;
  /** Handed over -> data-ready, median. */
  readonly medianMs: number;
  /** dagre inside the worker, median. */
  readonly layoutMs: number;
  readonly roundTripMs: number;
  readonly drawMs: number;
  /** Handed over -> next painted frame, median. */
  readonly frameMs: number;
  /** The page's first graph: includes starting the worker (loading and parsing its module). */
  readonly coldMs: number;
  /** Panning one step per animation frame, median frame interval (16.7 ms: the display's 60 Hz kept). */
  readonly panFrameMs: number;
}

export interface UiGraphBench extends UiGraphCase {
  readonly runs: number;
  readonly baseline: UiGraphCase;
  /** medianMs of 200 layers over that of 20. */
  readonly ratio: number;
  readonly goalMs: 1000;
  readonly load: readonly [number, number];
}

type Harnessed = { graphHarness: GraphHarness };

async function show(page: Page, graph: ModelGraph): Promise<HarnessTimings> {
  return page.evaluate((g) => (globalThis as unknown as Harnessed).graphHarness.show(g), graph);
}

async function panFrameMs(page: Page, graph: ModelGraph): Promise<number> {
  await show(page, graph);
  return median(await page.evaluate(() => (globalThis as unknown as Harnessed).graphHarness.panFrames(60)));
}

function summarize(layers: number, cold: HarnessTimings, xs: readonly HarnessTimings[], pan: number): UiGraphCase {
  const m = (k: keyof HarnessTimings) => median(xs.map((x) => x[k]));
  return { layers, medianMs: m('readyMs'), layoutMs: m('layoutMs'), roundTripMs: m('roundTripMs'), drawMs: m('drawMs'), frameMs: m('frameMs'), coldMs: cold.readyMs, panFrameMs: pan };
}

export async function benchUiGraph(opts: { runs?: number; layers?: number; baselineLayers?: number; seed?: number } = {}): Promise<UiGraphBench> {
  const { runs = 9, layers = 200, baselineLayers = 20, seed = 7 } = opts;
  const big = syntheticModelGraph(layers, seed);
  const small = syntheticModelGraph(baselineLayers, seed);
  const load0 = loadavg()[0];
  const [browser, served] = await Promise.all([launchChromium(), serveGraphHarness()]);
  try {
    const results: Record<'big' | 'small', { cold?: HarnessTimings; xs: HarnessTimings[] }> = { big: { xs: [] }, small: { xs: [] } };
    // A fresh page (and worker) per size for the cold figure; then both sizes alternate on one page.
    for (const [key, graph] of [['big', big], ['small', small]] as const) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(served.url);
      await page.waitForFunction(() => (globalThis as unknown as Partial<Harnessed>).graphHarness !== undefined);
      results[key].cold = await show(page, graph);
      await page.close();
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(served.url);
    await page.waitForFunction(() => (globalThis as unknown as Partial<Harnessed>).graphHarness !== undefined);
    await show(page, big); // warm-up: worker start, JIT
    await show(page, small);
    for (let i = 0; i < runs; i++) {
      results.big.xs.push(await show(page, big));
      results.small.xs.push(await show(page, small));
    }
    const main = summarize(layers, results.big.cold!, results.big.xs, await panFrameMs(page, big));
    const baseline = summarize(baselineLayers, results.small.cold!, results.small.xs, await panFrameMs(page, small));
    return { ...main, runs, baseline, ratio: main.medianMs / baseline.medianMs, goalMs: 1000, load: [load0, loadavg()[0]] };
  } finally {
    await browser.close();
    await served.close();
  }
}

export function uiGraphBenchLines(r: UiGraphBench): string[] {
  const row = (c: UiGraphCase) =>
    `  ${String(c.layers).padStart(4)} layers: ready ${c.medianMs.toFixed(0).padStart(5)} ms   layout (worker) ${c.layoutMs.toFixed(0).padStart(5)} ms   round trip ${c.roundTripMs.toFixed(0).padStart(5)} ms   draw ${c.drawMs.toFixed(0).padStart(4)} ms   painted ${c.frameMs.toFixed(0).padStart(5)} ms   cold ${c.coldMs.toFixed(0).padStart(5)} ms   pan frame ${c.panFrameMs.toFixed(1)} ms`;
  return [
    `model graph view, headless Chromium, medians of ${r.runs} runs after a warm-up (load average ${r.load[0].toFixed(2)} -> ${r.load[1].toFixed(2)}):`,
    row(r),
    row(r.baseline),
    `  ${r.layers} / ${r.baseline.layers} layers, ready: ${r.ratio.toFixed(2)}x; goal: ${r.layers} layers ready < ${r.goalMs} ms: ${r.medianMs < r.goalMs ? 'met' : 'NOT met'}`,
  ];
}
