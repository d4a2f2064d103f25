// Latency: per layer, the measured time (median, error bars from the raw samples) next to each predictor's value
// (the predictors fitted on a latency dataset), and a table of each predictor's relative error per layer. The
// measured side is one model of the dataset (one statistic per layer) or a finished profile job (its raw samples).
import type { JobInfo, LatencyComparison } from '../../api/types.js';
import { errorBarChart, sampleStats } from '../charts/errorbar.js';
import { format } from 'd3';
import { type View, type ViewContext, errorText, h } from '../view.js';

/** (predicted − median measured) / median measured, per layer and predictor. */
function relativeErrors(c: LatencyComparison): { layer: string; median: number; errors: Record<string, number> }[] {
  return c.layers.map((l) => {
    const median = sampleStats(l.samples).median;
    return { layer: l.layer, median, errors: Object.fromEntries(Object.entries(l.predicted).map(([p, v]) => [p, (v - median) / median])) };
  });
}

const seconds = (v: number) => `${format('.3~s')(v)}s`;
const signedPct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}%` : '–');

function errorTable(c: LatencyComparison): HTMLTableElement {
  const predictors = [...new Set(c.layers.flatMap((l) => Object.keys(l.predicted)))];
  const rows = relativeErrors(c);
  const meanAbs = (p: string) => {
    const xs = rows.map((r) => Math.abs(r.errors[p])).filter(Number.isFinite);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return h(
    'table',
    { class: 'lat-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'layer'), h('th', { class: 'num' }, 'measured median'), h('th', { class: 'num' }, 'samples'), ...predictors.map((p) => h('th', { class: 'num' }, `${p} error`)))),
    h(
      'tbody',
      {},
      ...rows.map((r, i) =>
        h(
          'tr',
          { 'data-layer': r.layer },
          h('td', {}, r.layer),
          h('td', { class: 'num' }, seconds(r.median)),
          h('td', { class: 'num' }, String(c.layers[i].samples.length)),
          ...predictors.map((p) => h('td', { class: 'num lat-err', 'data-predictor': p, 'data-value': String(r.errors[p]), title: `${p}: ${seconds(c.layers[i].predicted[p])}` }, signedPct(r.errors[p]))),
        ),
      ),
    ),
    h('tfoot', {}, h('tr', {}, h('th', {}, 'mean |error|'), h('th', {}), h('th', {}), ...predictors.map((p) => h('th', { class: 'num', 'data-predictor': p }, signedPct(meanAbs(p)).replace('+', ''))))),
  );
}

function profileLabel(j: JobInfo): string {
  const r = j.request;
  return r.kind === 'profile' ? `profile job ${j.id} · ${r.model} on ${r.target} · ${r.repeats ?? 10} repeats` : j.id;
}

function titleText(c: LatencyComparison): string {
  const n = c.layers.map((l) => l.samples.length);
  const [lo, hi] = [Math.min(...n), Math.max(...n)];
  const samples = lo === hi ? `${lo} sample${lo === 1 ? '' : 's'} per layer` : `${lo}–${hi} samples per layer`;
  if (c.profile) return `${c.model} profiled by job ${c.profile.jobId} on ${c.profile.target} (${c.profile.targetName}), against the predictors fitted on dataset ${c.dataset} (${c.target}): ${c.layers.length} layers, ${samples}.`;
  const single = hi < 2;
  return `${c.model} on ${c.target} (dataset ${c.dataset}): ${c.layers.length} layers${single ? '; one measured value per layer (the dataset keeps one statistic), so no error bars' : `, ${samples}`}.`;
}

async function mount(el: HTMLElement, ctx: ViewContext): Promise<() => void> {
  let alive = true;
  const datasets = await ctx.api.latencyDatasets();
  el.append(h('h2', {}, 'Latency: measured vs predicted'));
  if (!datasets.length) {
    el.append(h('p', { class: 'muted' }, 'No latency datasets: `tandem latency measure` writes one.'));
    return () => {};
  }
  const dataset = h('select', { name: 'dataset' }, ...datasets.map((d) => h('option', { value: d.name }, `${d.name} · ${d.target} · ${d.models} models`)));
  const profiles = (await ctx.api.project()).jobs.filter((j) => j.kind === 'profile' && j.state === 'done').sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const source = h(
    'select',
    { name: 'source', title: 'the dataset\'s own measurements of its models, or the raw samples of a finished profile job' },
    h('option', { value: '' }, 'the dataset'),
    ...profiles.map((j) => h('option', { value: j.id }, profileLabel(j))),
  );
  const model = h('select', { name: 'model', class: 'lat-model', title: 'a model of the dataset' });
  const models = () => {
    const d = datasets.find((x) => x.name === dataset.value);
    model.replaceChildren(...(d?.modelIds ?? []).map((id) => h('option', { value: id }, id)));
  };
  models();
  const show = h('button', { class: 'primary lat-show' }, 'Show');
  const whisker = h('select', { name: 'whisker' }, h('option', { value: 'minmax' }, 'min–max'), h('option', { value: 'iqr' }, 'IQR'));
  const logScale = h('input', { type: 'checkbox', name: 'log', checked: true });
  const title = h('p', { class: 'muted lat-title' });
  const warning = h('p', { class: 'error lat-warning' });
  const note = h('p', { class: 'muted lat-note' });
  const chartBox = h('div', { class: 'lat-chart' });
  const tableBox = h('div', { class: 'lat-table-box' });
  const message = h('p', { class: 'error' });
  el.append(
    h('div', { class: 'card row' }, h('label', {}, 'Dataset', dataset), h('label', {}, 'Measured by', source), h('label', {}, 'Model', model), show, h('label', {}, 'Error bars', whisker), h('label', {}, logScale, 'log scale')),
    message,
    h('div', { class: 'card' }, title, warning, chartBox, note),
    h('div', { class: 'card' }, h('h3', {}, 'Relative error per layer ((predicted − measured) / measured)'), tableBox),
  );

  let cmp: LatencyComparison | undefined;
  const draw = () => {
    if (!cmp) return;
    title.textContent = titleText(cmp);
    warning.textContent = cmp.warning ?? '';
    const d = cmp.dropped;
    note.textContent = d ? `Not in the chart (only one side has them): ${[d.measuredOnly.length ? `measured only: ${d.measuredOnly.join(', ')}` : '', d.predictedOnly.length ? `predicted only: ${d.predictedOnly.join(', ')}` : ''].filter(Boolean).join('; ')}.` : '';
    chartBox.replaceChildren();
    errorBarChart(
      chartBox,
      { rows: cmp.layers.map((l) => ({ key: l.layer, samples: l.samples, others: l.predicted })) },
      { whisker: whisker.value as 'minmax' | 'iqr', log: logScale.checked, yLabel: 'latency (s)', unit: 's', width: Math.max(640, 40 * cmp.layers.length + 120), height: 360, margin: { bottom: 90 } },
    );
    tableBox.replaceChildren(errorTable(cmp));
  };
  const load = async () => {
    message.textContent = '';
    show.disabled = true;
    try {
      const c = await ctx.api.latencyComparison({ dataset: dataset.value, ...(source.value ? { profile: source.value } : model.value ? { model: model.value } : {}) });
      if (!alive) return;
      cmp = c;
      draw();
    } catch (e) {
      // no comparison of an earlier choice left standing under this one
      cmp = undefined;
      for (const x of [title, warning, note]) x.textContent = '';
      chartBox.replaceChildren();
      tableBox.replaceChildren();
      message.textContent = errorText(e);
    } finally {
      show.disabled = false;
    }
  };
  show.addEventListener('click', () => void load());
  dataset.addEventListener('change', () => {
    models();
    void load();
  });
  source.addEventListener('change', () => {
    // a profile job brings its own model
    model.disabled = !!source.value;
    void load();
  });
  whisker.addEventListener('change', draw);
  logScale.addEventListener('change', draw);
  await load();
  return () => {
    alive = false;
  };
}

export const latencyView: View = { id: 'latency', title: 'Latency', mount };
