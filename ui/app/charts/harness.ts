// Test and benchmark page for the charts (bundled only by test/ui-charts.test.ts and bench/ui-charts.ts, never
// by the app): mounts any chart on data handed in from Playwright, and records point clicks.
import { barChart } from './bar.js';
import { errorBarChart } from './errorbar.js';
import { pngBlob } from './export.js';
import type { ChartHandle } from './frame.js';
import { histogramChart } from './histogram.js';
import { lineChart } from './line.js';
import { scatterChart } from './scatter.js';

const CHARTS = { bar: barChart, histogram: histogramChart, line: lineChart, scatter: scatterChart, errorbar: errorBarChart };
export type ChartKind = keyof typeof CHARTS;
type AnyChart = (el: HTMLElement, data: unknown, o: Record<string, unknown>) => ChartHandle<unknown>;

const handles: ChartHandle<unknown>[] = [];
const clicks: string[] = [];

const harness = {
  /** Mounts a chart in a new <section id="chart-<n>"> and returns n. */
  mount(kind: ChartKind, data: unknown, options: Record<string, unknown> = {}): number {
    const box = document.createElement('section');
    box.id = `chart-${handles.length}`;
    document.body.append(box);
    handles.push((CHARTS[kind] as AnyChart)(box, data, { ...options, onClick: (k: string) => clicks.push(k) }));
    return handles.length - 1;
  },
  update(n: number, data: unknown): void {
    handles[n].update(data);
  },
  csv(n: number): string {
    return handles[n].csv();
  },
  clicks(): string[] {
    return [...clicks];
  },
  /** An exported SVG parsed back as a standalone document. */
  parseSvg(text: string): { error: string | null; root: string; ns: string | null; bars: (string | null)[] } {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return { error: doc.querySelector('parsererror')?.textContent ?? null, root: doc.documentElement.localName, ns: doc.documentElement.namespaceURI, bars: [...doc.querySelectorAll('rect.bar')].map((r) => r.getAttribute('data-value')) };
  },
  /** Pixels of exactly this color in a PNG (base64), decoded by the browser. */
  async pngPixels(b64: string, rgb: readonly [number, number, number]): Promise<number> {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    [c.width, c.height] = [img.width, img.height];
    const g = c.getContext('2d')!;
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] === rgb[0] && px[i + 1] === rgb[1] && px[i + 2] === rgb[2]) n++;
    return n;
  },
  /** Milliseconds to draw a chart (through layout), once per repeat, each on an empty page. */
  timeMount(kind: ChartKind, data: unknown, options: Record<string, unknown>, repeats: number): number[] {
    const ms: number[] = [];
    for (let r = 0; r < repeats; r++) {
      harness.clear();
      const t0 = performance.now();
      const n = harness.mount(kind, data, options);
      handles[n].root.getBoundingClientRect();
      ms.push(performance.now() - t0);
    }
    harness.clear();
    return ms;
  },
  /** Milliseconds to make the 2× PNG of a drawn chart, once per repeat. */
  async timePng(kind: ChartKind, data: unknown, options: Record<string, unknown>, repeats: number): Promise<number[]> {
    harness.clear();
    const n = harness.mount(kind, data, options);
    const ms: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await pngBlob(handles[n].svg());
      ms.push(performance.now() - t0);
    }
    harness.clear();
    return ms;
  },
  clear(): void {
    document.body.replaceChildren();
    handles.length = 0;
    clicks.length = 0;
  },
};

declare global {
  interface Window {
    chartHarness: typeof harness;
  }
}
window.chartHarness = harness;
