// `node dist/bench/ui-dataflow.js [--quick]`: frames per second of the 3D dataflow view in headless
// Chromium with SwiftShader (test/ui-browser.ts), canvas 1280×720, playing the steps with the camera
// orbiting, on a synthetic Schedule of 10,000 arrays; baseline in the same run: 100 arrays (ratio).
// Goal: ≥ 50 fps at 10,000 arrays.
//
// Three figures per case, medians: fps from requestAnimationFrame timestamps and the scene's own render
// counter (windows of 1 s; every frame renders while playing), ms per render() timed directly with a
// 1-pixel readPixels to wait for the GPU (SwiftShader) to finish, and — as the ceiling any canvas of
// this size gets from the page's compositor on this machine at this moment — fps of a WebGL canvas that
// is only cleared. The 1-minute load average is printed too: the machine is shared.
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/ui-browser.js';
import { bundleHarness, openHarness } from '../test/ui-dataflow-page.js';
import { syntheticSchedule } from '../test/ui-fixtures-schedule.js';
import { median } from './stats.js';

const WIDTH = 1280;
const HEIGHT = 720;
const SEED = 1;

export interface DataflowCase {
  readonly arrays: number;
  /** Whole boxes at every size (the view's level of detail turned off). */
  readonly fullDetail: boolean;
  readonly fps: number;
  readonly fpsWindows: readonly number[];
  readonly renderMs: number;
  /** Fraction of full resolution the view's dynamic resolution settled at while playing and orbiting. */
  readonly motionResolution: number;
}

export interface UiDataflowBench {
  /** Median fps at 10,000 arrays, the view as shipped. */
  readonly fps: number;
  readonly cases: readonly DataflowCase[];
  /** fps at 10,000 arrays / fps at 100. */
  readonly ratio: number;
  /** fps of a cleared-only canvas of the same size. */
  readonly ceilingFps: number;
  readonly loadAverage: readonly number[];
}

interface PageHarness {
  dfHarness: {
    mount(o: { schedule: string; width: number; height: number; detailPx?: number }): Promise<number>;
    fps(windows: number, windowMs: number): Promise<number[]>;
    motionResolution(): number;
    timedRenders(n: number): number[];
    clearFps(width: number, height: number, windows: number, windowMs: number): Promise<number[]>;
  };
}

async function measure(page: Page, file: string, arrays: number, fullDetail: boolean, windows: number): Promise<DataflowCase> {
  const count = await page.evaluate(
    ([f, full, w, h]) => (globalThis as unknown as PageHarness).dfHarness.mount({ schedule: f, width: w, height: h, detailPx: full ? 0 : undefined }),
    [file, fullDetail, WIDTH, HEIGHT] as const,
  );
  if (count !== arrays) throw new Error(`${file}: ${count} array instances, expected ${arrays}`);
  await page.waitForSelector('#view[data-ready="true"]');
  // Warm-up: shader compilation, first uploads.
  await page.evaluate(() => (globalThis as unknown as PageHarness).dfHarness.fps(1, 1000));
  const fps = await page.evaluate(([n, ms]) => (globalThis as unknown as PageHarness).dfHarness.fps(n, ms), [windows, 1000] as const);
  const motionResolution = await page.evaluate(() => (globalThis as unknown as PageHarness).dfHarness.motionResolution());
  const renderMs = median(await page.evaluate((n) => (globalThis as unknown as PageHarness).dfHarness.timedRenders(n), 30));
  return { arrays, fullDetail, fps: median(fps), fpsWindows: fps, renderMs, motionResolution };
}

export async function benchUiDataflow(opts: { quick?: boolean; log?: (s: string) => void } = {}): Promise<UiDataflowBench> {
  const log = opts.log ?? (() => {});
  const windows = opts.quick ? 5 : 7;
  const [browser, bundle] = await Promise.all([launchChromium(), bundleHarness()]);
  try {
    const { page, errors } = await openHarness(
      browser,
      bundle,
      { 'a10000.json': JSON.stringify(syntheticSchedule(10000, SEED)), 'a100.json': JSON.stringify(syntheticSchedule(100, SEED)) },
      { width: WIDTH + 480, height: HEIGHT + 240 },
    );
    const cases: DataflowCase[] = [];
    for (const [arrays, full] of [
      [10000, false],
      [10000, true],
      [100, false],
    ] as const) {
      log(`dataflow view: ${arrays} arrays${full ? ', full detail' : ''}...`);
      cases.push(await measure(page, `a${arrays}.json`, arrays, full, windows));
    }
    log('ceiling: a cleared-only WebGL canvas...');
    const ceiling = await page.evaluate(([w, h, n]) => (globalThis as unknown as PageHarness).dfHarness.clearFps(w, h, n, 1000), [WIDTH, HEIGHT, windows] as const);
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    const main = cases[0];
    return { fps: main.fps, cases, ratio: main.fps / cases[2].fps, ceilingFps: median(ceiling), loadAverage: loadavg() };
  } finally {
    await browser.close();
    bundle.dispose();
  }
}

export function uiDataflowLines(r: UiDataflowBench): string[] {
  const f = (x: number) => x.toFixed(1);
  return [
    `3D dataflow view, headless Chromium + SwiftShader, ${WIDTH}x${HEIGHT}, playing + orbiting (goal: >= 50 fps at 10,000 arrays; dynamic resolution while moving, full when still)`,
    ...r.cases.map((c) => `  ${String(c.arrays).padStart(6)} arrays${c.fullDetail ? ' (full detail)' : '              '}: ${f(c.fps)} fps (windows ${c.fpsWindows.map(f).join(' ')}) at ${c.motionResolution.toFixed(2)}x resolution while moving, render ${f(c.renderMs)} ms (${f(1000 / c.renderMs)} renders/s)`),
    `  ratio 10,000 / 100 arrays: ${r.ratio.toFixed(2)}; ceiling (cleared-only canvas): ${f(r.ceilingFps)} fps; load average ${r.loadAverage.map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchUiDataflow({ quick: process.argv.includes('--quick'), log: (s) => process.stderr.write(`${s}\n`) });
  process.stdout.write(uiDataflowLines(r).join('\n') + '\n');
}
