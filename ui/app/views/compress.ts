// Compress: low-rank decomposition (method, ranks per layer or an automatic rule), structured pruning, int8
// quantization of the current model; each runs as a job with progress and Cancel, then a before/after table.
// The result becomes the current model, so the graph, 3D and error views show it.
import type { JobRequest, JobResult, ModelGraph } from '../../api/types.js';
import { runJob } from '../job-panel.js';
import { type View, type ViewContext, errorText, h } from '../view.js';

interface Totals {
  readonly params: number;
  readonly macs: number;
  readonly quality?: { readonly accuracy?: number };
}
interface CompressionReport {
  readonly before: Totals;
  readonly after: Totals;
  readonly layers: readonly { layer: string; kind: string; ranks: readonly number[]; paramsBefore: number; paramsAfter: number; macsBefore: number; macsAfter: number; kernelError?: number; reason: string }[];
  readonly skipped: readonly { layer: string; reason: string }[];
}

const num = (x: number) => x.toLocaleString('en-US');
const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(2)}%`);

function numberInput(cls: string, value: string, attrs: Record<string, string | number> = {}): HTMLInputElement {
  return h('input', { type: 'number', class: cls, value, ...attrs });
}

function compressTable(r: CompressionReport): HTMLElement {
  const head = ['layer', 'method', 'ranks', 'params before', 'params after', 'MACs before', 'MACs after', 'kernel error', 'why'];
  const rows = r.layers.map((l) => [l.layer, l.kind, l.ranks.join('×'), num(l.paramsBefore), num(l.paramsAfter), num(l.macsBefore), num(l.macsAfter), l.kernelError === undefined ? '—' : l.kernelError.toFixed(4), l.reason]);
  const total = ['total', '', '', num(r.before.params), num(r.after.params), num(r.before.macs), num(r.after.macs), '', `accuracy ${pct(r.before.quality?.accuracy)} → ${pct(r.after.quality?.accuracy)}`];
  return h(
    'table',
    { class: 'compress-result' },
    h('thead', {}, h('tr', {}, ...head.map((x) => h('th', {}, x)))),
    h('tbody', {}, ...[...rows, total].map((row) => h('tr', { 'data-layer': row[0] }, ...row.map((c, i) => h('td', { class: i >= 3 && i <= 6 ? 'num' : '' }, c))))),
  );
}

function afterJob(ctx: ViewContext, res: JobResult, out: HTMLElement): void {
  if (res.model) ctx.state.model = res.model;
  ctx.state.lastJob[res.job.kind] = res.job.id;
  const r = res.output as CompressionReport | null;
  out.append(
    h('p', {}, `New model ${res.model ?? '(none)'}: `, h('button', { onclick: () => ctx.navigate('graph') }, 'Inspect graph'), ' ', h('button', { class: 'primary goto-simulate', onclick: () => ctx.navigate('error') }, 'Simulate on an accelerator')),
    ...(res.job.kind === 'compress' && r?.layers ? [compressTable(r), ...(r.skipped.length ? [h('p', { class: 'muted' }, `skipped: ${r.skipped.map((s) => `${s.layer} (${s.reason})`).join('; ')}`)] : [])] : [h('pre', { class: 'log' }, JSON.stringify(res.output, null, 1).slice(0, 4000))]),
  );
}

function decomposeForm(ctx: ViewContext, g: ModelGraph, out: HTMLElement): HTMLElement {
  const weighted = g.nodes.filter((n) => n.op === 'conv2d' || n.op === 'dense');
  const method = h('select', { class: 'compress-method' }, ...['tucker2', 'cp', 'svd'].map((m) => h('option', { value: m }, m)));
  const rule = h('select', { class: 'compress-rule' }, ...['ratio:2x', 'ratio:4x', 'evbmf', 'budget:macs=0.5', 'budget:params=0.25'].map((r) => h('option', { value: r }, r)));
  const perLayer = weighted.map((n) => ({ id: n.id, input: h('input', { type: 'text', class: 'compress-rank', 'data-layer': n.id, placeholder: 'auto', size: 6 }) }));
  const finetune = numberInput('compress-finetune', '0', { min: 0, step: 0.05 });
  const trainLimit = numberInput('compress-train-limit', '2048', { min: 1 });
  const evalLimit = numberInput('compress-eval-limit', '500', { min: 1, max: 10000 });
  const seed = numberInput('compress-seed', '1', { min: 0 });
  const run = h('button', { class: 'primary compress-run' }, 'Compress');
  run.addEventListener('click', () => {
    const given = perLayer.filter((p) => p.input.value.trim());
    const req: JobRequest = {
      kind: 'compress',
      model: ctx.state.model,
      method: method.value as 'tucker2' | 'cp' | 'svd',
      ranks: given.length ? given.map((p) => `${p.id}=${p.input.value.trim()}`).join(',') : rule.value,
      finetuneEpochs: Number(finetune.value),
      trainLimit: Number(trainLimit.value),
      evalLimit: Number(evalLimit.value),
      seed: Number(seed.value),
    };
    run.disabled = true;
    const panel = h('div');
    out.replaceChildren(panel);
    runJob(ctx, req, panel)
      .then((res) => afterJob(ctx, res, out))
      .catch((e: unknown) => out.append(h('p', { class: 'error' }, errorText(e))))
      .finally(() => (run.disabled = false));
  });
  return h(
    'div',
    { class: 'card' },
    h('h3', {}, 'Low-rank decomposition'),
    h('div', { class: 'row' }, h('label', {}, 'Method ', method), h('label', {}, 'Automatic ranks ', rule), h('label', {}, 'Fine-tune epochs ', finetune), h('label', {}, 'on images ', trainLimit), h('label', {}, 'Evaluate on ', evalLimit), h('label', {}, 'Seed ', seed)),
    h('p', { class: 'muted' }, 'Ranks per layer (blank = the automatic rule; Tucker-2 takes R3xR4, e.g. 8x16):'),
    h('div', { class: 'row' }, ...perLayer.map((p) => h('label', {}, p.id, p.input))),
    h('p', {}, run),
  );
}

function simpleForm(ctx: ViewContext, title: string, fields: HTMLElement[], make: () => JobRequest, out: HTMLElement, cls: string): HTMLElement {
  const run = h('button', { class: `primary ${cls}` }, title);
  run.addEventListener('click', () => {
    run.disabled = true;
    const panel = h('div');
    out.replaceChildren(panel);
    runJob(ctx, make(), panel)
      .then((res) => afterJob(ctx, res, out))
      .catch((e: unknown) => out.append(h('p', { class: 'error' }, errorText(e))))
      .finally(() => (run.disabled = false));
  });
  return h('div', { class: 'card' }, h('h3', {}, title), h('div', { class: 'row' }, ...fields, run));
}

export const compressView: View = {
  id: 'compress',
  title: 'Compress',
  mount: async (el, ctx) => {
    const g = await ctx.api.openModel({ model: ctx.state.model });
    const out = h('div', { class: 'compress-out' });
    const keep = h('input', { type: 'text', class: 'prune-target', value: 'macs=0.5', size: 10 });
    const bits = numberInput('quantize-bits', '8', { min: 2, max: 8 });
    el.replaceChildren(
      h('h2', {}, `Compress ${g.name}`),
      h('p', { class: 'muted' }, `${g.nodes.length} nodes · ${g.totals.params.toLocaleString('en-US')} params · ${g.totals.macs.toLocaleString('en-US')} MACs per image`),
      decomposeForm(ctx, g, out),
      simpleForm(ctx, 'Prune', [h('label', {}, 'Keep ', keep)], () => ({ kind: 'prune', model: ctx.state.model, target: keep.value.trim(), evalLimit: 500 }), out, 'prune-run'),
      simpleForm(ctx, 'Quantize', [h('label', {}, 'Weight bits ', bits)], () => ({ kind: 'quantize', model: ctx.state.model, bits: Number(bits.value), evalLimit: 500 }), out, 'quantize-run'),
      out,
    );
  },
};
