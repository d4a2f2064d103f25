// Compress the current model: low-rank decomposition (method; ranks per layer or an automatic rule),
// structured pruning (a whole-model target or a share per layer), PTQ (weight bits for the model or per
// layer). Each runs as a job with progress and Cancel, then a before/after table. The result becomes the
// current model, so the graph, 3D and error views show it.
import type { GraphNode, JobRequest, JobResult, ModelGraph } from '../../api/types.js';
import { runJob } from '../job-panel.js';
import { type View, type ViewContext, errorText, h } from '../view.js';

interface Totals {
  readonly params: number;
  readonly macs: number;
  readonly quality?: { readonly accuracy?: number };
}
interface Row {
  readonly layer: string;
  readonly paramsBefore: number;
  readonly paramsAfter: number;
  readonly macsBefore: number;
  readonly macsAfter: number;
  readonly reason: string;
}
/** The parts of the --json reports of `tandem compress`, `prune` and `quantize` the tables show. */
interface CompressionReport {
  readonly before: Totals;
  readonly after: Totals;
  readonly layers: readonly (Row & { kind: string; ranks: readonly number[]; kernelError?: number })[];
  readonly skipped: readonly { layer: string; reason: string }[];
}
interface PruneReport {
  readonly before: Totals;
  readonly after: Totals;
  readonly layers: readonly (Row & { channelsBefore: number; channelsAfter: number })[];
}
interface QuantizeReport {
  readonly before: { readonly quality: { readonly accuracy?: number }; readonly bops: number };
  readonly after: { readonly quality: { readonly accuracy?: number }; readonly bops: number };
  readonly bops: readonly { node: string; macs: number; weightBits: number; activationBits: number; bops: number }[];
}

const num = (x: number) => x.toLocaleString('en-US');
const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(2)}%`);

function numberInput(cls: string, value: string, attrs: Record<string, string | number> = {}): HTMLInputElement {
  return h('input', { type: 'number', class: cls, value, ...attrs });
}

/** A before/after table; the first cell of each row names it (data-layer), the last row is the total. */
function resultTable(cls: string, head: readonly string[], rows: readonly (readonly string[])[], numeric: (i: number) => boolean): HTMLElement {
  return h(
    'table',
    { class: `compress-result ${cls}` },
    h('thead', {}, h('tr', {}, ...head.map((x, i) => h('th', { class: numeric(i) ? 'num' : '' }, x)))),
    h('tbody', {}, ...rows.map((row) => h('tr', { 'data-layer': row[0] }, ...row.map((c, i) => h('td', { class: numeric(i) ? 'num' : '' }, c))))),
  );
}

const accuracy = (b: Totals['quality'], a: Totals['quality']) => `accuracy ${pct(b?.accuracy)} → ${pct(a?.accuracy)}`;

function reportTable(kind: string, output: unknown): HTMLElement | undefined {
  if (kind === 'compress') {
    const r = output as CompressionReport;
    const rows = r.layers.map((l) => [l.layer, l.kind, l.ranks.join('×'), num(l.paramsBefore), num(l.paramsAfter), num(l.macsBefore), num(l.macsAfter), l.kernelError === undefined ? '—' : l.kernelError.toFixed(4), l.reason]);
    const total = ['total', '', '', num(r.before.params), num(r.after.params), num(r.before.macs), num(r.after.macs), '', accuracy(r.before.quality, r.after.quality)];
    return h('div', {}, resultTable('compress-decompose', ['layer', 'method', 'ranks', 'params before', 'params after', 'MACs before', 'MACs after', 'kernel error', 'why'], [...rows, total], (i) => i >= 3 && i <= 6), ...(r.skipped.length ? [h('p', { class: 'muted' }, `skipped: ${r.skipped.map((s) => `${s.layer} (${s.reason})`).join('; ')}`)] : []));
  }
  if (kind === 'prune') {
    const r = output as PruneReport;
    const rows = r.layers.map((l) => [l.layer, `${l.channelsBefore} → ${l.channelsAfter}`, num(l.paramsBefore), num(l.paramsAfter), num(l.macsBefore), num(l.macsAfter), l.reason]);
    const total = ['total', '', num(r.before.params), num(r.after.params), num(r.before.macs), num(r.after.macs), accuracy(r.before.quality, r.after.quality)];
    return resultTable('compress-prune', ['layer', 'channels', 'params before', 'params after', 'MACs before', 'MACs after', 'why'], [...rows, total], (i) => i >= 2 && i <= 5);
  }
  if (kind === 'quantize') {
    const r = output as QuantizeReport;
    const rows = r.bops.map((b) => [b.node, String(b.weightBits), String(b.activationBits), num(b.macs), num(b.bops)]);
    const total = ['total', '', '', '', `${num(r.before.bops)} → ${num(r.after.bops)}; ${accuracy(r.before.quality, r.after.quality)}`];
    return resultTable('compress-quantize', ['layer', 'weight bits', 'input bits', 'MACs', 'bit operations'], [...rows, total], (i) => i >= 1 && i <= 4);
  }
  return undefined;
}

function afterJob(ctx: ViewContext, res: JobResult, out: HTMLElement): void {
  if (res.model) ctx.state.model = res.model;
  ctx.state.lastJob[res.job.kind] = res.job.id;
  out.append(
    h('p', {}, `New model ${res.model ?? '(none)'}: `, h('button', { onclick: () => ctx.navigate('graph') }, 'Inspect graph'), ' ', h('button', { class: 'primary goto-simulate', onclick: () => ctx.navigate('error') }, 'Simulate on an accelerator')),
    reportTable(res.job.kind, res.output) ?? h('pre', { class: 'log' }, JSON.stringify(res.output, null, 1).slice(0, 4000)),
  );
}

/** One row per conv/dense layer (by original id): its numbers and decision, and the per-layer choices. */
interface LayerChoice {
  readonly layer: string;
  readonly rank: HTMLInputElement;
  readonly keep: HTMLInputElement;
  readonly bits: HTMLInputElement;
}

function layerTable(g: ModelGraph): { table: HTMLElement; rows: LayerChoice[] } {
  const byLayer = new Map<string, GraphNode[]>();
  for (const n of g.nodes) if (n.op === 'conv2d' || n.op === 'dense' || n.op === 'depthwiseConv2d') byLayer.set(n.origin, [...(byLayer.get(n.origin) ?? []), n]);
  const rows = [...byLayer.keys()].map((layer) => ({
    layer,
    rank: h('input', { type: 'text', class: 'compress-rank', 'data-layer': layer, placeholder: 'auto', size: 6 }),
    keep: h('input', { type: 'number', class: 'prune-keep', 'data-layer': layer, placeholder: '1', min: 0.01, max: 1, step: 0.05 }),
    bits: h('input', { type: 'number', class: 'quantize-layer-bits', 'data-layer': layer, placeholder: '—', min: 2, max: 8 }),
  }));
  const sum = (ns: GraphNode[], k: 'params' | 'macs') => num(ns.reduce((a, n) => a + n[k], 0));
  const table = h(
    'table',
    { class: 'compress-layers' },
    h('thead', {}, h('tr', {}, ...['layer', 'op', 'out channels', 'params', 'MACs', 'now', 'rank', 'keep share', 'weight bits'].map((x, i) => h('th', { class: i >= 2 && i <= 4 ? 'num' : '' }, x)))),
    h(
      'tbody',
      {},
      ...rows.map((r) => {
        const ns = byLayer.get(r.layer)!;
        const last = ns.at(-1)!;
        return h('tr', { 'data-layer': r.layer }, h('td', {}, r.layer), h('td', {}, ns.map((n) => n.op).join(' → ')), h('td', { class: 'num' }, String(last.outputShape.at(-1))), h('td', { class: 'num' }, sum(ns, 'params')), h('td', { class: 'num' }, sum(ns, 'macs')), h('td', {}, ns.find((n) => n.decision)?.decision ?? 'original'), h('td', {}, r.rank), h('td', {}, r.keep), h('td', {}, r.bits));
      }),
    ),
  );
  return { table, rows };
}

/** `LAYER=V,...` of the rows whose `key` input is filled, or undefined when none is. */
function perLayer(rows: readonly LayerChoice[], key: 'rank' | 'keep' | 'bits'): string | undefined {
  const given = rows.filter((r) => r[key].value.trim());
  return given.length ? given.map((r) => `${r.layer}=${r[key].value.trim()}`).join(',') : undefined;
}

function runButton(ctx: ViewContext, title: string, cls: string, make: () => JobRequest, out: HTMLElement): HTMLButtonElement {
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
  return run;
}

function decomposeForm(ctx: ViewContext, rows: readonly LayerChoice[], out: HTMLElement): HTMLElement {
  const method = h('select', { class: 'compress-method' }, ...['tucker2', 'cp', 'svd'].map((m) => h('option', { value: m }, m)));
  const rule = h('select', { class: 'compress-rule' }, ...['ratio:2x', 'ratio:4x', 'evbmf', 'budget:macs=0.5', 'budget:params=0.25'].map((r) => h('option', { value: r }, r)));
  const finetune = numberInput('compress-finetune', '0', { min: 0, step: 0.05 });
  const trainLimit = numberInput('compress-train-limit', '2048', { min: 1 });
  const evalLimit = numberInput('compress-eval-limit', '500', { min: 1, max: 10000 });
  const seed = numberInput('compress-seed', '1', { min: 0 });
  const run = runButton(
    ctx,
    'Compress',
    'compress-run',
    () => ({
      kind: 'compress',
      model: ctx.state.model,
      method: method.value as 'tucker2' | 'cp' | 'svd',
      ranks: perLayer(rows, 'rank') ?? rule.value,
      finetuneEpochs: Number(finetune.value),
      trainLimit: Number(trainLimit.value),
      evalLimit: Number(evalLimit.value),
      seed: Number(seed.value),
    }),
    out,
  );
  return h(
    'div',
    { class: 'card' },
    h('h3', {}, 'Low-rank decomposition'),
    h('p', { class: 'muted' }, 'Ranks from the “rank” column (Tucker-2 takes R3xR4, e.g. 8x16); with the column empty, the automatic rule.'),
    h('div', { class: 'row' }, h('label', {}, 'Method ', method), h('label', {}, 'Automatic ranks ', rule), h('label', {}, 'Fine-tune epochs ', finetune), h('label', {}, 'on images ', trainLimit), h('label', {}, 'Evaluate on ', evalLimit), h('label', {}, 'Seed ', seed), run),
  );
}

export const compressView: View = {
  id: 'compress',
  title: 'Compress',
  mount: async (el, ctx) => {
    const g = await ctx.api.openModel({ model: ctx.state.model });
    const out = h('div', { class: 'compress-out' });
    const { table, rows } = layerTable(g);
    const target = h('input', { type: 'text', class: 'prune-target', value: 'macs=0.5', size: 10 });
    const bits = numberInput('quantize-bits', '8', { min: 2, max: 8 });
    const pruneRun = runButton(ctx, 'Prune', 'prune-run', () => {
      const keep = perLayer(rows, 'keep');
      return { kind: 'prune', model: ctx.state.model, ...(keep ? { keep } : { target: target.value.trim() }), evalLimit: 500 };
    }, out);
    const quantizeRun = runButton(ctx, 'Quantize', 'quantize-run', () => {
      const layerBits = perLayer(rows, 'bits');
      return { kind: 'quantize', model: ctx.state.model, bits: Number(bits.value), ...(layerBits ? { layerBits } : {}), evalLimit: 500 };
    }, out);
    el.replaceChildren(
      h('h2', {}, `Compress ${g.name}`),
      h('p', { class: 'muted' }, `${g.nodes.length} nodes · ${num(g.totals.params)} params · ${num(g.totals.macs)} MACs per image`),
      h('div', { class: 'card' }, h('h3', {}, 'Per layer'), h('p', { class: 'muted' }, 'Fill a column for the layers it should change; an empty column means the setting of its card below applies to the whole model.'), table),
      decomposeForm(ctx, rows, out),
      h('div', { class: 'card' }, h('h3', {}, 'Structured pruning (L1 filter norm)'), h('div', { class: 'row' }, h('label', {}, 'Whole model: keep ', target), h('span', { class: 'muted' }, 'or the “keep share” column (share of each layer\'s output channels)'), pruneRun)),
      h('div', { class: 'card' }, h('h3', {}, 'Post-training quantization'), h('div', { class: 'row' }, h('label', {}, 'Weight bits ', bits), h('span', { class: 'muted' }, 'activations 8-bit; the “weight bits” column overrides single layers'), quantizeRun)),
      out,
    );
  },
};
