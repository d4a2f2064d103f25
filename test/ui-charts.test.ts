// The d3 charts (ui/app/charts) in headless Chromium, on the harness page under the app's CSP, fed real CLI
// outputs (test/fixtures/ui): one mark per datum carrying its exact number, positions that follow the scale
// (bars monotone in value and proportional from 0, equal log steps for equal ratios, whiskers at the
// samples' min/max or quartiles as read back through the axis), and the exports: CSV equal to the data, an
// SVG that parses with the same bars, a PNG at 2× the chart's size with something drawn on it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { artifactDir, haveChromium, launchChromium } from './ui-browser.js';
import { type Served, downloadBytes, parseCsv, pngSize, serveChartHarness } from './ui-charts-harness.js';
import { codesignFixture, latencyFixture, simFixture } from './ui-views-fixtures.js';

interface Harnessed {
  chartHarness: {
    mount(kind: string, data: unknown, options?: Record<string, unknown>): number;
    update(n: number, data: unknown): void;
    csv(n: number): string;
    clicks(): string[];
    parseSvg(text: string): { error: string | null; root: string; ns: string | null; bars: (string | null)[] };
    pngPixels(b64: string, rgb: readonly [number, number, number]): Promise<number>;
    clear(): void;
  };
}

interface Mark {
  key: string;
  value: string;
  cls: string;
  x: number;
  y: number;
  width: number;
  height: number;
  series: string | null;
  fill: string;
}

const exact = simFixture('exact');

let browser: Browser;
let page: Page;
let served: Served;

async function mount(kind: string, data: unknown, options: Record<string, unknown> = {}): Promise<string> {
  const n = await page.evaluate(([k, d, o]) => (globalThis as unknown as Harnessed).chartHarness.mount(k as string, d, o as Record<string, unknown>), [kind, data, options] as const);
  return `#chart-${n}`;
}

const marks = (sel: string): Promise<Mark[]> =>
  page.$$eval(sel, (els) =>
    els.map((e) => ({
      key: e.getAttribute('data-key') ?? '',
      value: e.getAttribute('data-value') ?? '',
      cls: e.getAttribute('class') ?? '',
      x: Number(e.getAttribute('x')),
      y: Number(e.getAttribute('y')),
      width: Number(e.getAttribute('width')),
      height: Number(e.getAttribute('height')),
      series: e.getAttribute('data-series'),
      fill: e.getAttribute('fill') ?? '',
    })),
  );

/** The y scale as drawn, read back from the axis: tick values (d3's bound data) against their positions. */
async function yScaleOf(chart: string, log: boolean): Promise<(v: number) => number> {
  const ticks = await page.$$eval(`${chart} .y-axis .tick`, (els) => els.map((e) => ({ v: Number(e.__data__), t: e.getAttribute('transform') ?? '' })));
  // d3-axis offsets ticks by half a pixel on screens of devicePixelRatio 1 (crisp lines)
  const offset = (await page.evaluate(() => (globalThis as unknown as { devicePixelRatio: number }).devicePixelRatio)) > 1 ? 0 : 0.5;
  const pts = ticks.map((k) => ({ u: log ? Math.log10(k.v) : k.v, y: Number(/translate\(0,([-\d.e]+)\)/.exec(k.t)![1]) - offset }));
  assert.ok(pts.length >= 2, `${chart}: ${pts.length} y ticks`);
  const [a, b] = [pts[0], pts[pts.length - 1]];
  const slope = (b.y - a.y) / (b.u - a.u);
  return (v) => a.y + slope * ((log ? Math.log10(v) : v) - a.u);
}

/** Linear interpolation between order statistics (R-7, numpy's default), written out independently. */
function quantile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}

describe('charts in headless Chromium', { skip: !haveChromium() && 'no Chromium' }, () => {
  before(async () => {
    served = await serveChartHarness();
    browser = await launchChromium();
    page = await browser.newPage({ acceptDownloads: true });
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(served.url);
    await page.waitForFunction(() => (globalThis as unknown as Partial<Harnessed>).chartHarness !== undefined);
  });
  after(async () => {
    await browser?.close();
    await served?.close();
  });

  test('bar: one rect.bar per Report row with its exact number; bar ends monotone in value, heights proportional from 0', async () => {
    const rows = exact.report.rows.map((r) => ({ key: r.layer, value: r.error!.sqnrDb! }));
    const chart = await mount('bar', { rows }, { yLabel: 'SQNR (dB)' });
    const bars = await marks(`${chart} rect.bar`);
    assert.equal(bars.length, exact.report.rows.length);
    assert.deepEqual(
      bars.map((b) => b.key),
      rows.map((r) => r.key),
    );
    bars.forEach((b, i) => assert.equal(b.value, String(rows[i].value), b.key));
    bars.forEach((b, i) => assert.equal(Number(b.value), rows[i].value));
    // the value end of a bar (its top for v ≥ 0) rises strictly with the value
    const end = (b: Mark, v: number) => (v >= 0 ? b.y : b.y + b.height);
    const order = rows.map((_, i) => i).sort((i, j) => rows[i].value - rows[j].value);
    for (let k = 1; k < order.length; k++) {
      const [i, j] = [order[k - 1], order[k]];
      if (rows[i].value < rows[j].value) assert.ok(end(bars[i], rows[i].value) > end(bars[j], rows[j].value), `${rows[i].key} ${rows[i].value} vs ${rows[j].key} ${rows[j].value}`);
    }
    const positive = rows.map((_, i) => i).filter((i) => rows[i].value > 0);
    const k = bars[positive[0]].height / rows[positive[0]].value;
    for (const i of positive) assert.ok(Math.abs(bars[i].height - k * rows[i].value) < 1e-6 * bars[i].height + 1e-9, `${rows[i].key}: height ${bars[i].height}`);
    await page.locator(chart).screenshot({ path: path.join(artifactDir('ui-charts'), 'bar-sqnr.png') });
  });

  test('bar: negative values point down from the zero line; log scale: equal ratios are equal steps, values ≤ 0 or missing are off-scale', async () => {
    const lin = await mount('bar', { rows: [{ key: 'a', value: 12 }, { key: 'b', value: -3 }, { key: 'c', value: 0.5 }] });
    const [a, b, c] = await marks(`${lin} rect.bar`);
    const zero = Number(await page.getAttribute(`${lin} line.zero`, 'y1'));
    assert.ok(Math.abs(a.y + a.height - zero) < 1e-9 && Math.abs(b.y - zero) < 1e-9 && Math.abs(c.y + c.height - zero) < 1e-9, 'bars start at the zero line');
    assert.ok(Math.abs(b.height - (a.height * 3) / 12) < 1e-6, `negative bar height ${b.height}, positive ${a.height}`);
    assert.notEqual(b.fill, a.fill, 'a negative bar has its own color');

    const rows = [1, 10, 100, 0, -1, null].map((value, i) => ({ key: `k${i}`, value }));
    const log = await mount('bar', { rows }, { log: true });
    const lb = await marks(`${log} rect.bar`);
    assert.equal(lb.length, rows.length);
    assert.ok(Math.abs(lb[1].height - lb[0].height - (lb[2].height - lb[1].height)) < 1e-6, `log steps ${lb.map((x) => x.height).join(', ')}`);
    for (const i of [3, 4, 5]) {
      assert.ok(lb[i].cls.includes('off-scale') && lb[i].height === 0, `${rows[i].value} is off-scale`);
      assert.equal(lb[i].value, String(rows[i].value));
    }
    const y = await yScaleOf(log, true);
    assert.ok(Math.abs(y(100) - lb[2].y) < 1e-6, 'the tallest bar reaches the axis position of 100');
  });

  test("bar: rows sharing a layer (a decomposed layer's parts) get a bar each, keyed by the layer, labelled by the node", async () => {
    const rows = [
      { key: 'conv2', label: 'conv2/cp.in', value: 3 },
      { key: 'conv2', label: 'conv2/cp.out', value: 4 },
      { key: 'conv3', value: 5 },
    ];
    const chart = await mount('bar', { rows });
    const bars = await marks(`${chart} rect.bar`);
    assert.deepEqual(
      bars.map((b) => [b.key, Number(b.value)]),
      rows.map((r) => [r.key, r.value]),
    );
    assert.equal(new Set(bars.map((b) => b.x)).size, 3, 'three places on x');
    assert.deepEqual(await page.$$eval(`${chart} .x-axis .tick text`, (els) => els.map((e) => e.textContent)), ['conv2/cp.in', 'conv2/cp.out', 'conv3']);
    const n = Number(chart.replace('#chart-', ''));
    assert.deepEqual(parseCsv(await page.evaluate((i) => (globalThis as unknown as Harnessed).chartHarness.csv(i), n)), [['key', 'label', 'value'], ['conv2', 'conv2/cp.in', '3'], ['conv2', 'conv2/cp.out', '4'], ['conv3', 'conv3', '5']]);
  });

  test('update: the marks follow the new data (bars leave, change and arrive by key)', async () => {
    const chart = await mount('bar', { rows: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'c', value: 3 }] });
    const n = Number(chart.replace('#chart-', ''));
    const next = [{ key: 'c', value: 30 }, { key: 'd', value: -4 }];
    await page.evaluate(([i, d]) => (globalThis as unknown as Harnessed).chartHarness.update(i, d), [n, { rows: next }] as const);
    const bars = await marks(`${chart} rect.bar`);
    assert.deepEqual(
      bars.map((b) => [b.key, Number(b.value)]),
      next.map((r) => [r.key, r.value]),
    );
    assert.deepEqual(parseCsv(await page.evaluate((i) => (globalThis as unknown as Harnessed).chartHarness.csv(i), n)), [['key', 'value'], ['c', '30'], ['d', '-4']]);
  });

  test('exports: CSV equal to the drawn rows, an SVG that parses with the same bars, a PNG of 2× the size with the chart drawn', async () => {
    await page.evaluate(() => (globalThis as unknown as Harnessed).chartHarness.clear());
    const rows = exact.report.rows.map((r) => ({ key: r.layer, value: r.error!.relativeError! }));
    const chart = await mount('bar', { rows }, { yLabel: 'relative error', width: 500, height: 300 });
    const out = artifactDir('ui-charts');

    const click = async (cls: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(`${chart} button.${cls}`)]);
      return { name: d.suggestedFilename(), bytes: await downloadBytes(d) };
    };
    const csv = await click('export-csv');
    assert.equal(csv.name, 'bar.csv');
    const table = parseCsv(csv.bytes.toString('utf8'));
    assert.deepEqual(table[0], ['key', 'value']);
    assert.equal(table.length - 1, rows.length);
    table.slice(1).forEach(([k, v], i) => {
      assert.equal(k, rows[i].key);
      assert.equal(Number(v), rows[i].value);
    });

    const svg = await click('export-svg');
    assert.equal(svg.name, 'bar.svg');
    writeFileSync(path.join(out, 'bar.svg'), svg.bytes);
    const parsed = await page.evaluate((text) => (globalThis as unknown as Harnessed).chartHarness.parseSvg(text), svg.bytes.toString('utf8'));
    assert.equal(parsed.error, null);
    assert.equal(parsed.root, 'svg');
    assert.equal(parsed.ns, 'http://www.w3.org/2000/svg');
    assert.deepEqual(
      parsed.bars,
      rows.map((r) => String(r.value)),
    );

    const png = await click('export-png');
    assert.equal(png.name, 'bar.png');
    writeFileSync(path.join(out, 'bar.png'), png.bytes);
    assert.deepEqual(pngSize(png.bytes), { width: 1000, height: 600 });
    // decoded back in the page: the bars' blue is there, so the SVG was drawn and not a blank canvas
    const blue = await page.evaluate((b64) => (globalThis as unknown as Harnessed).chartHarness.pngPixels(b64, [0x24, 0x63, 0xeb]), png.bytes.toString('base64'));
    assert.ok(blue > 1000, `${blue} bar-colored pixels in the PNG`);
  });

  test('histogram: one rect.bin per bin with its count, heights proportional to counts; CSV rows are the bins and tails', async () => {
    const h = exact.runs[0].result.layers[1].histogram;
    const chart = await mount('histogram', h, { xLabel: '(y − ref) / rms(ref)' });
    const bins = await page.$$eval(`${chart} rect.bin`, (els) => els.map((e) => ({ v: Number(e.getAttribute('data-value')), x0: Number(e.getAttribute('data-x0')), height: Number(e.getAttribute('height')) })));
    assert.equal(bins.length, h.counts.length);
    assert.deepEqual(
      bins.map((b) => b.v),
      h.counts,
    );
    assert.deepEqual(
      bins.map((b) => b.x0),
      h.edges.slice(0, -1),
    );
    const peak = Math.max(...h.counts);
    const k = bins[h.counts.indexOf(peak)].height / peak;
    bins.forEach((b) => assert.ok(Math.abs(b.height - k * b.v) < 1e-6, `bin at ${b.x0}: height ${b.height} for ${b.v}`));
    const table = parseCsv(await page.evaluate((n) => (globalThis as unknown as Harnessed).chartHarness.csv(n), Number(chart.replace('#chart-', ''))));
    const tails = (h.below ? 1 : 0) + (h.above ? 1 : 0);
    assert.equal(table.length - 1, h.counts.length + tails);
    const body = table.slice(1 + (h.below ? 1 : 0), 1 + (h.below ? 1 : 0) + h.counts.length);
    body.forEach(([x0, x1, c], i) => assert.deepEqual([Number(x0), Number(x1), Number(c)], [h.edges[i], h.edges[i + 1], h.counts[i]]));
    if (tails) assert.match((await page.textContent(`${chart} text.tails`)) ?? '', new RegExp(String(h.below || h.above)));
  });

  test('line: one path.series per series, one marker per point at its value; symlog x keeps t = 0 and orders the times', async () => {
    const drift = simFixture('drift');
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const series = [{ key: 'rram-128', points: drift.runs.map((r) => ({ x: r.timeS, y: mean(r.result.accuracy), label: r.label })) }];
    const bits = [3, 4, 5].map((b) => ({ x: b, y: b / 10 }));
    const chart = await mount('line', { series: [...series, { key: 'second', points: bits }] }, { xScale: 'symlog', xTicks: drift.runs.map((r) => ({ value: r.timeS, label: r.label })) });
    assert.deepEqual(await page.$$eval(`${chart} path.series`, (els) => els.map((e) => e.getAttribute('data-key'))), ['rram-128', 'second']);
    const m = await page.$$eval(`${chart} circle.marker[data-key="rram-128"]`, (els) => els.map((e) => ({ x: Number(e.getAttribute('data-x')), y: Number(e.getAttribute('data-y')), cx: Number(e.getAttribute('cx')), cy: Number(e.getAttribute('cy')) })));
    assert.equal(m.length, drift.runs.length);
    m.forEach((p, i) => assert.deepEqual([p.x, p.y], [series[0].points[i].x, series[0].points[i].y]));
    assert.equal(m[0].cx, 0, 't = 0 at the left edge');
    for (let i = 1; i < m.length; i++) assert.ok(m[i].cx > m[i - 1].cx, 'later times further right');
    const y = await yScaleOf(chart, false);
    m.forEach((p) => assert.ok(Math.abs(y(p.y) - p.cy) < 1e-6, `marker at ${p.y}: cy ${p.cy}, axis ${y(p.y)}`));
    assert.deepEqual(await page.$$eval(`${chart} .x-axis .tick text`, (els) => els.map((e) => e.textContent)), drift.runs.map((r) => r.label));
  });

  test('scatter: one circle.point per candidate, front points flagged and joined, infeasible grey, a click calls back with the key', async () => {
    const run = codesignFixture('greedy-macs');
    const points = run.candidatesDetail.map((c) => ({ key: c.id, x: c.metrics['macs'], y: c.metrics['accuracy'], category: c.strategy, front: c.onFront, muted: !c.feasible }));
    const chart = await mount('scatter', { points }, { xLabel: 'MACs', yLabel: 'accuracy' });
    const drawn = await page.$$eval(`${chart} circle.point`, (els) => els.map((e) => ({ key: e.getAttribute('data-key'), front: e.getAttribute('data-front'), fill: e.getAttribute('fill'), x: Number(e.getAttribute('data-x')) })));
    assert.equal(drawn.length, run.candidatesDetail.length);
    const byKey = new Map(drawn.map((d) => [d.key, d]));
    for (const c of run.candidatesDetail) {
      const d = byKey.get(c.id)!;
      assert.equal(d.front, String(c.onFront), c.id);
      assert.equal(d.x, c.metrics['macs']);
      assert.equal(d.fill === '#c0c4cc', !c.feasible, `${c.id} grey iff infeasible`);
    }
    const front = run.candidatesDetail.filter((c) => c.onFront).length;
    assert.ok(front >= 2, 'the fixture has a front of several points');
    const d = (await page.getAttribute(`${chart} path.front-line`, 'd')) ?? '';
    assert.equal(d.split(/[ML]/).filter(Boolean).length, front, `front line ${d}`);
    await page.click(`${chart} circle.point[data-key="c3"]`, { force: true });
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Harnessed).chartHarness.clicks()), ['c3']);
    await page.locator(chart).screenshot({ path: path.join(artifactDir('ui-charts'), 'scatter.png') });
  });

  for (const [whisker, log] of [
    ['minmax', true],
    ['iqr', false],
  ] as const)
    test(`error bars (${whisker}, ${log ? 'log' : 'linear'}): median bars, whisker ends at the samples' ${whisker === 'iqr' ? 'quartiles' : 'min and max'} in scale space, one bar per predictor`, async () => {
      const cmp = latencyFixture('profile-host');
      const rows = cmp.layers.map((l) => ({ key: l.layer, samples: l.samples, others: l.predicted }));
      const chart = await mount('errorbar', { rows }, { whisker, log, yLabel: 'latency (s)' });
      const bars = await marks(`${chart} rect.bar`);
      const predictors = Object.keys(cmp.layers[0].predicted);
      assert.equal(bars.length, cmp.layers.length * (1 + predictors.length));
      const measured = bars.filter((b) => b.series === 'measured');
      measured.forEach((b, i) => assert.equal(Number(b.value), quantile(cmp.layers[i].samples, 0.5), b.key));
      for (const p of predictors)
        assert.deepEqual(
          bars.filter((b) => b.series === p).map((b) => Number(b.value)),
          cmp.layers.map((l) => l.predicted[p]),
        );
      const y = await yScaleOf(chart, log);
      const w = await page.$$eval(`${chart} g.whisker`, (els) =>
        els.map((e) => ({ key: e.getAttribute('data-key'), lo: Number(e.getAttribute('data-lo')), hi: Number(e.getAttribute('data-hi')), y1: Number(e.querySelector('line.whisker')!.getAttribute('y1')), y2: Number(e.querySelector('line.whisker')!.getAttribute('y2')) })),
      );
      assert.equal(w.length, cmp.layers.length);
      w.forEach((x, i) => {
        const s = cmp.layers[i].samples;
        const [lo, hi] = whisker === 'iqr' ? [quantile(s, 0.25), quantile(s, 0.75)] : [Math.min(...s), Math.max(...s)];
        assert.ok(Math.abs(x.lo - lo) <= 1e-15 * hi && Math.abs(x.hi - hi) <= 1e-15 * hi, `${x.key}: [${x.lo}, ${x.hi}] vs [${lo}, ${hi}]`);
        assert.ok(Math.abs(x.y1 - y(hi)) < 1e-6 && Math.abs(x.y2 - y(lo)) < 1e-6, `${x.key}: whisker ${x.y1}..${x.y2}, axis ${y(hi)}..${y(lo)}`);
      });
      if (log) await page.locator(chart).screenshot({ path: path.join(artifactDir('ui-charts'), 'errorbar-latency.png') });
    });
});
