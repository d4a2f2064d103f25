// Latency: per layer of one model of a latency dataset, the measured time (median, error bars from the raw
// samples) next to each predictor's value, and a table of each predictor's relative error per layer.
import type { LatencyComparison } from '../../api/types.js';
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

async function mount(el: HTMLElement, ctx: ViewContext): Promise<() => void> {
  let alive = true;
  const datasets = await ctx.api.latencyDatasets();
  el.append(h('h2', {}, 'Latency: measured vs predicted'));
  if (!datasets.length) {
    el.append(h('p', { class: 'muted' }, 'No latency datasets: `tandem latency measure` writes one.'));
    return () => {};
  }
  const dataset = h('select', { name: 'dataset' }, ...datasets.map((d) => h('option', { value: d.name }, `${d.name} · ${d.target} · ${d.models} models`)));
  // the API lists a dataset's model count, not its model ids: the first model is shown, another can be typed
  const model = h('input', { name: 'model', placeholder: 'first model', class: 'lat-model', title: 'a model id of the dataset, e.g. vgg-12' });
  const show = h('button', { class: 'primary lat-show' }, 'Show');
  const whisker = h('select', { name: 'whisker' }, h('option', { value: 'minmax' }, 'min–max'), h('option', { value: 'iqr' }, 'IQR'));
  const logScale = h('input', { type: 'checkbox', name: 'log', checked: true });
  const title = h('p', { class: 'muted lat-title' });
  const chartBox = h('div', { class: 'lat-chart' });
  const tableBox = h('div', { class: 'lat-table-box' });
  const message = h('p', { class: 'error' });
  el.append(
    h('div', { class: 'card row' }, h('label', {}, 'Dataset', dataset), h('label', {}, 'Model', model), show, h('label', {}, 'Error bars', whisker), h('label', {}, logScale, 'log scale')),
    message,
    h('div', { class: 'card' }, title, chartBox),
    h('div', { class: 'card' }, h('h3', {}, 'Relative error per layer ((predicted − measured) / measured)'), tableBox),
  );

  let cmp: LatencyComparison | undefined;
  const draw = () => {
    if (!cmp) return;
    const single = cmp.layers.every((l) => l.samples.length < 2);
    title.textContent = `${cmp.model} on ${cmp.target} (dataset ${cmp.dataset}): ${cmp.layers.length} layers${single ? '; one measured value per layer (the dataset keeps one statistic), so no error bars' : ''}.`;
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
      const c = await ctx.api.latencyComparison({ dataset: dataset.value, ...(model.value.trim() ? { model: model.value.trim() } : {}) });
      if (!alive) return;
      cmp = c;
      model.value = c.model;
      draw();
    } catch (e) {
      message.textContent = errorText(e);
    } finally {
      show.disabled = false;
    }
  };
  show.addEventListener('click', () => void load());
  dataset.addEventListener('change', () => {
    model.value = '';
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
