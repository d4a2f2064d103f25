// report.html: one self-contained page (d3 and the result inlined, nothing fetched) that opens from disk.
// The page's script draws everything from the embedded result, so the file is also a faithful copy of it.
import type { CodesignResult } from '../result.js';
import { d3Bundle } from './d3-bundle.js';

/**
 * The result as JSON safe inside <script>: every '<' becomes the JSON escape \u003c. That covers '</'
 * (which would end the element) and also '<!--' (which, followed by '<script', makes the parser skip the
 * real '</script>'); JSON.parse gives back the same strings.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}

// Nothing may be fetched: the policy makes a browser refuse any URL that slips in, not just this code.
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'";

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
dl#summary { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
dt { font-weight: 600; } dd { margin: 0; } pre { background: #f6f6f6; padding: 0.5em; overflow: auto; }
#plots { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; } figcaption { font-weight: 600; }
svg text { font-size: 11px; } .axis-label { font-size: 12px; fill: #333; }
circle.cand, circle.swatch { fill: #9ecae1; stroke: #3182bd; stroke-width: 1; }
circle.infeasible { fill: none; stroke: #aaa; }
circle.front { fill: #e6550d; stroke: #a63603; }
.front-line { fill: none; stroke: #e6550d; stroke-width: 1.5; stroke-dasharray: 4 2; }
.chosen-ring { fill: none; stroke: #111; stroke-width: 2; }
.baseline { fill: #31a354; stroke: #006d2c; }
.legend span { margin-right: 1.2em; white-space: nowrap; }
.legend svg { vertical-align: middle; margin-right: 0.3em; }
table { border-collapse: collapse; margin-top: 0.5em; } caption { text-align: left; font-weight: 600; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; vertical-align: top; white-space: pre-line; }
th { background: #f3f3f3; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.chosen td { background: #fff3e0; font-weight: 600; }
`;

// The page's script, plain JS run in the browser with the global d3. Written without template literals
// because it lives inside one.
const PAGE = `
'use strict';
const r = JSON.parse(document.getElementById('codesign-result').textContent);
const ACC = 'accuracy';
const info = new Map(r.metrics.map((m) => [m.key, m]));
const meta = (k) => info.get(k) || { key: k, label: k, unit: '', direction: 'min', source: '' };
const unitOf = (m) => (m.unit ? ' (' + m.unit + ')' : '');
const finite = (x) => typeof x === 'number' && Number.isFinite(x);
const fmt = (x) => (!finite(x) ? '' : Number.isInteger(x) ? d3.format(',')(x) : d3.format(',.4~r')(x));
const byId = new Map(r.candidates.map((c) => [c.id, c]));
const chosen = r.chosen === undefined ? undefined : byId.get(r.chosen);
const main = d3.select('#report');

function duration(s) {
  if (s < 60) return s.toFixed(1) + ' s';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return (h ? h + ' h ' : '') + m + ' min ' + Math.round(s % 60) + ' s';
}
function metricLines(ms) {
  return r.metrics.filter((m) => finite(ms[m.key])).map((m) => m.label + ': ' + fmt(ms[m.key]) + (m.unit ? ' ' + m.unit : ''));
}
const metricsText = (ms) => metricLines(ms).join(', ');
function problemSummary(p) {
  if (p === null || typeof p !== 'object') return JSON.stringify(p);
  return Object.entries(p).map(([k, v]) => k + ': ' + (typeof v === 'object' ? JSON.stringify(v) : String(v))).join('; ');
}

// ---- header
const model = (r.problem && typeof r.problem.model === 'string' && r.problem.model) || (chosen || r.candidates[0] || { plan: {} }).plan.model || '(unknown model)';
document.title = 'Co-design: ' + model + ' (run ' + r.run + ')';
main.append('h1').text('Co-design report: ' + model);
const dl = main.append('dl').attr('id', 'summary');
const item = (k, v) => { dl.append('dt').text(k); return dl.append('dd').text(v); };
item('Problem', problemSummary(r.problem));
item('Objectives', r.objectives.map((k) => meta(k).label + (meta(k).direction === 'min' ? ' (minimised)' : ' (maximised)')).join(', '));
item('Seed', String(r.seed));
item('Run', '#' + r.run + ' in ' + r.store);
item('Command', '').append('code').text(r.command);
item('Time taken', duration(r.seconds));
item('Created', r.createdAt);
const nFeasible = r.candidates.filter((c) => c.feasible).length, nFront = r.candidates.filter((c) => c.onFront).length;
item('Candidates', r.candidates.length + ' (' + nFeasible + ' feasible, ' + nFront + ' on the Pareto front)');
item('Chosen', chosen ? chosen.id + ' (' + chosen.strategy + '): ' + metricsText(chosen.metrics) : 'none: no candidate met every constraint');
item('Baseline', metricsText(r.baseline));
main.append('details').call((d) => { d.append('summary').text('Problem as given'); d.append('pre').text(JSON.stringify(r.problem, null, 2)); });

// ---- one scatter plot of accuracy against each other objective
const W = 560, H = 380, M = { top: 16, right: 24, bottom: 48, left: 64 };
const xKeys = r.objectives.filter((k) => k !== ACC);
if (xKeys.length) {
  main.append('h2').text('Trade-offs');
  // Legend swatches are not class 'cand': that class means one candidate's point.
  main.append('p').attr('class', 'legend').html(
    '<span><svg width="12" height="12"><circle cx="6" cy="6" r="5" class="swatch front"/></svg>Pareto front (feasible, non-dominated over all objectives)</span>' +
    '<span><svg width="12" height="12"><circle cx="6" cy="6" r="4" class="swatch"/></svg>feasible, dominated</span>' +
    '<span><svg width="12" height="12"><circle cx="6" cy="6" r="4" class="swatch infeasible"/></svg>infeasible</span>' +
    '<span><svg width="14" height="14"><circle cx="7" cy="7" r="6" class="chosen-ring"/></svg>chosen</span>' +
    '<span><svg width="14" height="14"><path transform="translate(7,7)" d="' + d3.symbol(d3.symbolDiamond, 60)() + '" class="baseline"/></svg>baseline (uncompressed)</span>');
  const plots = main.append('section').attr('id', 'plots');
  for (const k of xKeys) scatter(plots, k, ACC);
}

function domain(values) {
  const [lo, hi] = d3.extent(values);
  if (lo === undefined) return [0, 1];
  const pad = lo === hi ? Math.abs(lo) * 0.05 || 1 : (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

function tip(c) {
  const status = !c.feasible ? 'infeasible: ' + c.violations.join('; ') : c.onFront ? 'on the Pareto front' : 'feasible, dominated';
  return [c.id + ' · ' + c.strategy + (c.id === r.chosen ? ' · chosen' : ''), metricLines(c.metrics).join('\\n'), status].join('\\n');
}

function scatter(parent, xKey, yKey) {
  const xm = meta(xKey), ym = meta(yKey);
  const has = (ms) => finite(ms[xKey]) && finite(ms[yKey]);
  const pts = r.candidates.filter((c) => has(c.metrics));
  const all = pts.map((c) => c.metrics).concat(has(r.baseline) ? [r.baseline] : []);
  const x = d3.scaleLinear(domain(all.map((m) => m[xKey])), [M.left, W - M.right]).nice();
  const y = d3.scaleLinear(domain(all.map((m) => m[yKey])), [H - M.bottom, M.top]).nice();
  const px = (ms) => x(ms[xKey]), py = (ms) => y(ms[yKey]);
  const better = (m) => (m.direction === 'min' ? ', lower is better' : ', higher is better');

  const fig = parent.append('figure');
  fig.append('figcaption').text(ym.label + ' vs ' + xm.label);
  const svg = fig.append('svg').attr('width', W).attr('height', H).attr('viewBox', [0, 0, W, H]).attr('data-x', xKey);
  svg.append('g').attr('transform', 'translate(0,' + (H - M.bottom) + ')').call(d3.axisBottom(x).ticks(6));
  svg.append('g').attr('transform', 'translate(' + M.left + ',0)').call(d3.axisLeft(y).ticks(6));
  svg.append('text').attr('class', 'axis-label').attr('text-anchor', 'middle')
    .attr('x', (M.left + W - M.right) / 2).attr('y', H - 10).text(xm.label + unitOf(xm) + better(xm));
  svg.append('text').attr('class', 'axis-label').attr('text-anchor', 'middle').attr('transform', 'rotate(-90)')
    .attr('x', -(M.top + H - M.bottom) / 2).attr('y', 16).text(ym.label + unitOf(ym) + better(ym));

  // The front is over all objectives, so in this projection it need not be monotone; the step line is the
  // boundary of what the front attains: horizontal first when x is minimised, vertical first when maximised.
  const front = pts.filter((c) => c.onFront).sort((a, b) => a.metrics[xKey] - b.metrics[xKey]);
  const line = d3.line((c) => px(c.metrics), (c) => py(c.metrics)).curve(xm.direction === 'min' ? d3.curveStepAfter : d3.curveStepBefore);
  svg.append('path').attr('class', 'front-line').attr('d', line(front));

  if (has(r.baseline)) {
    svg.append('path').attr('class', 'baseline').attr('d', d3.symbol(d3.symbolDiamond, 110)())
      .attr('transform', 'translate(' + px(r.baseline) + ',' + py(r.baseline) + ')')
      .append('title').text('baseline (uncompressed)\\n' + metricLines(r.baseline).join('\\n'));
  }
  // Drawn infeasible, then feasible, then front, so the front stays on top where points overlap.
  const layer = (c) => (c.onFront ? 2 : c.feasible ? 1 : 0);
  svg.append('g').selectAll('circle').data(d3.sort(pts, layer)).join('circle')
    .attr('class', (c) => 'cand' + (c.onFront ? ' front' : '') + (c.feasible ? '' : ' infeasible'))
    .attr('data-id', (c) => c.id)
    .attr('cx', (c) => px(c.metrics)).attr('cy', (c) => py(c.metrics)).attr('r', (c) => (c.onFront ? 5.5 : 4))
    .append('title').text(tip);
  if (chosen && has(chosen.metrics)) {
    // The ring does not take the pointer, so the chosen circle's own tooltip still shows.
    svg.append('circle').attr('class', 'chosen-ring').attr('pointer-events', 'none')
      .attr('cx', px(chosen.metrics)).attr('cy', py(chosen.metrics)).attr('r', 10);
  }
}

// ---- tables
function table(parent, id, caption, columns, rows, rowClass) {
  const t = parent.append('table').attr('id', id);
  t.append('caption').text(caption);
  t.append('thead').append('tr').selectAll('th').data(columns).join('th')
    .text((c) => c.head).attr('title', (c) => c.title || null).classed('num', (c) => !!c.num);
  t.append('tbody').selectAll('tr').data(rows).join('tr').attr('class', rowClass || null)
    .selectAll('td').data((row) => columns.map((c) => [c, c.value(row)])).join('td')
    .text(([, v]) => v).classed('num', ([c]) => !!c.num);
}
const metricCols = r.metrics.map((m) => ({ head: m.key + unitOf(m), title: m.label + ' (' + m.source + ')', num: true, value: (c) => fmt(c.metrics[m.key]) }));
const idCols = [{ head: 'id', value: (c) => c.id }, { head: 'strategy', value: (c) => c.strategy }];
const isChosen = (c) => (c.id === r.chosen ? 'chosen' : null);

main.append('h2').text('Pareto front');
const first = r.objectives.length ? meta(r.objectives[0]) : undefined;
const frontRows = r.candidates.filter((c) => c.onFront);
if (first) frontRows.sort((a, b) => (first.direction === 'max' ? -1 : 1) * (a.metrics[first.key] - b.metrics[first.key]));
table(main, 'front-table', nFront + ' candidates' + (first ? ', best ' + first.label + ' first' : ''),
  idCols.concat(metricCols, [{ head: 'chosen', value: (c) => (c.id === r.chosen ? 'yes' : '') }]), frontRows, isChosen);

main.append('h2').text('Per-layer decisions of the chosen candidate');
if (chosen) {
  // Cost columns: every metric some layer reports, in the result's metric order, then any others.
  const keys = new Set(chosen.layers.flatMap((l) => Object.keys(l.cost || {})));
  const costKeys = r.metrics.map((m) => m.key).filter((k) => keys.has(k)).concat([...keys].filter((k) => !info.has(k)));
  const cols = [{ head: 'layer', value: (l) => l.layer }, { head: 'decision', value: (l) => l.decision }, { head: 'reason', value: (l) => l.reason }]
    .concat(costKeys.map((k) => ({ head: k + unitOf(meta(k)), title: meta(k).label, num: true, value: (l) => fmt((l.cost || {})[k]) })));
  table(main, 'decisions', chosen.id + ' (' + chosen.strategy + ')', cols, chosen.layers);
} else main.append('p').text('No candidate was chosen: none met every constraint.');

main.append('h2').text('All candidates');
const statusCol = { head: 'status', value: (c) => (!c.feasible ? 'infeasible' : c.onFront ? 'front' : 'dominated') };
const violCol = { head: 'violations', value: (c) => c.violations.join('; ') };
const secCol = { head: 'time (s)', num: true, value: (c) => fmt(c.seconds) };
table(main, 'all-table', r.candidates.length + ' candidates in evaluation order', idCols.concat([statusCol], metricCols, [violCol, secCol]), r.candidates, isChosen);

// Marks a complete render (a thrown error above leaves it unset), for tests and for anyone debugging the file.
document.body.setAttribute('data-rendered', 'true');
`;

/** The self-contained report page for a co-design result. */
export function resultHtml(r: CodesignResult): string {
  const d3 = d3Bundle();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tandem codesign (d3 ${d3.version})">
<title>Tandem co-design report, run ${Number(r.run)}</title>
<style>${CSS}</style>
</head>
<body>
<noscript>This report draws its plots and tables with JavaScript; allow scripts for this file to see them.</noscript>
<main id="report"></main>
<script type="application/json" id="codesign-result">${scriptJson(r)}</script>
<script>${d3.source}</script>
<script>
${PAGE}
</script>
</body>
</html>
`;
}
