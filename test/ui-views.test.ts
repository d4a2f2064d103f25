// The Layer error, Latency and Co-design views in the real app bundle (index.html, main.js, its CSP) in
// headless Chromium, on fixtureBridge (test/ui-views-fixtures.ts) in place of the API server: jobs started
// from the forms with the right requests, progress and Cancel, and what is drawn equal to the fixtures'
// numbers (one bar per Report row, histogram counts, accuracy per drift time and per ADC bits, measured
// medians and whiskers from a profile job's raw samples, relative errors, one point per candidate with its
// front flag), and a candidate click opening that candidate in the graph view. Screenshots of each view go to out/test-artifacts/ui-views.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { API_METHODS, type JobEvent, type JobRequest } from '../ui/api/types.js';
import { artifactDir, haveChromium, launchChromium } from './ui-browser.js';
import { type Served, serveAppBundle } from './ui-graph-harness.js';
import { ADC_BITS, DRIFT_ACCEL, FixtureBridge, PROFILE_JOB, codesignFixture, datasetModelIds, latencyFixture, simFixture } from './ui-views-fixtures.js';

/** Runs in the page before the app: window.tandem forwards each call to the Node side and fans job events out. */
function installFixtureBridge(methods: readonly string[]): void {
  type Listener = (e: unknown) => void;
  const g = globalThis as unknown as { tandem: unknown; __tandemCall(m: string, p: unknown): Promise<unknown>; __tandemEmit(e: unknown): void };
  const listeners = new Set<Listener>();
  g.tandem = {
    ...Object.fromEntries(methods.map((m) => [m, (p?: unknown) => g.__tandemCall(m, p ?? {})])),
    onJobEvent: (l: Listener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  g.__tandemEmit = (e) => {
    for (const l of listeners) l(e);
  };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) / 2;
  return (s[Math.floor(h)] + s[Math.ceil(h)]) / 2;
};
const shots = () => artifactDir('ui-views');

let browser: Browser;
let served: Served;
let page: Page;
let bridge: FixtureBridge;

const attrs = (sel: string, name: string): Promise<(string | null)[]> => page.$$eval(sel, (els, a) => els.map((e) => e.getAttribute(a)), name);
const numbers = async (sel: string, name: string): Promise<number[]> => (await attrs(sel, name)).map(Number);

async function waitCount(sel: string, n: number): Promise<void> {
  await page.waitForFunction(([s, k]) => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll(s).length === k, [sel, n] as const, { timeout: 10_000 });
}

/** Waits on the Node side (the bridge's call log), up to 10 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (const t0 = Date.now(); !cond(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() - t0 > 10_000) assert.fail(`timed out: ${what}`);
}

async function open(view: string): Promise<void> {
  await page.goto(`${served.url}#/${view}`);
  await page.waitForSelector(`main[data-view="${view}"] h2`);
}

const started = () => bridge.callsOf('startJob') as JobRequest[];

describe('chart views in the app on fixtureBridge', { skip: !haveChromium() && 'no Chromium' }, () => {
  before(async () => {
    served = await serveAppBundle();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await served?.close();
  });
  beforeEach(async () => {
    // each test its own bridge and page; the closures below keep to them
    const b = (bridge = new FixtureBridge());
    const own = (page = await browser.newPage({ viewport: { width: 1280, height: 900 } }));
    own.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await own.exposeFunction('__tandemCall', (method: string, payload: unknown) => {
      if (!(API_METHODS as readonly string[]).includes(method)) throw new Error(`not an API method: ${method}`);
      return (b as unknown as Record<string, (p: unknown) => Promise<unknown>>)[method](payload);
    });
    await own.addInitScript(installFixtureBridge, [...API_METHODS]);
    b.emit = async (e: JobEvent) => {
      // a job may still report after its test closed the page
      await own.evaluate((ev) => (globalThis as unknown as { __tandemEmit(e: unknown): void }).__tandemEmit(ev), e).catch(() => {});
    };
  });
  afterEach(async () => {
    await page.close();
  });

  test('Layer error: a simulate job from the form (progress, Cancel), then one bar per Report row with its exact number, and the layer histogram', async () => {
    const fx = simFixture('exact');
    await open('error');
    await page.selectOption('select[name=accel]', 'rram-128');
    await page.selectOption('select[name=mode]', 'exact');
    await page.fill('input[name=limit]', '20');

    // a held job: its progress event reaches the bar; Cancel cancels that job
    bridge.hold = true;
    await page.click('button.err-run');
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { value: number; max: number } | null } }).document.querySelector('.err-job progress')?.value === 1);
    assert.equal(await page.getAttribute('.err-job progress', 'max'), '3');
    assert.match((await page.textContent('.err-job .job-panel')) ?? '', /1\/3/);
    await page.click('.err-job button.job-cancel');
    await page.waitForSelector('.err-job .job-panel[data-state="cancelled"]');
    assert.deepEqual(bridge.callsOf('cancelJob'), [{ jobId: 'job-1' }]);
    assert.match((await page.textContent('.err-message')) ?? '', /cancelled/);

    bridge.hold = false;
    await page.click('button.err-run');
    await waitCount('.err-bars rect.bar', fx.report.rows.length);
    assert.deepEqual(started()[1], { kind: 'simulate', model: 'fmnist-vgg', accel: 'rram-128', mode: 'exact', limit: 20, seed: 1, calib: 256 });
    assert.deepEqual(await attrs('.err-bars rect.bar', 'data-key'), fx.report.rows.map((r) => r.layer));
    assert.deepEqual(await attrs('.err-bars rect.bar', 'data-value'), fx.report.rows.map((r) => String(r.error!.sqnrDb)));
    assert.match((await page.textContent('.err-summary')) ?? '', new RegExp(`accuracy ${(100 * mean(fx.runs[0].result.accuracy)).toFixed(1)}%`));

    await page.selectOption('select[name=metric]', 'relativeError');
    assert.deepEqual(await attrs('.err-bars rect.bar', 'data-value'), fx.report.rows.map((r) => String(r.error!.relativeError)));
    assert.equal(await page.isChecked('input[name=log]'), true, 'relative error defaults to a log scale');

    const layers = fx.runs[0].result.layers;
    assert.deepEqual(await numbers('.err-hist rect.bin', 'data-value'), layers[0].histogram.counts);
    await page.selectOption('select[name=layer]', layers[3].layer);
    assert.deepEqual(await numbers('.err-hist rect.bin', 'data-value'), layers[3].histogram.counts);
    await page.screenshot({ path: path.join(shots(), 'error.png'), fullPage: true });
  });

  test('Layer error: accuracy vs drift from one analog job, vs ADC bits from one job per bits value in turn; redrawn from the state on return', async () => {
    const drift = simFixture('drift');
    await open('error');
    await page.selectOption('select[name=accel]', DRIFT_ACCEL);
    await page.fill('input[name=limit]', '20');
    await page.click('button.err-drift');
    await waitCount('.err-drift-chart circle.marker', drift.runs.length);
    assert.deepEqual(started()[0], { kind: 'simulate', model: 'fmnist-vgg', accel: DRIFT_ACCEL, mode: 'analog', limit: 20, seed: 1, calib: 256, drift: ['0', '1h', '1d', '1mo', '1y'] });
    assert.deepEqual(await numbers('.err-drift-chart circle.marker', 'data-x'), drift.runs.map((r) => r.timeS));
    assert.deepEqual(await numbers('.err-drift-chart circle.marker', 'data-y'), drift.runs.map((r) => mean(r.result.accuracy)));

    await page.selectOption('select[name=accel]', 'rram-128');
    await page.selectOption('select[name=mode]', 'exact');
    await page.fill('input[name=bits]', ADC_BITS.join(','));
    await page.click('button.err-adc');
    await waitCount('.err-adc-chart circle.marker', ADC_BITS.length);
    const sweep = started().slice(1);
    assert.deepEqual(
      sweep.map((r) => (r.kind === 'simulate' ? r.set?.['adc.bits'] : undefined)),
      ADC_BITS.map(String),
    );
    // one after another: each job starts after the previous one's result was fetched
    const order = bridge.calls.filter((c) => c.method === 'startJob' || c.method === 'jobResult').map((c) => c.method);
    assert.deepEqual(order.slice(2), ADC_BITS.flatMap(() => ['startJob', 'jobResult']));
    const accs = ADC_BITS.map((b) => mean(simFixture(`adc${b}`).runs[0].result.accuracy));
    assert.deepEqual(await numbers('.err-adc-chart circle.marker', 'data-y'), accs);
    assert.deepEqual(await numbers('.err-adc-chart circle.marker', 'data-x'), [...ADC_BITS]);
    await page.screenshot({ path: path.join(shots(), 'error-curves.png'), fullPage: true });

    // away and back: the curves come back from ctx.state.lastJob
    await page.click('nav a[data-view="latency"]');
    await page.waitForSelector('main[data-view="latency"] h2');
    await page.click('nav a[data-view="error"]');
    await waitCount('.err-adc-chart circle.marker', ADC_BITS.length);
    await waitCount('.err-drift-chart circle.marker', drift.runs.length);
    assert.equal(await page.$$eval('.err-bars rect.bar', (els) => els.length), 0, 'no single simulation was run');
  });

  test('Latency: a dataset model next to each predictor; a profile job\'s raw samples as error bars, with the warning on a target mismatch; the relative-error table', async () => {
    const qemu = latencyFixture('qemu-vgg-0');
    const hostModel = latencyFixture('host-vgg-0');
    const mismatch = latencyFixture('profile-qemu');
    const prof = latencyFixture('profile-host');
    await open('latency');
    await waitCount('.lat-chart rect.bar.measured', qemu.layers.length);
    assert.deepEqual(await attrs('select[name=dataset] option', 'value'), ['qemu', 'host']);
    assert.deepEqual(await attrs('select[name=model] option', 'value'), [...datasetModelIds('qemu')]);
    assert.equal(await page.inputValue('select[name=model]'), qemu.model);
    // finished profile jobs only, newest first, after the dataset's own measurements
    assert.deepEqual(await attrs('select[name=source] option', 'value'), ['', PROFILE_JOB, 'j5-fixture']);
    assert.deepEqual(await numbers('.lat-chart rect.bar.measured', 'data-value'), qemu.layers.map((l) => l.samples[0]));
    assert.equal(await page.$$eval('.lat-chart g.whisker', (els) => els.length), 0, 'one sample per layer: no whiskers');
    const predictors = Object.keys(qemu.layers[0].predicted);
    assert.equal(await page.$$eval('.lat-chart rect.bar.other', (els) => els.length), qemu.layers.length * predictors.length);
    const errorsShown = async (c: typeof qemu) => {
      for (const p of predictors) {
        const shown = await numbers(`.lat-table td.lat-err[data-predictor="${p}"]`, 'data-value');
        assert.equal(shown.length, c.layers.length);
        shown.forEach((v, i) => {
          const l = c.layers[i];
          const m = median(l.samples);
          const want = (l.predicted[p] - m) / m;
          assert.ok(Math.abs(v - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${l.layer} ${p}: ${v} vs ${want}`);
        });
      }
    };
    await errorsShown(qemu);
    assert.equal(await page.textContent('.lat-warning'), '');

    // a host profile job against the qemu dataset's predictors: compared, with the warning shown
    await page.selectOption('select[name=source]', PROFILE_JOB);
    await page.waitForSelector('.lat-warning:not(:empty)');
    assert.equal(await page.textContent('.lat-warning'), mismatch.warning);
    assert.match(mismatch.warning ?? '', /fitted on qemu .* ran on host/);
    assert.equal(await page.isDisabled('select[name=model]'), true, 'the job brings its own model');

    // the same job against the host dataset's: one error bar per layer from the job's raw samples
    await page.selectOption('select[name=dataset]', 'host');
    await page.waitForSelector('.lat-warning:empty', { state: 'attached' });
    await page.waitForFunction(() => /dataset host/.test((globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('.lat-title')?.textContent ?? ''));
    const keys = prof.layers.map((l) => l.layer);
    assert.deepEqual(await attrs('.lat-chart rect.bar.measured', 'data-key'), keys);
    assert.deepEqual(await attrs('.lat-chart g.whisker', 'data-key'), keys);
    assert.deepEqual(await numbers('.lat-chart rect.bar.measured', 'data-value'), prof.layers.map((l) => median(l.samples)));
    assert.deepEqual(await numbers('.lat-chart g.whisker', 'data-lo'), prof.layers.map((l) => Math.min(...l.samples)));
    assert.deepEqual(await numbers('.lat-chart g.whisker', 'data-hi'), prof.layers.map((l) => Math.max(...l.samples)));
    const n = prof.layers[0].samples.length;
    assert.ok(n > 1 && prof.layers.every((l) => l.samples.length === n));
    const title = (await page.textContent('.lat-title')) ?? '';
    assert.ok(title.includes(`job ${PROFILE_JOB} on host`) && title.includes(`${n} samples per layer`), title);
    assert.match((await page.textContent('.lat-note')) ?? '', /predicted only: \(outside layers\)/);
    await errorsShown(prof);
    await page.screenshot({ path: path.join(shots(), 'latency.png'), fullPage: true });

    // back to the dataset's own measurements: its first model
    await page.selectOption('select[name=source]', '');
    await waitCount('.lat-chart g.whisker', 0);
    assert.deepEqual(await numbers('.lat-chart rect.bar.measured', 'data-value'), hostModel.layers.map((l) => l.samples[0]));
    assert.equal(await page.isDisabled('select[name=model]'), false);
    assert.deepEqual(bridge.callsOf('latencyComparison'), [
      { dataset: 'qemu', model: 'vgg-0' },
      { dataset: 'qemu', profile: PROFILE_JOB },
      { dataset: 'host', profile: PROFILE_JOB },
      { dataset: 'host', model: 'vgg-0' },
    ]);
  });

  test('Co-design: a Pareto scatter with one point per candidate and the front flagged; a click opens the candidate; a job adds a run', async () => {
    const run3 = codesignFixture('greedy-energy');
    await open('codesign');
    await waitCount('.cs-scatter circle.point', run3.candidatesDetail.length);
    assert.deepEqual(await attrs('select[name=run] option', 'value'), ['2', '3']);
    assert.equal(await page.inputValue('select[name=run]'), '3', 'the newest run is shown');
    assert.deepEqual(await attrs('.cs-scatter circle.point', 'data-front').then((f) => f.length), run3.candidatesDetail.length);
    const front = new Map((await page.$$eval('.cs-scatter circle.point', (els) => els.map((e) => [e.getAttribute('data-key'), e.getAttribute('data-front')] as const))).map(([k, f]) => [k, f]));
    for (const c of run3.candidatesDetail) assert.equal(front.get(c.id), String(c.onFront), c.id);
    assert.equal(await page.inputValue('select[name=y]'), 'accuracy');
    const x = await page.inputValue('select[name=x]');
    assert.equal(x, run3.objectives[1]);
    const byKey = new Map((await page.$$eval('.cs-scatter circle.point', (els) => els.map((e) => [e.getAttribute('data-key'), [Number(e.getAttribute('data-x')), Number(e.getAttribute('data-y'))]] as const))).map(([k, v]) => [k, v]));
    for (const c of run3.candidatesDetail) assert.deepEqual(byKey.get(c.id), [c.metrics[x], c.metrics['accuracy']]);
    assert.deepEqual(await numbers('.cs-history circle.marker', 'data-y'), run3.candidatesDetail.map((c) => c.metrics['accuracy']));
    assert.deepEqual(await attrs('.cs-table tr.cs-row', 'data-key'), run3.candidatesDetail.map((c) => c.id));
    await page.screenshot({ path: path.join(shots(), 'codesign.png'), fullPage: true });

    // the co-design job: progress, then the run list gains the job's run, which is shown
    await page.click('button.cs-start');
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { value: string } | null } }).document.querySelector('select[name=run]')?.value === '4');
    assert.deepEqual(started(), [{ kind: 'codesign', problem: 'default' }]);
    await waitCount('.cs-scatter circle.point', bridge.nextRun.candidatesDetail.length);
    assert.deepEqual(await attrs('select[name=run] option', 'value'), ['2', '3', '4']);
    assert.deepEqual(bridge.callsOf('codesignRun').at(-1), { run: 4 });

    // a point opens the candidate in the graph view, which asks for that model; so does a table row
    const pick = bridge.nextRun.candidatesDetail.find((c) => c.onFront)!;
    await page.click(`.cs-scatter circle.point[data-key="${pick.id}"]`, { force: true });
    await page.waitForSelector('main[data-view="graph"]');
    await until(() => bridge.callsOf('openModel').length === 1, 'the graph view asks for the model');
    assert.deepEqual(bridge.callsOf('openModel'), [{ model: `candidate:4:${pick.id}` }]);
    await page.click('nav a[data-view="codesign"]');
    await page.click('.cs-table tr.cs-row[data-key="c0"]');
    await page.waitForSelector('main[data-view="graph"]');
    await until(() => bridge.callsOf('openModel').length === 2, 'the graph view asks for the second model');
    assert.deepEqual(bridge.callsOf('openModel')[1], { model: 'candidate:4:c0' });
  });
});
