// `node dist/bench/ui-charts.js [--quick]`: how long each d3 chart takes to draw in headless Chromium at the
// sizes the views meet (a model's layers, a co-design run's candidates) and well past them, and the 2× PNG
// export. Prints the median of each, the time per mark, and the ratio of the largest size's time per mark to
// the smallest's (about 1 when drawing scales linearly). Data are seeded.
import type { Page } from 'playwright-core';
import { serveChartHarness } from '../test/ui-charts-harness.js';
import { haveChromium, launchChromium } from '../test/ui-browser.js';
import { median } from './stats.js';

interface Harnessed {
  chartHarness: {
    timeMount(kind: string, data: unknown, options: Record<string, unknown>, repeats: number): number[];
    timePng(kind: string, data: unknown, options: Record<string, unknown>, repeats: number): Promise<number[]>;
  };
}

const quick = process.argv.includes('--quick');
const REPEATS = quick ? 5 : 15;

/** A seeded LCG, uniform in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

type Make = (n: number, r: () => number) => unknown;
const CASES: { kind: string; what: string; sizes: number[]; marks: (n: number) => number; data: Make; options?: Record<string, unknown> }[] = [
  { kind: 'bar', what: 'layers', sizes: [8, 50, 400], marks: (n) => n, data: (n, r) => ({ rows: Array.from({ length: n }, (_, i) => ({ key: `layer${i}`, value: 40 * r() - 5 })) }) },
  {
    kind: 'errorbar',
    what: 'layers × (30 samples + 3 predictors)',
    sizes: [8, 50, 400],
    marks: (n) => 4 * n,
    data: (n, r) => ({ rows: Array.from({ length: n }, (_, i) => ({ key: `layer${i}`, samples: Array.from({ length: 30 }, () => 1e-4 * (1 + r())), others: { lut: 1e-4 * (1 + r()), 'flop-linear': 1e-4, forest: 1.2e-4 } })) }),
    options: { log: true },
  },
  { kind: 'scatter', what: 'candidates', sizes: [10, 200, 4000], marks: (n) => n, data: (n, r) => ({ points: Array.from({ length: n }, (_, i) => ({ key: `c${i}`, x: r(), y: r(), category: `s${i % 3}`, front: r() < 0.1, muted: r() < 0.3 })) }) },
  { kind: 'line', what: 'points in 4 series', sizes: [20, 400, 8000], marks: (n) => n, data: (n, r) => ({ series: Array.from({ length: 4 }, (_, s) => ({ key: `s${s}`, points: Array.from({ length: n / 4 }, (_, i) => ({ x: i, y: r() })) })) }) },
  { kind: 'histogram', what: 'bins', sizes: [40, 400], marks: (n) => n, data: (n, r) => ({ edges: Array.from({ length: n + 1 }, (_, i) => i / n), counts: Array.from({ length: n }, () => Math.round(1000 * r())) }) },
];

async function main(): Promise<void> {
  if (!haveChromium()) throw new Error('no Chromium (set TANDEM_CHROMIUM)');
  const served = await serveChartHarness();
  const browser = await launchChromium();
  try {
    const page: Page = await browser.newPage();
    await page.goto(served.url);
    await page.waitForFunction(() => (globalThis as unknown as Partial<Harnessed>).chartHarness !== undefined);
    const lines: string[] = [`chart draw time in headless Chromium (SwiftShader), median of ${REPEATS}`];
    for (const c of CASES) {
      const perMark: number[] = [];
      for (const n of c.sizes) {
        const data = c.data(n, rng(n));
        const ms = median(await page.evaluate(([k, d, o, rep]) => (globalThis as unknown as Harnessed).chartHarness.timeMount(k, d, o, rep), [c.kind, data, c.options ?? {}, REPEATS] as const));
        perMark.push(ms / c.marks(n));
        lines.push(`  ${c.kind.padEnd(9)} ${String(n).padStart(5)} ${c.what}: ${ms.toFixed(2).padStart(8)} ms (${((1000 * ms) / c.marks(n)).toFixed(1)} µs per mark)`);
      }
      lines.push(`  ${c.kind.padEnd(9)} time per mark, largest / smallest size: ${(perMark.at(-1)! / perMark[0]).toFixed(2)}`);
    }
    for (const n of [8, 400]) {
      const ms = median(await page.evaluate(([d, rep]) => (globalThis as unknown as Harnessed).chartHarness.timePng('bar', d, {}, rep), [CASES[0].data(n, rng(n)), REPEATS] as const));
      lines.push(`  PNG export (2×, 640×320 chart) of ${n} bars: ${ms.toFixed(1)} ms`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await browser.close();
    await served.close();
  }
}

await main();
