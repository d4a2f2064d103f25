// The 3D dataflow view on real Schedules (`tandem compile fmnist-vgg --accel rram-128`, and with 4 tiles so
// it takes 3 programming rounds) and a real per-layer Report (`tandem simulate`). Node side: the layout
// (one box per array used, no overlaps, utilisation = the blocks' cells / the array's cells, a distinct
// colour per layer), the step plan (lit arrays, flows from the producing layer's arrays) and the pick
// details. In headless Chromium: the harness page mounts the view; instance count, layer colours in the
// pixels, picking by clicking an array's projected position, stepping, playback particles, rounds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Report } from '../compiler/contracts/report.js';
import type { Schedule } from '../compiler/lower/schedule.js';
import { arrayDetails } from '../ui/app/dataflow/details.js';
import { layerPalette, layoutSchedule, lit, type Rgb } from '../ui/app/dataflow/layout.js';
import { DIGITAL, StepPlan } from '../ui/app/dataflow/steps.js';
import { artifactDir, haveChromium, launchChromium, ROOT } from './ui-browser.js';
import { bundleHarness, type HarnessBundle, openHarness } from './ui-dataflow-page.js';
import { syntheticSchedule } from './ui-fixtures-schedule.js';

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tandem-ui-dataflow-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The CLI as a user runs it. --calib 8: calibration only sets ADC ranges, not where blocks go. */
async function tandem(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist', 'cli', 'main.js'), ...args, '--calib', '8', '--no-download', '--json'], { maxBuffer: 64 << 20 });
  return stdout;
}

let schedule: Schedule;
let rounds: Schedule;
let report: Report;
before(async () => {
  const one = path.join(tmp, 'one');
  const three = path.join(tmp, 'three');
  await Promise.all([tandem('compile', 'fmnist-vgg', '--accel', 'rram-128', '-o', one), tandem('compile', 'fmnist-vgg', '--accel', 'rram-128', '--set', 'architecture.tiles=4', '-o', three)]);
  schedule = JSON.parse(readFileSync(path.join(one, 'schedule.json'), 'utf8')) as Schedule;
  rounds = JSON.parse(readFileSync(path.join(three, 'schedule.json'), 'utf8')) as Schedule;
  report = (JSON.parse(await tandem('simulate', one, '--accel', 'rram-128', '--limit', '8', '--batch', '8')) as { report: Report }).report;
});

// ---- independent computations from the Schedule

const arraysOf = (s: Schedule, round: number) => [...new Set(s.blocks.filter((b) => b.round === round).map((b) => b.array))].sort((a, b) => a - b);
const to255 = (c: Rgb) => c.map((v) => Math.round(v * 255));

// ---- Node side

describe('layout', () => {
  test('one box per array used in the round, by array index, none overlapping, each on its tile', () => {
    for (const [s, r] of [[schedule, 0], [rounds, 0], [rounds, 1], [rounds, 2], [syntheticSchedule(2000, 3), 0]] as const) {
      const l = layoutSchedule(s, r);
      assert.deepEqual(
        l.arrays.map((a) => a.array),
        arraysOf(s, r),
      );
      assert.equal(l.tiles.length, s.spec.architecture.tiles);
      const w = l.arrayWidth / 2;
      const d = l.arrayDepth / 2;
      for (const a of l.arrays) {
        assert.equal(a.tile, Math.floor(a.array / s.spec.architecture.arraysPerTile));
        const t = l.tiles[a.tile];
        assert.ok(a.x - w >= t.x - t.width / 2 && a.x + w <= t.x + t.width / 2 && a.z - d >= t.z - t.depth / 2 && a.z + d <= t.z + t.depth / 2, `array ${a.array} off its tile`);
      }
      const xs = l.arrays.map((a) => [a.x, a.z]);
      for (let i = 0; i < xs.length; i++) {
        for (let j = i + 1; j < xs.length; j++) {
          const apart = Math.abs(xs[i][0] - xs[j][0]) >= 2 * w || Math.abs(xs[i][1] - xs[j][1]) >= 2 * d;
          assert.ok(apart, `arrays ${l.arrays[i].array} and ${l.arrays[j].array} overlap`);
        }
      }
    }
  });

  test('utilisation is the blocks’ cells over the array’s cells; height and brightness grow with it', () => {
    for (const [s, r] of [[schedule, 0], [rounds, 2], [syntheticSchedule(2000, 3), 0]] as const) {
      const l = layoutSchedule(s, r);
      const palette = layerPalette(s);
      const cells = s.spec.crossbar.rows * s.spec.crossbar.cols;
      for (const a of l.arrays) {
        const blocks = s.blocks.filter((b) => b.array === a.array && b.round === r);
        const used = blocks.reduce((n, b) => n + b.physicalRows * b.physicalCols, 0);
        assert.ok(Math.abs(a.utilisation - used / cells) < 1e-12, `array ${a.array}: ${a.utilisation} vs ${used / cells}`);
        assert.ok(a.utilisation > 0 && a.utilisation <= 1);
        // The colour is the dominant layer's, scaled by one factor that grows with utilisation.
        const byLayer = new Map<string, number>();
        for (const b of blocks) byLayer.set(b.layer, (byLayer.get(b.layer) ?? 0) + b.physicalRows * b.physicalCols);
        assert.equal(byLayer.get(a.layer), Math.max(...byLayer.values()));
        const base = palette.get(a.layer)!;
        const k = a.color[0] / base[0];
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(a.color[c] - base[c] * k) < 1e-9);
      }
      const byUse = [...l.arrays].sort((a, b) => a.utilisation - b.utilisation);
      for (let i = 1; i < byUse.length; i++) {
        assert.ok(byUse[i].height >= byUse[i - 1].height);
        const bright = (a: (typeof byUse)[number]) => a.color[0] / palette.get(a.layer)![0];
        assert.ok(bright(byUse[i]) >= bright(byUse[i - 1]) - 1e-12);
      }
    }
  });

  test('a distinct colour per layer, the legend counts each layer’s arrays', () => {
    for (const s of [schedule, rounds, syntheticSchedule(10000, 1)]) {
      const palette = layerPalette(s);
      const layers = new Set(s.blocks.map((b) => b.layer));
      assert.equal(palette.size, layers.size);
      const keys = new Set([...palette.values()].map((c) => to255(c).join(',')));
      assert.equal(keys.size, layers.size, 'two layers share a colour');
      const l = layoutSchedule(s, 0, palette);
      for (const item of l.legend) assert.equal(item.arrays, l.arrays.filter((a) => a.layer === item.layer).length);
      assert.equal(
        l.legend.reduce((n, i) => n + i.arrays, 0),
        l.arrays.length,
      );
    }
  });
});

describe('steps', () => {
  test('mvm steps light their block’s array, program steps their round’s arrays', () => {
    for (const s of [schedule, rounds]) {
      const plan = new StepPlan(s);
      s.steps.forEach((step, i) => {
        const info = plan.steps[i];
        if (step.kind === 'mvm') {
          const b = s.blocks.find((x) => x.id === step.block)!;
          assert.deepEqual(info.arrays, [b.array]);
          assert.equal(info.round, b.round);
        } else if (step.kind === 'program') {
          assert.deepEqual(info.arrays, arraysOf(s, step.round));
          assert.equal(info.round, step.round);
        } else {
          assert.deepEqual(info.arrays, []);
          assert.ok(info.digital);
        }
      });
    }
  });

  test('an mvm step’s flows come from the producing layer’s arrays (same round) or the buffers', () => {
    for (const s of [schedule, rounds]) {
      const plan = new StepPlan(s);
      // The conv/dense layer feeding each crossbar layer, through the relu/pool/flatten in between.
      const crossbar = s.layers.filter((l) => l.where === 'crossbar').map((l) => l.layer);
      s.steps.forEach((step, i) => {
        if (step.kind !== 'mvm') return;
        const b = s.blocks.find((x) => x.id === step.block)!;
        const k = crossbar.indexOf(step.layer);
        const producer = k > 0 ? s.blocks.filter((x) => x.layer === crossbar[k - 1]) : [];
        const expected = new Set(producer.map((x) => (x.round === b.round ? x.array : DIGITAL)));
        if (expected.size === 0) expected.add(DIGITAL);
        const f = plan.flows(i, 1 << 20);
        const from = new Set<number>();
        for (let j = 0; j < f.length; j += 2) {
          assert.equal(f[j + 1], b.array);
          from.add(f[j]);
        }
        assert.deepEqual([...from].sort(), [...expected].sort(), step.id);
        assert.equal(f.length / 2, expected.size);
        assert.equal(plan.flows(i, 3).length, 2 * Math.min(3, expected.size));
      });
    }
  });
});

test('details: an array’s blocks and its layer’s Report rows', () => {
  const l = layoutSchedule(schedule, 0);
  for (const a of l.arrays) {
    const d = arrayDetails(schedule, a, report);
    assert.deepEqual(
      d.blocks.map((b) => b.id),
      schedule.blocks.filter((b) => b.array === a.array && b.round === 0).map((b) => b.id),
    );
    const origins = new Set(d.blocks.map((b) => schedule.layers.find((x) => x.layer === b.layer)!.origin));
    const rows = report.rows.filter((r) => origins.has(r.layer));
    assert.ok(rows.length > 0, `no report row for array ${a.array}`);
    assert.deepEqual(
      d.errors.map((e) => [e.origin, e.sqnrDb, e.relativeError]),
      rows.map((r) => [r.layer, r.error?.sqnrDb, r.error?.relativeError]),
    );
    assert.deepEqual(arrayDetails(schedule, a).errors, []);
  }
});

// ---- in the browser

interface PageHarness {
  dfHarness: {
    el: { dataset: { step?: string } };
    mount(o: { schedule: string; report?: string; width?: number; height?: number }): Promise<number>;
    handle: {
      scene: { arrays: { count: number }; particles: { geometry: { drawRange: { count: number } } } };
      plan: { flows(i: number, max: number): Int32Array };
      projectArray(array: number): { x: number; y: number } | undefined;
    };
    pixels(png: string, points: readonly { x: number; y: number }[]): Promise<number[][]>;
    colorCounts(png: string, rect: { x: number; y: number; width: number; height: number }, groups: readonly (readonly number[][])[], tol: number): Promise<number[]>;
  };
}

describe('in Chromium', { skip: !haveChromium() && 'no Chromium' }, () => {
  let browser: Browser;
  let bundle: HarnessBundle;
  let page: Page;
  let errors: string[];
  const shots = artifactDir('ui-dataflow');
  const view = () => page.locator('#view');
  const attr = async (name: string) => Number(await view().getAttribute(name));
  const project = (array: number) => page.evaluate((a) => (globalThis as unknown as PageHarness).dfHarness.handle.projectArray(a)!, array);
  const pixels = async (points: { x: number; y: number }[]) => {
    const png = (await page.screenshot()).toString('base64');
    return page.evaluate(([p, pts]) => (globalThis as unknown as PageHarness).dfHarness.pixels(p, pts), [png, points] as const);
  };
  const near = (got: number[], want: number[], tol: number) => got.every((v, i) => Math.abs(v - want[i]) <= tol);
  const setStep = async (i: number) => {
    await page.locator('.df-slider').fill(String(i));
    assert.equal(await attr('data-step'), i);
  };

  before(async () => {
    [browser, bundle] = await Promise.all([launchChromium(), bundleHarness()]);
    ({ page, errors } = await openHarness(browser, bundle, {
      'schedule.json': JSON.stringify(schedule),
      'rounds.json': JSON.stringify(rounds),
      'report.json': JSON.stringify(report),
    }));
    const count = await page.evaluate(() => (globalThis as unknown as PageHarness).dfHarness.mount({ schedule: 'schedule.json', report: 'report.json', width: 1280, height: 720 }));
    assert.equal(count, arraysOf(schedule, 0).length);
    await page.waitForSelector('#view[data-ready="true"]');
  });
  after(async () => {
    await browser?.close();
    bundle?.dispose();
  });

  test('one instance per array of round 0, drawn in its layer’s colour', async () => {
    assert.equal(await attr('data-arrays'), arraysOf(schedule, 0).length);
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageHarness).dfHarness.handle.scene.arrays.count), arraysOf(schedule, 0).length);
    assert.equal(await page.locator('.df-legend li').count(), new Set(schedule.blocks.map((b) => b.layer)).size);
    // A digital step lights no array: every top face shows its array's colour as the layout computed it.
    await setStep(schedule.steps.findIndex((s) => s.kind === 'digital'));
    await page.screenshot({ path: path.join(shots, 'round0.png') });
    const l = layoutSchedule(schedule, 0);
    const groups = l.legend.map((g) => [...new Set(l.arrays.filter((a) => a.layer === g.layer).map((a) => to255(a.color).join(',')))].map((k) => k.split(',').map(Number)));
    const rect = (await page.locator('.df-canvas').boundingBox())!;
    const png = (await page.screenshot()).toString('base64');
    const counts = await page.evaluate(([p, r, g]) => (globalThis as unknown as PageHarness).dfHarness.colorCounts(p, r, g, 2), [png, rect, groups] as const);
    l.legend.forEach((g, i) => {
      // At least one top face per layer (an array is about 30 × 25 pixels here).
      const faces = l.arrays.filter((a) => a.layer === g.layer).length;
      assert.ok(counts[i] >= 200 * Math.min(faces, 3), `${g.layer}: ${counts[i]} pixels in its colours (${faces} arrays)`);
    });
    assert.ok(counts.reduce((a, b) => a + b, 0) < rect.width * rect.height * 0.6, 'the layer colours cover the whole canvas');
  });

  test('clicking an array shows its blocks and its layer’s error', async () => {
    const block = schedule.blocks.find((b) => b.layer === 'conv3')!;
    const p = await project(block.array);
    await page.mouse.click(p.x, p.y);
    const pick = page.locator('.df-pick');
    await pick.locator(`tr[data-block="${block.id}"]`).waitFor();
    assert.deepEqual(
      await pick.locator('tr[data-block]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-block'))),
      schedule.blocks.filter((b) => b.array === block.array && b.round === 0).map((b) => b.id),
    );
    const row = report.rows.find((r) => r.layer === 'conv3')!;
    const errText = await pick.locator('tr[data-layer="conv3"]').innerText();
    assert.ok(errText.includes(row.error!.sqnrDb!.toFixed(2)), errText);
    assert.ok(errText.includes(row.error!.relativeError!.toPrecision(3)), errText);
    await page.screenshot({ path: path.join(shots, 'picked.png') });
    // An empty spot (the top-left corner of the canvas) picks nothing.
    const rect = (await page.locator('.df-canvas').boundingBox())!;
    await page.mouse.click(rect.x + 3, rect.y + 3);
    await pick.getByText('No array there.').waitFor();
  });

  test('stepping advances data-step and lights the step’s array only', async () => {
    const l = layoutSchedule(schedule, 0);
    const colorOf = (array: number) => l.arrays[l.instanceOf.get(array)!].color;
    const arrayOf = (i: number) => {
      const s = schedule.steps[i];
      return s.kind === 'mvm' ? schedule.blocks.find((b) => b.id === s.block)!.array : -1;
    };
    // Two consecutive mvm steps on different arrays.
    const j = schedule.steps.findIndex((s, i) => s.kind === 'mvm' && schedule.steps[i + 1]?.kind === 'mvm' && arrayOf(i) !== arrayOf(i + 1));
    await setStep(j - 1);
    const a = arrayOf(j);
    const b = arrayOf(j + 1);
    const pts = [await project(a), await project(b)];
    for (const [k, lits] of [
      [j, [true, false]],
      [j + 1, [false, true]],
    ] as const) {
      await page.locator('.df-next').click();
      assert.equal(await attr('data-step'), k);
      const got = await pixels(pts);
      [a, b].forEach((arr, n) => {
        const want = to255(lits[n] ? lit(colorOf(arr)) : colorOf(arr));
        assert.ok(near(got[n], want, 3), `step ${k}: array ${arr} is ${got[n]}, want ${want} (${lits[n] ? 'lit' : 'not lit'})`);
      });
    }
    await page.screenshot({ path: path.join(shots, 'stepped.png') });
  });

  test('playing advances the steps and moves particles along the step’s flows', async () => {
    const start = await attr('data-step');
    await page.locator('.df-play').click();
    // Wait for a step that moves data (a digital step has no flows), two or more steps on.
    const r = await (
      await page.waitForFunction(
        (s) => {
          const { handle: h, el } = (globalThis as unknown as PageHarness).dfHarness;
          const i = Number(el.dataset.step);
          const flows = h.plan.flows(i, 256).length / 2;
          return i >= s + 2 && flows > 0 && { particles: h.scene.particles.geometry.drawRange.count, flows };
        },
        start,
        { timeout: 20000 },
      )
    ).jsonValue();
    assert.ok(r, 'waitForFunction resolves on a truthy value only');
    assert.ok(r.particles > 0);
    assert.equal(r.particles, 4 * r.flows);
    await page.screenshot({ path: path.join(shots, 'playing.png') });
    await page.locator('.df-play').click();
    const stopped = await attr('data-step');
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageHarness).dfHarness.handle.scene.particles.geometry.drawRange.count), 0);
    await page.waitForTimeout(1000);
    assert.equal(await attr('data-step'), stopped);
  });

  test('rounds: the selector and the steps show each round’s arrays', async () => {
    const count = await page.evaluate(() => (globalThis as unknown as PageHarness).dfHarness.mount({ schedule: 'rounds.json', width: 1280, height: 720 }));
    assert.equal(count, arraysOf(rounds, 0).length);
    assert.equal(await attr('data-arrays'), arraysOf(rounds, 0).length);
    await page.selectOption('.df-round', '2');
    assert.equal(await attr('data-arrays'), arraysOf(rounds, 2).length);
    assert.equal(await attr('data-step'), rounds.steps.findIndex((s) => s.kind === 'program' && s.round === 2));
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageHarness).dfHarness.handle.scene.arrays.count), arraysOf(rounds, 2).length);
    await page.screenshot({ path: path.join(shots, 'round2.png') });
    // Stepping onto a block of round 1 shows round 1.
    const i = rounds.steps.findIndex((s) => s.kind === 'mvm' && rounds.blocks.find((b) => b.id === s.block)!.round === 1);
    await setStep(i);
    assert.equal(await attr('data-arrays'), arraysOf(rounds, 1).length);
    assert.equal(await page.locator('.df-round').inputValue(), '1');
    assert.deepEqual(errors, []);
  });
});
