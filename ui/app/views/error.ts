// Layer error: per-layer SQNR or relative error of the latest simulate job (its Report), the histogram of a
// layer's element-wise error, accuracy against drift time (one analog job over several times) and against
// ADC bits (one job per bits value, drawn as each finishes). Jobs start from the form; results are kept in
// ctx.state.lastJob ('simulate', 'simulate:drift', 'simulate:adc:<bits>') so the view redraws them on return.
import type { JobRequest, JobResult } from '../../api/types.js';
import type { Report } from '../../../compiler/contracts/report.js';
import { barChart } from '../charts/bar.js';
import { binValues, histogramChart, type HistogramData } from '../charts/histogram.js';
import { lineChart, type LinePoint } from '../charts/line.js';
import { runJob } from '../job-panel.js';
import { type View, type ViewContext, errorText, h } from '../view.js';

/** The parts of `tandem simulate --json` (SimulateReport, cli/commands/simulate.ts) this view reads. */
interface SimOutput {
  readonly model: { readonly name: string };
  readonly accelerator: string;
  readonly mode: 'exact' | 'analog';
  readonly command: string;
  readonly runs: readonly {
    readonly timeS: number;
    readonly label: string;
    readonly result: {
      readonly images: number;
      readonly accuracy: readonly number[];
      readonly exactInt8Accuracy: number;
      readonly floatAccuracy: number;
      readonly layers: readonly { readonly layer: string; readonly origin: string; readonly histogram?: HistogramData }[];
    };
  }[];
  readonly report: Report;
}

type Metric = 'sqnrDb' | 'relativeError';
const METRICS: Record<Metric, { label: string; unit: string }> = {
  sqnrDb: { label: 'SQNR vs float (dB)', unit: ' dB' },
  relativeError: { label: 'relative error vs float', unit: '' },
};
const DRIFT_TIMES = ['0', '1h', '1d', '1mo', '1y'] as const;
const ADC_KEY = 'simulate:adc:';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Bar labels: the layer, or its node where several rows share a layer (a decomposed layer's parts). */
function rowLabels(report: Report): string[] {
  const n = new Map<string, number>();
  for (const r of report.rows) n.set(r.layer, (n.get(r.layer) ?? 0) + 1);
  return report.rows.map((r, i) => (n.get(r.layer)! > 1 ? (r.nodes?.[0] ?? `${r.layer}#${i}`) : r.layer));
}

async function mount(el: HTMLElement, ctx: ViewContext): Promise<() => void> {
  let alive = true;
  const project = await ctx.api.project();
  const accel = h('select', { name: 'accel' }, ...project.accelerators.map((a) => h('option', { value: a.name, title: a.summary }, a.name)));
  const mode = h('select', { name: 'mode' }, h('option', { value: 'exact' }, 'exact'), h('option', { value: 'analog' }, 'analog'));
  const limit = h('input', { name: 'limit', type: 'number', min: 1, value: 200, class: 'err-num' });
  const seed = h('input', { name: 'seed', type: 'number', min: 0, value: 1, class: 'err-num' });
  const calib = h('input', { name: 'calib', type: 'number', min: 1, value: 256, class: 'err-num', title: 'training images for PTQ of a float model and the ADC ranges' });
  const bits = h('input', { name: 'bits', value: '3,4,5,6,8', class: 'err-bits', title: 'ADC bits, comma-separated' });
  const runBtn = h('button', { class: 'primary err-run' }, 'Simulate');
  const driftBtn = h('button', { class: 'err-drift' }, 'Accuracy vs drift');
  const compensate = h('input', { type: 'checkbox', name: 'drift-compensation', checked: true, title: 'global drift compensation, where the accelerator spec has it' });
  const adcBtn = h('button', { class: 'err-adc' }, 'Accuracy vs ADC bits');
  const jobArea = h('div', { class: 'err-job' });
  const message = h('p', { class: 'error err-message' });

  const metric = h('select', { name: 'metric' }, ...Object.entries(METRICS).map(([k, m]) => h('option', { value: k }, m.label)));
  const logScale = h('input', { type: 'checkbox', name: 'log' });
  const summary = h('p', { class: 'muted err-summary' }, 'No simulation yet: run one above.');
  const barBox = h('div', { class: 'err-bars' });
  const layerSel = h('select', { name: 'layer' });
  const histNote = h('p', { class: 'muted err-hist-note' });
  const histBox = h('div', { class: 'err-hist' });
  const driftBox = h('div', { class: 'err-drift-chart' }, h('p', { class: 'muted' }, 'Run “Accuracy vs drift” (analog mode, times 0 to 1 year).'));
  const adcBox = h('div', { class: 'err-adc-chart' }, h('p', { class: 'muted' }, 'Run “Accuracy vs ADC bits” (one job per bits value).'));

  el.append(
    h('h2', {}, 'Layer error'),
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'row' }, h('label', {}, 'Accelerator', accel), h('label', {}, 'Mode', mode), h('label', {}, 'Images', limit), h('label', {}, 'Seed', seed), h('label', {}, 'Calibration images', calib)),
      h('div', { class: 'row err-actions' }, runBtn, driftBtn, h('label', {}, compensate, 'drift compensation'), h('label', {}, 'ADC bits', bits), adcBtn),
      jobArea,
      message,
    ),
    h('div', { class: 'card' }, h('h3', {}, 'Per layer'), summary, h('div', { class: 'row' }, h('label', {}, 'Metric', metric), h('label', {}, logScale, 'log scale')), barBox),
    h('div', { class: 'card' }, h('h3', {}, 'Error histogram'), h('label', {}, 'Layer', layerSel), histNote, histBox),
    h('div', { class: 'row' }, h('div', { class: 'card' }, h('h3', {}, 'Accuracy vs drift time'), driftBox), h('div', { class: 'card' }, h('h3', {}, 'Accuracy vs ADC bits'), adcBox)),
  );

  let current: SimOutput | undefined;
  let report: Report | undefined;

  const drawBars = () => {
    if (!report) return;
    const m = metric.value as Metric;
    const labels = rowLabels(report);
    barBox.replaceChildren();
    barChart(
      barBox,
      { rows: report.rows.map((r, i) => ({ key: r.layer, label: labels[i], value: r.error?.[m] ?? null, title: (r.error?.[m] ?? null) === null ? `${labels[i]}: exact (no error)` : undefined })) },
      { yLabel: METRICS[m].label, unit: METRICS[m].unit, log: logScale.checked },
    );
  };

  const drawHistogram = () => {
    if (!current || !report) return;
    const layers = current.runs[0].result.layers;
    const l = layers.find((x) => x.layer === layerSel.value) ?? layers[0];
    histBox.replaceChildren();
    if (l?.histogram) {
      histNote.textContent = `${l.origin === l.layer ? l.layer : `${l.layer} (of ${l.origin})`}: element-wise (y − float) / rms(float), ${current.runs[0].result.images} images, first seed${current.runs.length > 1 ? `, t = ${current.runs[0].label}` : ''}.`;
      histogramChart(histBox, l.histogram, { xLabel: '(y − ref) / rms(ref)', yLabel: 'elements' });
    } else {
      // an output from before the simulator kept histograms: the spread of the per-layer figure instead
      const m = metric.value as Metric;
      histNote.textContent = `This output has no element-wise histogram: the per-layer ${METRICS[m].label} of all layers instead.`;
      histogramChart(histBox, binValues(report.rows.map((r) => r.error?.[m] ?? NaN), 10), { xLabel: METRICS[m].label, yLabel: 'layers' });
    }
  };

  const show = (r: JobResult) => {
    const out = r.output as SimOutput;
    current = out;
    report = r.report ?? out.report;
    const run = out.runs[0].result;
    summary.textContent = `${out.model.name} on ${out.accelerator} (${out.mode}): accuracy ${pct(mean(run.accuracy))} on ${run.images} images (exact int8 ${pct(run.exactInt8Accuracy)}, float ${pct(run.floatAccuracy)}). ${out.command}`;
    layerSel.replaceChildren(...run.layers.map((l) => h('option', { value: l.layer }, l.layer)));
    drawBars();
    drawHistogram();
  };

  const drawDrift = (out: SimOutput) => {
    driftBox.replaceChildren();
    lineChart(
      driftBox,
      { series: [{ key: `${out.accelerator} (${out.runs[0].result.images} images)`, points: out.runs.map((r) => ({ x: r.timeS, y: mean(r.result.accuracy), label: r.label })) }] },
      { xScale: 'symlog', xTicks: out.runs.map((r) => ({ value: r.timeS, label: r.label })), xLabel: 'time after programming', yLabel: 'accuracy', yFormat: pct, width: 420, height: 280 },
    );
  };

  const adcPoints: (LinePoint & { readonly series: string })[] = [];
  const drawAdc = () => {
    adcBox.replaceChildren();
    const names = [...new Set(adcPoints.map((p) => p.series))];
    lineChart(
      adcBox,
      { series: names.map((key) => ({ key, points: adcPoints.filter((p) => p.series === key).sort((a, b) => a.x - b.x) })) },
      { xLabel: 'ADC bits', yLabel: 'accuracy', yFormat: pct, xTicks: [...new Set(adcPoints.map((p) => p.x))].map((b) => ({ value: b, label: String(b) })), width: 420, height: 280 },
    );
  };
  const adcPoint = (b: number, out: SimOutput) => ({ series: `${out.accelerator} ${out.mode}`, x: b, y: mean(out.runs[0].result.accuracy), label: `${b} bits` });

  const buttons = [runBtn, driftBtn, adcBtn];
  const busy = async (work: () => Promise<void>) => {
    for (const b of buttons) b.disabled = true;
    message.textContent = '';
    try {
      await work();
    } catch (e) {
      if (alive) message.textContent = errorText(e);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };
  const request = (extra: Partial<Extract<JobRequest, { kind: 'simulate' }>> = {}): JobRequest => ({
    kind: 'simulate',
    model: ctx.state.model,
    accel: accel.value,
    mode: mode.value as 'exact' | 'analog',
    limit: Number(limit.value) || undefined,
    seed: Number(seed.value),
    calib: Number(calib.value) || undefined,
    ...extra,
  });

  runBtn.addEventListener('click', () =>
    busy(async () => {
      const r = await runJob(ctx, request(), jobArea);
      ctx.state.lastJob.simulate = r.job.id;
      if (alive) show(r);
    }),
  );
  driftBtn.addEventListener('click', () =>
    busy(async () => {
      const r = await runJob(ctx, request({ mode: 'analog', drift: DRIFT_TIMES, ...(compensate.checked ? {} : { driftCompensation: false }) }), jobArea);
      ctx.state.lastJob['simulate:drift'] = r.job.id;
      if (alive) drawDrift(r.output as SimOutput);
    }),
  );
  adcBtn.addEventListener('click', () =>
    busy(async () => {
      const values = bits.value
        .split(',')
        .map((s) => Number(s.trim()))
        .filter((b) => Number.isInteger(b) && b > 0);
      if (!values.length) throw new Error(`ADC bits ${JSON.stringify(bits.value)}: expected whole numbers, e.g. 3,4,5,6,8`);
      for (const k of Object.keys(ctx.state.lastJob)) if (k.startsWith(ADC_KEY)) delete ctx.state.lastJob[k];
      adcPoints.length = 0;
      // one after another: jobs share the machine, and the line grows as each finishes
      for (const b of values) {
        if (!alive) return;
        const r = await runJob(ctx, request({ set: { 'adc.bits': String(b) } }), jobArea);
        ctx.state.lastJob[`${ADC_KEY}${b}`] = r.job.id;
        adcPoints.push(adcPoint(b, r.output as SimOutput));
        if (alive) drawAdc();
      }
    }),
  );
  metric.addEventListener('change', () => {
    logScale.checked = metric.value === 'relativeError';
    drawBars();
    drawHistogram();
  });
  logScale.addEventListener('change', drawBars);
  layerSel.addEventListener('change', drawHistogram);

  // the latest results, if there are any
  const last = ctx.state.lastJob;
  const load = async (jobId: string) => ctx.api.jobResult({ jobId });
  try {
    if (last.simulate) show(await load(last.simulate));
    if (last['simulate:drift']) drawDrift((await load(last['simulate:drift'])).output as SimOutput);
    const adc = Object.entries(last).filter(([k, v]) => k.startsWith(ADC_KEY) && v);
    for (const [k, id] of adc) adcPoints.push(adcPoint(Number(k.slice(ADC_KEY.length)), (await load(id!)).output as SimOutput));
    if (adc.length) drawAdc();
  } catch (e) {
    message.textContent = `Could not load the last results: ${errorText(e)}`;
  }
  if (current) {
    accel.value = current.accelerator;
    mode.value = current.mode;
  }
  return () => {
    alive = false;
  };
}

export const errorView: View = { id: 'error', title: 'Layer error', mount };
