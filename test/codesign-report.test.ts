// The co-design report files on a hand-built result: front.csv (exact header, RFC 4180 quoting round-trips
// through an independent parser, one row per candidate) and report.html (nothing external, the embedded
// result parses back equal, the inlined d3 is the installed one, and in headless Chromium the page draws
// one circle per candidate per plot, the front and decision tables).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resultCsv } from '../codesign/report/csv.js';
import { resultHtml } from '../codesign/report/html.js';
import type { Candidate, CodesignResult, LayerDecision, MetricInfo } from '../codesign/result.js';
import { haveTool } from '../hw-targets/serial/flash.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tandem-codesign-report-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// ---- a synthetic result: flags derived from the metrics the way the loop defines them

const METRICS: MetricInfo[] = [
  { key: 'accuracy', label: 'top-1 accuracy', unit: '%', direction: 'max', source: 'eval:fmnist test' },
  { key: 'energy:rram-128', label: 'energy per image on rram-128', unit: 'µJ', direction: 'min', source: 'sim:rram-128 cost model' },
  { key: 'latency:qemu', label: 'latency on qemu', unit: 'ms', direction: 'min', source: 'predictor:qemu forest' },
];
const OBJECTIVES = METRICS.map((m) => m.key);
const ACC_MIN = 90;
const ARRAYS_MAX = 64;
const LAYERS = ['conv1', 'conv2', 'conv3', 'fc'];
const DECISIONS = ['original', 'tucker2 16x24', 'cp 12', 'svd 32', 'prune 25%, then svd 8'];
/** Text that breaks naive HTML embedding and CSV writing. */
const NASTY = 'energy share 31% -> weakening 0.62, "see </script><!--<script> & x"\nnext line';

/** [strategy, accuracy %, energy µJ, latency ms, arrays used] */
const SPECS: [string, number, number, number, number][] = [
  ['greedy:energy:rram-128', 92.5, 10, 5, 40],
  ['greedy:latency:qemu', 92.1, 8 + 1 / 3, 4.5, 38],
  ['musco:macs', 91, 6, 4, 30],
  ['nsga2:latency:qemu, "tuned"', 90.5, 9, 4.8, 36],
  ['nsga2:energy:rram-128', 91.5, 8.5, 4.9, 35],
  ['greedy:energy:rram-128', 88, 4, 3, 20],
  ['musco:params', 92.8, 7, 3.5, 80],
];

const better = (m: MetricInfo, a: number, b: number) => (m.direction === 'min' ? a < b : a > b);
const dominates = (a: Record<string, number>, b: Record<string, number>) =>
  METRICS.every((m) => !better(m, b[m.key], a[m.key])) && METRICS.some((m) => better(m, a[m.key], b[m.key]));

function synthetic(specs: typeof SPECS): CodesignResult {
  const raw = specs.map(([strategy, acc, energy, latency, arrays], i) => {
    const metrics = { accuracy: acc, 'energy:rram-128': energy, 'latency:qemu': latency };
    const violations = [
      ...(acc < ACC_MIN ? [`accuracy ${acc}% < ${ACC_MIN}%`] : []),
      ...(arrays > ARRAYS_MAX ? [`arrays ${arrays} > ${ARRAYS_MAX}\nrram-128 tile budget`] : []),
    ];
    const layers: LayerDecision[] = LAYERS.map((layer, j) => ({
      layer,
      decision: DECISIONS[(i + j) % DECISIONS.length],
      reason: j === 1 ? NASTY : `least error per µJ saved (${(0.001 * (i + j + 1)).toFixed(4)}/µJ)`,
      cost: { 'energy:rram-128': (energy * (j + 1)) / 10, 'latency:qemu': (latency * (j + 1)) / 10 },
    }));
    return { id: `c${i}`, strategy, metrics, violations, layers, feasible: violations.length === 0 };
  });
  const candidates: Candidate[] = raw.map((c, i) => ({
    id: c.id,
    strategy: c.strategy,
    plan: { version: 1, model: 'fmnist-resnet', seed: 7, layers: { conv2: { layer: 'conv2', decomposition: { kind: 'tucker2', ranks: [16, 24] }, reason: 'rank rule' } } },
    metrics: c.metrics,
    layers: c.layers,
    feasible: c.feasible,
    violations: c.violations,
    onFront: c.feasible && !raw.some((o) => o.feasible && dominates(o.metrics, c.metrics)),
    modelHash: `${i}`.padStart(64, 'a'),
    seconds: 30 + i,
  }));
  const first = METRICS[0];
  const front = candidates.filter((c) => c.onFront);
  const chosen = front.reduce<Candidate | undefined>((b, c) => (!b || better(first, c.metrics[first.key], b.metrics[first.key]) ? c : b), undefined);
  return {
    format: 'tandem-codesign-result',
    version: 1,
    createdAt: '2026-12-06T00:00:00.000Z',
    run: 12,
    store: '/home/u/.cache/tandem/runs.sqlite',
    command: 'tandem codesign fmnist-resnet --objective accuracy,energy:rram-128,latency:qemu --min-accuracy 90',
    seed: 7,
    problem: { model: 'fmnist-resnet', objectives: OBJECTIVES, constraints: { accuracy: `>= ${ACC_MIN}`, arrays: `<= ${ARRAYS_MAX}` } },
    baseline: { accuracy: 93.2, 'energy:rram-128': 14.1, 'latency:qemu': 6.3 },
    metrics: METRICS,
    objectives: OBJECTIVES,
    candidates,
    ...(chosen ? { chosen: chosen.id } : {}),
    seconds: 3723.5,
  };
}

const R = synthetic(SPECS);

test('the synthetic result has the shape the assertions rely on', () => {
  assert.equal(R.candidates.length, 7);
  assert.equal(R.candidates.filter((c) => !c.feasible).length, 2);
  assert.equal(R.candidates.filter((c) => c.onFront).length, 3);
  assert.ok(R.chosen !== undefined);
});

// ---- CSV

/** An RFC 4180 reader, strict: CRLF-terminated records, quotes only around whole fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = false;
        assert.ok(i + 1 === text.length || text[i + 1] === ',' || text[i + 1] === '\r', `text after a closing quote at ${i}`);
      }
    } else if (ch === '"') {
      assert.equal(field, '', `quote inside an unquoted field at ${i}`);
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      assert.ok(ch !== '\r' && ch !== '\n', `bare line break outside quotes at ${i}`);
      field += ch;
    }
  }
  assert.ok(!quoted && field === '' && row.length === 0, 'the last record is not CRLF-terminated');
  return rows;
}

test('front.csv: exact header, one row per candidate, quoting round-trips, numbers exact', () => {
  const csv = resultCsv(R);
  assert.equal(csv.slice(0, csv.indexOf('\r\n')), 'id,strategy,feasible,onFront,chosen,accuracy (%),energy:rram-128 (µJ),latency:qemu (ms),violations,layers');
  const rows = parseCsv(csv);
  assert.equal(rows.length, R.candidates.length + 1);
  const head = rows[0];
  assert.ok(rows.every((r) => r.length === head.length), 'every row has as many fields as the header');
  const col = (name: string) => head.indexOf(name);
  R.candidates.forEach((c, i) => {
    const row = rows[i + 1];
    assert.equal(row[col('id')], c.id);
    assert.equal(row[col('strategy')], c.strategy);
    assert.equal(row[col('feasible')], String(c.feasible));
    assert.equal(row[col('onFront')], String(c.onFront));
    assert.equal(row[col('chosen')], String(c.id === R.chosen));
    R.metrics.forEach((m, k) => assert.ok(Object.is(Number(row[5 + k]), c.metrics[m.key]), `${c.id} ${m.key}`));
    assert.equal(row[col('violations')], c.violations.join('; '));
    assert.equal(row[col('layers')], c.layers.map((l) => `${l.layer}=${l.decision}`).join('; '));
  });
  // the comma-and-quote strategy really was quoted (not just split back by luck)
  assert.ok(csv.includes('"nsga2:latency:qemu, ""tuned"""'));
  assert.equal(rows.filter((r) => r[col('chosen')] === 'true').length, 1);
});

// ---- HTML, as text

const HTML = resultHtml(R);
const installedD3 = path.join(ROOT, 'node_modules', 'd3');

test('report.html references nothing outside itself', () => {
  const urls = [...HTML.matchAll(/\b(?:src|href)\s*=\s*["']?\s*([^"'\s>]*)/gi)].map((m) => m[1]);
  assert.deepEqual(urls.filter((u) => /^(?:https?:|\/\/)/i.test(u)), []);
  assert.doesNotMatch(HTML, /<script\b[^>]*\bsrc\s*=/i);
  assert.doesNotMatch(HTML, /<link\b/i, 'no <link> (stylesheets, fonts, icons)');
  const style = /<style>([\s\S]*?)<\/style>/.exec(HTML)![1];
  assert.doesNotMatch(style, /@import|url\(/i);
  assert.match(HTML, /http-equiv="Content-Security-Policy" content="default-src 'none';/);
});

test('report.html embeds the result, parsing back equal, and the installed d3 verbatim', () => {
  // A non-greedy match stops at the first '</script': it is the element's end only if the JSON was escaped.
  const json = /<script type="application\/json" id="codesign-result">([\s\S]*?)<\/script>/.exec(HTML);
  assert.ok(json, 'the result script element');
  assert.deepEqual(JSON.parse(json[1]), R);
  const scripts = [...HTML.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  const bundle = readFileSync(path.join(installedD3, 'dist', 'd3.min.js'), 'utf8');
  const { version } = JSON.parse(readFileSync(path.join(installedD3, 'package.json'), 'utf8')) as { version: string };
  const inlined = scripts.find((s) => s.includes('version="'));
  assert.ok(inlined, 'a script defining d3.version');
  assert.equal(/version="([^"]+)"/.exec(inlined)![1], version);
  assert.equal(inlined, bundle);
});

// ---- HTML, rendered

function dumpDom(file: string): Promise<string> {
  const profile = mkdtempSync(path.join(tmp, 'chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(file).href];
  return new Promise((resolve, reject) => {
    execFile('chromium', args, { timeout: 120_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`chromium ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const decode = (s: string) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');
const attrs = (s: string): Record<string, string> => Object.fromEntries([...s.matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1], decode(m[2])]));
const elements = (html: string, tag: string) => [...html.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'g'))].map((m) => attrs(m[1]));
const classes = (a: Record<string, string>) => (a.class ?? '').split(/\s+/).filter(Boolean);
/** The inner HTML of the first `tag` element with id `id` (no nesting of the same tag inside). */
function byId(html: string, tag: string, id: string): string | undefined {
  return new RegExp(`<${tag}\\b[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</${tag}>`).exec(html)?.[1];
}
/** Body rows of a table as cell texts. */
function bodyRows(html: string, id: string): { cls: string[]; cells: string[] }[] {
  const table = byId(html, 'table', id);
  assert.ok(table !== undefined, `table #${id}`);
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)?.[1] ?? '';
  return [...tbody.matchAll(/<tr\b([^>]*)>([\s\S]*?)<\/tr>/g)].map((m) => ({
    cls: classes(attrs(m[1])),
    cells: [...m[2].matchAll(/<td\b[^>]*>([\s\S]*?)<\/td>/g)].map((c) => decode(c[1])),
  }));
}

async function render(t: { skip: (msg: string) => void }, r: CodesignResult, name: string): Promise<string | undefined> {
  if (!haveTool('chromium')) {
    t.skip('chromium not installed (Debian package chromium)');
    return undefined;
  }
  const file = path.join(tmp, `${name}.html`);
  writeFileSync(file, resultHtml(r));
  const dom = await dumpDom(file);
  assert.match(dom, /<body\b[^>]*data-rendered="true"/, 'the page script ran to the end');
  // The scripts' text holds markup-like strings; only the rendered elements count.
  return dom.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
}

test('report.html in headless Chromium: one circle per candidate per plot, front and decision tables', async (t) => {
  const dom = await render(t, R, 'report');
  if (dom === undefined) return;
  const plotKeys = R.objectives.filter((k) => k !== 'accuracy');
  const plots = byId(dom, 'section', 'plots');
  assert.ok(plots !== undefined, 'the plots section');
  assert.deepEqual(elements(plots, 'svg').map((a) => a['data-x']), plotKeys);

  const circles = elements(plots, 'circle').filter((a) => classes(a).includes('cand'));
  assert.equal(circles.length, R.candidates.length * plotKeys.length);
  for (const c of R.candidates) {
    const mine = circles.filter((a) => a['data-id'] === c.id);
    assert.equal(mine.length, plotKeys.length, `${c.id}: one circle per plot`);
    for (const a of mine) {
      assert.equal(classes(a).includes('front'), c.onFront, `${c.id} class front`);
      assert.equal(classes(a).includes('infeasible'), !c.feasible, `${c.id} class infeasible`);
    }
  }
  assert.equal(elements(plots, 'circle').filter((a) => classes(a).includes('chosen-ring')).length, plotKeys.length);
  assert.equal(elements(plots, 'path').filter((a) => classes(a).includes('baseline')).length, plotKeys.length);
  assert.equal(elements(plots, 'path').filter((a) => classes(a).includes('front-line') && /^M/.test(a.d ?? '')).length, plotKeys.length);
  // axis labels name the units
  const labels = [...plots.matchAll(/<text class="axis-label"[^>]*>([^<]*)<\/text>/g)].map((m) => decode(m[1]));
  for (const k of plotKeys) {
    const m = R.metrics.find((x) => x.key === k)!;
    assert.ok(labels.some((l) => l.startsWith(`${m.label} (${m.unit})`)), `x label of ${k} in ${JSON.stringify(labels)}`);
  }
  assert.equal(labels.filter((l) => l.startsWith('top-1 accuracy (%)')).length, plotKeys.length);

  const front = bodyRows(dom, 'front-table');
  const frontIds = R.candidates.filter((c) => c.onFront).map((c) => c.id);
  assert.equal(front.length, 3);
  assert.deepEqual(front.map((row) => row.cells[0]).sort(), [...frontIds].sort());
  assert.deepEqual(front.filter((row) => row.cls.includes('chosen')).map((row) => row.cells[0]), [R.chosen]);

  assert.deepEqual(bodyRows(dom, 'all-table').map((row) => row.cells[0]), R.candidates.map((c) => c.id));

  const chosen = R.candidates.find((c) => c.id === R.chosen)!;
  const decisions = bodyRows(dom, 'decisions');
  assert.equal(decisions.length, chosen.layers.length);
  // text, not markup: the reason with '</script><!--' comes back as written
  assert.deepEqual(decisions.map((row) => row.cells.slice(0, 3)), chosen.layers.map((l) => [l.layer, l.decision, l.reason]));
});

test('report.html in headless Chromium with no feasible candidate: renders, no front rows, no decisions table', async (t) => {
  const r = synthetic(SPECS.map(([s, , e, l, a]) => [s, ACC_MIN - 1, e, l, a]));
  assert.equal(r.chosen, undefined);
  const dom = await render(t, r, 'infeasible');
  if (dom === undefined) return;
  const plots = byId(dom, 'section', 'plots')!;
  const circles = elements(plots, 'circle').filter((a) => classes(a).includes('cand'));
  assert.ok(circles.length > 0 && circles.every((a) => classes(a).includes('infeasible') && !classes(a).includes('front')));
  assert.equal(bodyRows(dom, 'front-table').length, 0);
  assert.equal(byId(dom, 'table', 'decisions'), undefined);
});
