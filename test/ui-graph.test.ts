// The model graph view. Node side: the synthetic graphs are what they claim; the dagre layout has one box
// per node and one route per input edge, no overlapping boxes, every edge from a rank to a later one, routes
// ending on their boxes. In headless Chromium (the harness page, under the app's CSP): the same
// properties of what was drawn, box text equal to the graph's numbers, click and search selecting into the
// details panel, pan and zoom; and in the real app bundle, the 'graph' view fetching the model through the
// bridge and laying it out in the worker at its bundled URL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import * as path from 'node:path';
import { fmnistResnet, fmnistVgg } from '../compiler/models/reference.js';
import type { ModelGraph } from '../ui/api/types.js';
import type { DrawnFacts, GraphHarness, HarnessTimings, Rect } from '../ui/app/graph/harness-api.js';
import { GraphLayoutError, layoutModelGraph, type GraphLayout } from '../ui/app/graph/layout.js';
import { artifactDir, haveChromium, launchChromium } from './ui-browser.js';
import { modelGraphOf, syntheticModelGraph } from './ui-fixtures.js';
import { type Served, serveAppBundle, serveGraphHarness } from './ui-graph-harness.js';

const VGG = modelGraphOf(fmnistVgg(1), 'fmnist-vgg', { conv3: 'tucker2 16x24', fc1: 'svd 32' });
const RESNET = modelGraphOf(fmnistResnet(3), 'fmnist-resnet');
const BIG = syntheticModelGraph(200, 7);

/** (from, to) of every input edge, sorted, duplicates kept. */
const inputEdges = (g: ModelGraph): string[] => g.nodes.flatMap((n) => n.inputs.map((v) => `${v}->${n.id}`)).sort();
const allIds = (g: ModelGraph): string[] => [...g.inputs.map((i) => i.id), ...g.nodes.map((n) => n.id)].sort();

/** Pairs of boxes that overlap (positive-area intersection); sorted by top so it stays cheap. */
function overlaps(boxes: readonly (Rect & { id: string })[]): string[] {
  const s = [...boxes].sort((a, b) => a.y - b.y);
  const bad: string[] = [];
  for (let i = 0; i < s.length; i++)
    for (let j = i + 1; j < s.length && s[j].y < s[i].y + s[i].height; j++)
      if (s[j].x < s[i].x + s[i].width && s[i].x < s[j].x + s[j].width) bad.push(`${s[i].id} / ${s[j].id}`);
  return bad;
}

/** Distance from a point to a rectangle's border. */
function borderDistance(p: { x: number; y: number }, r: Rect): number {
  const dx = Math.max(r.x - p.x, 0, p.x - (r.x + r.width));
  const dy = Math.max(r.y - p.y, 0, p.y - (r.y + r.height));
  if (dx > 0 || dy > 0) return Math.hypot(dx, dy);
  return Math.min(p.x - r.x, r.x + r.width - p.x, p.y - r.y, r.y + r.height - p.y);
}

/** 3 significant digits with k/M/G, read back ("18.5k" -> 18500). */
function parseCount(s: string): number {
  const m = /^(-?[\d.]+)([kMG]?)$/.exec(s);
  assert.ok(m, `not a compact count: '${s}'`);
  return Number(m[1]) * { '': 1, k: 1e3, M: 1e6, G: 1e9 }[m[2] as '' | 'k' | 'M' | 'G'];
}

/** A rounded count as drawn matches the exact one to its 3 significant digits. */
function assertCount(shown: string, exact: number, what: string): void {
  const v = parseCount(shown);
  assert.ok(Math.abs(v - exact) <= 0.005 * exact, `${what}: shows ${shown}, is ${exact}`);
}

// ---- Node side

describe('syntheticModelGraph', () => {
  test('has exactly the asked layer count, consistent shapes and totals, and is seeded', () => {
    for (const layers of [8, 20, 57, 200]) {
      const g = syntheticModelGraph(layers, 3);
      assert.equal(g.nodes.length, layers);
      assert.equal(new Set(allIds(g)).size, layers + 1, 'ids unique');
      const shapeOf = new Map<string, readonly number[]>([[g.inputs[0].id, g.inputs[0].shape]]);
      for (const n of g.nodes) {
        for (const v of n.inputs) assert.ok(shapeOf.has(v), `${n.id}: input ${v} defined before use`);
        if (n.op === 'add') assert.deepEqual(shapeOf.get(n.inputs[0]), shapeOf.get(n.inputs[1]), `${n.id}: add of equal shapes`);
        if (n.op === 'conv2d') {
          // k*k*cin*cout weights, and H*W of the output times that many MACs.
          const [hw, , cout] = n.outputShape;
          const cin = shapeOf.get(n.inputs[0])!.at(-1)!;
          const k = Math.sqrt(n.params / (cin * cout));
          assert.ok([1, 3, 7].includes(k), `${n.id}: kernel ${k}`);
          assert.equal(n.macs, hw * hw * n.params);
        }
        shapeOf.set(n.id, n.outputShape);
      }
      assert.equal(g.totals.params, g.nodes.reduce((a, n) => a + n.params, 0));
      assert.equal(g.totals.macs, g.nodes.reduce((a, n) => a + n.macs, 0));
    }
    assert.deepEqual(syntheticModelGraph(60, 5), syntheticModelGraph(60, 5));
    assert.notDeepEqual(syntheticModelGraph(60, 5).nodes, syntheticModelGraph(60, 6).nodes);
    assert.ok(BIG.nodes.filter((n) => n.op === 'add').length >= 10, 'the 200-layer graph has skip connections');
  });
});

function checkLayout(g: ModelGraph, l: GraphLayout): void {
  assert.deepEqual(l.nodes.map((n) => n.id).sort(), allIds(g));
  assert.deepEqual(l.edges.map((e) => `${e.from}->${e.to}`).sort(), inputEdges(g));
  const box = new Map(l.nodes.map((n) => [n.id, { id: n.id, x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height }]));
  assert.deepEqual(overlaps([...box.values()]), []);
  const rank = new Map(l.nodes.map((n) => [n.id, n.rank]));
  // Ranks are layers: numbered 0.. without gaps, one y per rank, increasing with the rank.
  const ys = new Map<number, Set<number>>();
  for (const n of l.nodes) ys.set(n.rank, (ys.get(n.rank) ?? new Set()).add(n.y));
  assert.deepEqual([...ys.keys()].sort((a, b) => a - b), [...Array(ys.size).keys()]);
  for (let r = 0; r < ys.size; r++) {
    assert.equal(ys.get(r)!.size, 1, `rank ${r} on one line`);
    if (r > 0) assert.ok([...ys.get(r)!][0] > [...ys.get(r - 1)!][0]);
  }
  for (const e of l.edges) {
    assert.ok(rank.get(e.from)! < rank.get(e.to)!, `${e.from}->${e.to} goes to a later rank`);
    const [a, b] = [box.get(e.from)!, box.get(e.to)!];
    assert.ok(a.y + a.height <= b.y, `${e.from}->${e.to}: source box above target box`);
    assert.ok(e.points.length >= 2);
    assert.ok(borderDistance(e.points[0], a) < 0.5, `${e.from}->${e.to} starts on its source box`);
    assert.ok(borderDistance(e.points.at(-1)!, b) < 0.5, `${e.from}->${e.to} ends on its target box`);
  }
  for (const n of l.nodes) {
    assert.ok(n.x - n.width / 2 >= 0 && n.x + n.width / 2 <= l.width, `${n.id} inside the layout's width`);
    assert.ok(n.y - n.height / 2 >= 0 && n.y + n.height / 2 <= l.height, `${n.id} inside the layout's height`);
  }
}

describe('layoutModelGraph', () => {
  test('fmnist-vgg, fmnist-resnet and a 200-layer CNN: one box per node, routes per edge, layered, no overlaps', () => {
    for (const g of [VGG, RESNET, BIG]) checkLayout(g, layoutModelGraph(g));
    // The chain of fmnist-vgg is one node per rank.
    assert.equal(Math.max(...layoutModelGraph(VGG).nodes.map((n) => n.rank)), VGG.nodes.length);
  });

  test('keeps both edges of a node that reads one value twice', () => {
    const g: ModelGraph = {
      ...VGG,
      nodes: [...VGG.nodes, { id: 'twice', op: 'add', origin: 'twice', inputs: ['softmax', 'softmax'], outputShape: [10], params: 0, macs: 10 }],
    };
    const l = layoutModelGraph(g);
    checkLayout(g, l);
    assert.equal(l.edges.filter((e) => e.to === 'twice').length, 2);
  });

  test('is deterministic', () => {
    assert.deepEqual(layoutModelGraph(BIG), layoutModelGraph(BIG));
  });

  test('rejects unknown inputs and duplicate ids, naming them', () => {
    const bad = { ...VGG, nodes: VGG.nodes.map((n) => (n.id === 'conv2' ? { ...n, inputs: ['nowhere'] } : n)) };
    assert.throws(() => layoutModelGraph(bad), (e: Error) => e instanceof GraphLayoutError && /conv2.*nowhere/.test(e.message));
    const dup = { ...VGG, nodes: [...VGG.nodes, VGG.nodes[3]] };
    assert.throws(() => layoutModelGraph(dup), (e: Error) => e instanceof GraphLayoutError && e.message.includes(`'${VGG.nodes[3].id}'`));
  });
});

// ---- In headless Chromium

const skip = haveChromium() ? false : 'chromium not installed (Debian package chromium)';
let browser: Browser;
let harness: Served;
const artifacts = artifactDir('ui-graph');

before(async () => {
  if (skip) return;
  [browser, harness] = await Promise.all([launchChromium(), serveGraphHarness()]);
});
after(async () => {
  await browser?.close();
  await harness?.close();
});

interface Opened {
  readonly page: Page;
  readonly timings: HarnessTimings;
  /** Console errors and uncaught exceptions (CSP violations land here). */
  readonly errors: string[];
}

/** In page functions (serialized, so no closures): `(globalThis as Harnessed).graphHarness`. */
type Harnessed = { graphHarness: GraphHarness };

/** Collects console errors, uncaught exceptions (CSP violations land there) and failed requests. */
function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    // index.html's CSP names frame-ancestors, which Chromium ignores in a <meta> and says so as an error.
    if (m.type() === 'error' && !m.text().includes("'frame-ancestors' is ignored") && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => void (r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`${r.status()} ${r.url()}`)));
  return errors;
}

async function open(graph: ModelGraph): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watch(page);
  await page.goto(harness.url);
  await page.waitForFunction(() => (globalThis as unknown as Partial<Harnessed>).graphHarness !== undefined);
  const timings = await page.evaluate((g) => (globalThis as unknown as Harnessed).graphHarness.show(g), graph);
  return { page, timings, errors };
}

const facts = (page: Page): Promise<DrawnFacts> => page.evaluate(() => (globalThis as unknown as Harnessed).graphHarness.facts());

/** What must hold of any drawn graph: DOM contract, geometry, and every box's text equal to the input. */
function checkDrawn(g: ModelGraph, f: DrawnFacts): void {
  assert.ok(f.ready, 'data-ready');
  assert.deepEqual(f.nodes.map((n) => n.id).sort(), allIds(g), 'one .graph-node per node and input');
  assert.deepEqual(f.edges.map((e) => `${e.from}->${e.to}`).sort(), inputEdges(g), 'one .graph-edge per input edge');
  const box = new Map(f.nodes.map((n) => [n.id, { ...n.box, id: n.id }]));
  assert.deepEqual(overlaps([...box.values()]), [], 'no overlapping boxes');
  // Tolerance: one SVG unit at the current zoom, for anti-aliased path ends.
  const tol = Math.max(1, f.zoom.k);
  for (const e of f.edges) {
    const [a, b] = [box.get(e.from)!, box.get(e.to)!];
    assert.ok(a.y + a.height <= b.y + 1e-6, `${e.from}->${e.to} points downward`);
    assert.ok(borderDistance(e.start, a) < tol, `${e.from}->${e.to} starts on its source box`);
    assert.ok(borderDistance(e.end, b) < tol, `${e.from}->${e.to} ends on its target box`);
  }
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  for (const d of f.nodes) {
    if (!f.far) assert.ok(d.textOverflow <= 0, `${d.id}: text fits its box (overflow ${d.textOverflow})`);
    const n = byId.get(d.id);
    if (!n) {
      const input = g.inputs.find((i) => i.id === d.id)!;
      assert.deepEqual(d.lines, ['input', input.shape.join('×')]);
      continue;
    }
    assert.equal(d.title, n.id);
    assert.equal(d.lines[0], n.op);
    assert.equal(d.lines[1], n.outputShape.join('×'));
    const m = /^(\S+) params · (\S+) MACs$/.exec(d.lines[2]);
    assert.ok(m, `${n.id}: params/MACs line '${d.lines[2]}'`);
    assertCount(m[1], n.params, `${n.id} params`);
    assertCount(m[2], n.macs, `${n.id} MACs`);
    assert.equal(d.decision, n.decision ?? null, `${n.id}: decision`);
  }
}

const transformOf = async (page: Page) => (await facts(page)).zoom;

/** Finds `id` with the search box and waits until the view has panned it to the canvas's centre. */
async function searchAndCentre(page: Page, id: string): Promise<void> {
  await page.fill('.graph-search', id);
  await page.press('.graph-search', 'Enter');
  await page.waitForFunction((id) => {
    const f = (globalThis as unknown as Harnessed).graphHarness.facts();
    const b = f.nodes.find((n) => n.id === id)!.box;
    return Math.abs(b.x + b.width / 2 - (f.svg.x + f.svg.width / 2)) < 1 && Math.abs(b.y + b.height / 2 - (f.svg.y + f.svg.height / 2)) < 1;
  }, id);
}

describe('graph view in Chromium', { skip }, () => {
  test('fmnist-vgg: the drawing matches the graph; clicking a box shows its details', async () => {
    const { page, errors } = await open(VGG);
    checkDrawn(VGG, await facts(page));
    assert.ok((await page.locator('.graph-decision').allTextContents()).includes('tucker2 16x24'));
    await page.screenshot({ path: path.join(artifacts, 'fmnist-vgg.png') });

    // conv3 is below the fold at first; search brings it to the middle, then a click on its neighbour
    // and back on it selects each.
    await searchAndCentre(page, 'conv3');
    assert.equal(await page.textContent('.graph-details h3'), 'conv3');
    await page.click('.graph-node[data-id="bn3"]');
    assert.equal(await page.textContent('.graph-details h3'), 'bn3');
    const conv3 = VGG.nodes.find((n) => n.id === 'conv3')!;
    await page.click('.graph-node[data-id="conv3"]');
    assert.equal(await page.textContent('.graph-details h3'), 'conv3');
    const num = async (sel: string) => Number((await page.textContent(`.graph-details ${sel}`))!.split(' ')[0].replaceAll(',', ''));
    assert.equal(await num('.graph-params'), conv3.params);
    assert.equal(await num('.graph-macs'), conv3.macs);
    assert.equal(await page.textContent('.graph-details td.graph-decision'), 'tucker2 16x24');
    const f = await facts(page);
    assert.deepEqual(f.nodes.filter((n) => n.classes.includes('graph-selected')).map((n) => n.id), ['conv3']);
    assert.deepEqual(f.edges.filter((e) => e.selected).map((e) => `${e.from}->${e.to}`).sort(), ['conv3->bn3', 'pool1->conv3']);
    await page.screenshot({ path: path.join(artifacts, 'fmnist-vgg-selected.png') });
    // Its input, picked in the panel, becomes the selection.
    await page.click('.graph-details button[data-id="pool1"]');
    assert.equal(await page.textContent('.graph-details h3'), 'pool1');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('200 layers: the drawing matches the graph; search finds and centres a layer; pan and zoom', async () => {
    const { page, errors } = await open(BIG);
    checkDrawn(BIG, await facts(page));
    await page.screenshot({ path: path.join(artifacts, 'synthetic-200.png') });

    // Search for a layer far down; it becomes selected and is panned to the middle of the canvas (of its
    // new size: the window was resized after drawing).
    await page.setViewportSize({ width: 1100, height: 760 });
    const target = BIG.nodes[150];
    await searchAndCentre(page, target.id);
    assert.equal(await page.textContent('.graph-details h3'), target.id);
    // Clicking a neighbour there selects it.
    const next = BIG.nodes[151];
    await page.click(`.graph-node[data-id="${next.id}"]`);
    assert.equal(await page.textContent('.graph-details h3'), next.id);
    await page.fill('.graph-search', 'no-such-layer');
    await page.press('.graph-search', 'Enter');
    assert.equal(await page.textContent('.graph-search-status'), 'no layer matches');

    // Drag pans by exactly the drag; the wheel zooms about the pointer (d3-zoom: 2^(-deltaY/500)).
    const svg = (await facts(page)).svg;
    // Whole pixels: Chromium's mouse events carry integer client coordinates.
    const [cx, cy] = [Math.round(svg.x + svg.width / 2), Math.round(svg.y + svg.height / 2)];
    const t0 = await transformOf(page);
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx - 120, cy - 200, { steps: 5 });
    await page.mouse.up();
    const t1 = await transformOf(page);
    assert.ok(Math.abs(t1.x - t0.x + 120) < 1e-6 && Math.abs(t1.y - t0.y + 200) < 1e-6 && t1.k === t0.k, `pan ${JSON.stringify([t0, t1])}`);
    assert.equal(await page.textContent('.graph-details h3'), next.id, 'a drag does not select');
    // Keys, with the canvas focused: an arrow pans 60 px.
    await page.focus('.graph-svg');
    await page.keyboard.press('ArrowDown');
    const tk = await transformOf(page);
    assert.ok(Math.abs(tk.y - t1.y + 60) < 1e-6 && tk.x === t1.x && tk.k === t1.k, `arrow ${JSON.stringify([t1, tk])}`);
    await page.keyboard.press('ArrowUp');
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, 500);
    await page.waitForFunction((k) => (globalThis as unknown as Harnessed).graphHarness.facts().zoom.k < k, t1.k);
    const t2 = await transformOf(page);
    assert.ok(Math.abs(t2.k - t1.k / 2) < 1e-9, `zoom ${t1.k} -> ${t2.k}`);
    const under = (t: { x: number; y: number; k: number }) => [(cx - svg.x - t.x) / t.k, (cy - svg.y - t.y) / t.k];
    assert.ok(Math.abs(under(t2)[0] - under(t1)[0]) < 1e-6 && Math.abs(under(t2)[1] - under(t1)[1]) < 1e-6, 'the point under the pointer stays');
    // Far out, the text is dropped (one class on the root).
    await page.click('.graph-fit');
    await page.waitForFunction(() => {
      const f = (globalThis as unknown as Harnessed).graphHarness.facts();
      const inside = (b: Rect) => b.x >= f.svg.x && b.y >= f.svg.y && b.x + b.width <= f.svg.x + f.svg.width && b.y + b.height <= f.svg.y + f.svg.height;
      return f.nodes.every((n) => inside(n.box));
    });
    assert.ok((await facts(page)).far, 'text hidden far out');
    await page.screenshot({ path: path.join(artifacts, 'synthetic-200-fit.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the app bundle: the graph view opens ctx.state.model through the bridge and lays it out in the bundled worker', async () => {
    const app = await serveAppBundle();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const errors = watch(page);
      const workerLoads: string[] = [];
      page.on('response', (r) => void (r.url().includes('layout-worker') && workerLoads.push(`${r.status()} ${new URL(r.url()).pathname}`)));
      // Electron's preload seam (window.tandem), standing in for the server: answers openModel only.
      await page.addInitScript((graph) => {
        const w = globalThis as unknown as { tandem: unknown; opened: unknown[] };
        w.opened = [];
        w.tandem = {
          openModel: async (req: unknown) => (w.opened.push(req), graph),
          onJobEvent: () => () => {},
        };
      }, RESNET);
      await page.goto(`${app.url}#/graph`);
      await page.waitForSelector('#view[data-ready="true"]');
      assert.deepEqual(await page.evaluate(() => (globalThis as unknown as { opened: unknown[] }).opened), [{ model: 'fmnist-vgg' }]);
      assert.deepEqual(workerLoads, ['200 /graph/layout-worker.js']);
      assert.equal(await page.locator('.graph-svg .graph-node').count(), RESNET.nodes.length + RESNET.inputs.length);
      assert.equal(await page.locator('.graph-svg .graph-edge').count(), inputEdges(RESNET).length);
      assert.equal(await page.textContent('.graph-toolbar h2'), 'fmnist-resnet');
      const totals = (await page.textContent('.graph-totals'))!;
      const m = /^(\d+) layers · (\S+) params · (\S+) MACs$/.exec(totals);
      assert.ok(m, totals);
      assert.equal(Number(m[1]), RESNET.nodes.length);
      assertCount(m[2], RESNET.totals.params, 'total params');
      assertCount(m[3], RESNET.totals.macs, 'total MACs');
      // Leaving the view clears data-ready.
      await page.evaluate(() => ((globalThis as unknown as { location: { hash: string } }).location.hash = '#/project'));
      await page.waitForSelector('#view:not([data-ready])');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await app.close();
    }
  });
});
