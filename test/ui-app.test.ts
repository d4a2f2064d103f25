// The app end to end in the browser fallback: the real server and backend (jobs are real `tandem` commands),
// the bundled UI in headless Debian Chromium driven by Playwright. The flow on the embedded default: open
// fmnist-vgg -> inspect its graph -> compress one layer, prune two, give two fewer weight bits -> simulate the result on rram-128 -> the per-layer
// error chart, whose bars must equal the engine's JSON report; then the 3D view, whose array meshes must equal
// the Schedule's arrays. A screenshot of every view goes to out/test-artifacts/ui-app/.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { JobResult, ModelGraph, TandemApi } from '../ui/api/types.js';
import { Backend, ROOT } from '../ui/server/backend.js';
import { type AppServer, startAppServer } from '../ui/server/http.js';
import { artifactDir, haveChromium, launchChromium } from './ui-browser.js';

const JOB_TIMEOUT = 15 * 60_000;
let tmp: string;
let backend: Backend;
let server: AppServer;
let browser: Browser | undefined;
let page: Page;
const shots = artifactDir('ui-app');

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'tandem-ui-app-'));
  backend = new Backend({ workspace: path.join(tmp, 'ws'), store: path.join(tmp, 'runs.sqlite') });
  server = await startAppServer({ api: backend, staticDir: path.join(ROOT, 'dist', 'ui', 'app') });
  if (!haveChromium()) return;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
});

after(async () => {
  await browser?.close();
  backend.jobs.stopAll();
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** What the page's own API client returns, for comparing the DOM with the engine's numbers. */
async function apiCall<M extends keyof TandemApi>(method: M, payload: unknown): Promise<Awaited<ReturnType<TandemApi[M]>>> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tandem-token': server.token }, body: JSON.stringify(payload) });
  const body = (await res.json()) as { result: Awaited<ReturnType<TandemApi[M]>>; error?: string };
  assert.equal(res.status, 200, body.error);
  return body.result;
}

const skipUnlessChromium = (t: { skip(msg: string): void }) => {
  if (!browser) {
    t.skip('chromium not installed (Debian package chromium)');
    return true;
  }
  return false;
};

test('project view: the embedded default and the presets', async (t) => {
  if (skipUnlessChromium(t)) return;
  await page.goto(server.url);
  await page.waitForSelector('select.project-model');
  assert.equal(await page.locator('select.project-model').inputValue(), 'fmnist-vgg');
  const accels = await page.locator('table.project-accels tbody tr td:first-child').allTextContents();
  assert.ok(accels.includes('rram-128') && accels.includes('ideal-int8'), accels.join(','));
  await page.screenshot({ path: path.join(shots, 'project.png') });
});

test('model graph view: one box per layer and input, one edge per input of every node', async (t) => {
  if (skipUnlessChromium(t)) return;
  const g = await apiCall('openModel', { model: 'fmnist-vgg' });
  await page.click('nav a[data-view="graph"]');
  await page.waitForSelector('#view[data-ready="true"]', { timeout: 60_000 });
  assert.equal(await page.locator('g.graph-node').count(), g.nodes.length + g.inputs.length);
  assert.equal(await page.locator('path.graph-edge').count(), g.nodes.reduce((a, n) => a + n.inputs.length, 0));
  await page.locator('g.graph-node[data-id="conv2"]').click();
  assert.match((await page.locator('.graph-details').textContent()) ?? '', /conv2/);
  await page.screenshot({ path: path.join(shots, 'graph.png') });
});

let compressed: ModelGraph;

test('compress view: CP rank 8 on conv2 as a job with progress; the before/after table; the new model', { timeout: JOB_TIMEOUT }, async (t) => {
  if (skipUnlessChromium(t)) return;
  await page.click('nav a[data-view="compress"]');
  await page.waitForSelector('button.compress-run');
  await page.selectOption('select.compress-method', 'cp');
  await page.fill('input.compress-rank[data-layer="conv2"]', '8');
  await page.fill('input.compress-eval-limit', '200');
  await page.click('button.compress-run');
  await page.waitForSelector('.job-panel[data-state]:not([data-state="running"])', { timeout: JOB_TIMEOUT });
  assert.equal(await page.locator('.job-panel').getAttribute('data-state'), 'done', (await page.locator('.compress-out').textContent()) ?? '');
  const jobId = (await page.locator('.job-panel').getAttribute('data-job'))!;
  const res: JobResult = await apiCall('jobResult', { jobId });
  const report = res.output as { layers: { layer: string; ranks: number[]; paramsAfter: number }[] };
  assert.deepEqual(report.layers.map((l) => [l.layer, l.ranks]), [['conv2', [8]]]);
  const row = page.locator('table.compress-result tr[data-layer="conv2"] td');
  assert.equal(await row.nth(2).textContent(), '8');
  assert.equal(await row.nth(4).textContent(), report.layers[0].paramsAfter.toLocaleString('en-US'));
  compressed = await apiCall('openModel', { model: res.model! });
  assert.ok(compressed.nodes.some((n) => n.origin === 'conv2' && n.decision === 'cp 8'), 'the new model carries the decision');
});

/** The model the later views work on: compressed, then pruned per layer, then quantized with per-layer bits. */
let current: ModelGraph;

/** Re-opens the compress view on the current model (it builds its layer table when mounted). */
async function reopenCompress(): Promise<void> {
  await page.click('nav a[data-view="project"]');
  await page.waitForSelector('select.project-model');
  await page.click('nav a[data-view="compress"]');
  await page.waitForSelector('button.prune-run');
}

async function finishedJob(): Promise<JobResult> {
  await page.waitForSelector('.job-panel[data-state]:not([data-state="running"])', { timeout: JOB_TIMEOUT });
  assert.equal(await page.locator('.job-panel').getAttribute('data-state'), 'done', (await page.locator('.compress-out').textContent()) ?? '');
  return apiCall('jobResult', { jobId: (await page.locator('.job-panel').getAttribute('data-job'))! });
}

test('compress view: per-layer keep shares and weight bits run as prune and quantize jobs; the tables show the result', { timeout: JOB_TIMEOUT }, async (t) => {
  if (skipUnlessChromium(t) || !compressed) return;
  await reopenCompress();
  await page.fill('input.prune-keep[data-layer="conv1"]', '0.5');
  await page.fill('input.prune-keep[data-layer="conv3"]', '0.25');
  await page.click('button.prune-run');
  let res = await finishedJob();
  assert.deepEqual((res.job.request as { keep?: string }).keep, 'conv1=0.5,conv3=0.25');
  const pruned = res.output as { layers: { layer: string; channelsBefore: number; channelsAfter: number }[] };
  const channels = (layer: string) => pruned.layers.filter((l) => l.layer === layer).map((l) => [l.channelsBefore, l.channelsAfter]);
  assert.deepEqual([channels('conv1'), channels('conv3'), channels('conv5')], [[[32, 16]], [[64, 16]], []]); // conv5 is untouched
  assert.equal(await page.locator('table.compress-prune tr[data-layer="conv3"] td').nth(1).textContent(), '64 → 16');
  const prunedGraph = await apiCall('openModel', { model: res.model! });
  assert.equal(prunedGraph.nodes.find((n) => n.id === 'conv3')!.outputShape.at(-1), 16);

  await reopenCompress();
  await page.fill('input.quantize-layer-bits[data-layer="conv3"]', '4');
  await page.fill('input.quantize-layer-bits[data-layer="fc1"]', '6');
  await page.click('button.quantize-run');
  res = await finishedJob();
  const q = res.output as { bops: { node: string; weightBits: number }[] };
  const bits = Object.fromEntries(q.bops.map((b) => [b.node, b.weightBits]));
  assert.equal(bits.conv3, 4);
  assert.equal(bits.fc1, 6);
  assert.equal(bits.conv4, 8);
  assert.equal(await page.locator('table.compress-quantize tr[data-layer="conv3"] td').nth(1).textContent(), '4');
  current = await apiCall('openModel', { model: res.model! });
  // the decisions of the whole chain: compress, then prune, then per-layer bits
  const decision = (id: string) => current.nodes.find((n) => n.id === id)!.decision;
  assert.deepEqual([decision('conv2/cp.out'), decision('conv3'), decision('fc1'), decision('conv4')], ['cp 8, 8-bit weights', '16 channels kept, 4-bit weights', '6-bit weights', '8-bit weights']);
  await page.screenshot({ path: path.join(shots, 'compress.png'), fullPage: true });
});

test('layer error view: simulate the compressed, pruned, mixed-precision model on rram-128; one bar per layer equal to the engine report', { timeout: JOB_TIMEOUT }, async (t) => {
  if (skipUnlessChromium(t) || !current) return;
  await page.click('nav a[data-view="error"]');
  await page.waitForSelector('button.err-run');
  await page.selectOption('select[name="accel"]', 'rram-128');
  await page.selectOption('select[name="mode"]', 'exact');
  await page.fill('input[name="limit"]', '50');
  await page.fill('input[name="calib"]', '64');
  await page.click('button.err-run');
  await page.waitForSelector('.err-bars rect.bar', { timeout: JOB_TIMEOUT });
  const jobs = (await apiCall('project', {})).jobs.filter((j) => j.kind === 'simulate');
  const job = jobs.at(-1)!;
  assert.equal(job.state, 'done');
  assert.equal((job.request as { model: string }).model, current.ref, 'the simulated model is the current one');
  const res = await apiCall('jobResult', { jobId: job.id });
  const rows = res.report!.rows;
  const bars = await page.locator('.err-bars rect.bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  assert.equal(bars.length, rows.length, 'one bar per row of the report');
  rows.forEach((r, i) => assert.equal(bars[i], r.error!.sqnrDb, `layer ${r.layer}`));
  // the CP-decomposed conv2 is there as its parts
  assert.ok(rows.some((r) => r.layer === 'conv2'));
  await page.screenshot({ path: path.join(shots, 'error.png'), fullPage: true });
});

test('3D dataflow view: compile the current model; one array instance per array the Schedule uses', { timeout: JOB_TIMEOUT }, async (t) => {
  if (skipUnlessChromium(t) || !current) return;
  await page.click('nav a[data-view="dataflow"]');
  await page.fill('input[name="calib"]', '64');
  await page.click('button.df-compile');
  await page.waitForSelector('#view[data-ready="true"]', { timeout: JOB_TIMEOUT });
  const job = (await apiCall('project', {})).jobs.filter((j) => j.kind === 'compile').at(-1)!;
  assert.equal((job.request as { model: string }).model, current.ref);
  const schedule = await apiCall('schedule', { jobId: job.id });
  const round0 = new Set(schedule.blocks.filter((b) => b.round === 0).map((b) => b.array));
  assert.equal(Number(await page.locator('#view').getAttribute('data-arrays')), round0.size);
  assert.equal(schedule.arraysUsed >= round0.size, true);
  await page.screenshot({ path: path.join(shots, 'dataflow.png') });
});

test('the other views render on the same server: latency, devices, co-design', async (t) => {
  if (skipUnlessChromium(t)) return;
  await page.goto(server.url);
  for (const view of ['latency', 'devices', 'codesign']) {
    await page.click(`nav a[data-view="${view}"]`);
    await page.waitForSelector(`#view[data-view="${view}"] h2`);
    assert.equal(await page.locator('#view .error:not(:empty)').count(), 0, `${view}: ${await page.locator('#view .error').allTextContents()}`);
    await page.screenshot({ path: path.join(shots, `${view}.png`), fullPage: true });
  }
});
