// Project: the model the other views show (built-in, an opened ONNX file, or a job's output), the dataset,
// accelerator presets, targets, co-design runs and jobs.
import type { ProjectInfo } from '../../api/types.js';
import { type View, type ViewContext, errorText, h } from '../view.js';

const num = (x: number) => x.toLocaleString('en-US');

function table(head: readonly string[], rows: readonly (readonly (string | Node)[])[], cls: string): HTMLTableElement {
  return h('table', { class: cls }, h('thead', {}, h('tr', {}, ...head.map((x) => h('th', {}, x)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}

async function openFile(ctx: ViewContext, file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return (await ctx.api.uploadModel({ name: file.name, base64: btoa(bin) })).model;
}

function draw(el: HTMLElement, ctx: ViewContext, p: ProjectInfo): void {
  const select = h('select', { class: 'project-model' }, ...p.models.map((m) => h('option', { value: m.ref }, `${m.label}${m.trained ? '' : ' — untrained'}`)));
  select.value = ctx.state.model;
  select.addEventListener('change', () => {
    ctx.state.model = select.value;
    ctx.status(`model: ${select.value}`);
  });
  const fileInput = h('input', { type: 'file', accept: '.onnx', class: 'project-open' });
  const msg = h('span', { class: 'muted' });
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (!f) return;
    msg.textContent = `reading ${f.name}…`;
    openFile(ctx, f).then(
      async (ref) => {
        ctx.state.model = ref;
        draw(el, ctx, await ctx.api.project());
      },
      (e: unknown) => {
        msg.className = 'error';
        msg.textContent = errorText(e);
      },
    );
  });
  el.replaceChildren(
    h('h2', {}, 'Project'),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'Model'),
      h('div', { class: 'row' }, h('label', {}, 'Model ', select), h('label', {}, 'Open ONNX file ', fileInput), h('button', { class: 'primary', onclick: () => ctx.navigate('graph') }, 'Inspect graph'), msg),
    ),
    h('div', { class: 'card' }, h('h3', {}, 'Dataset'), h('p', {}, `${p.dataset.name}: ${num(p.dataset.train)} training, ${num(p.dataset.test)} test images — `, p.dataset.dir ? h('code', {}, p.dataset.dir) : h('span', { class: 'error' }, 'not found (it is downloaded on first use)'))),
    h('div', { class: 'card' }, h('h3', {}, 'Accelerator presets'), table(['name', 'summary'], p.accelerators.map((a) => [a.name, a.summary]), 'project-accels')),
    h('div', { class: 'card' }, h('h3', {}, 'Targets'), table(['target', 'kind', ''], p.targets.map((t) => [t.name, t.kind, t.note]), 'project-targets')),
    h('div', { class: 'card' }, h('h3', {}, 'Co-design runs'), p.runs.length ? table(['run', 'status', 'model', 'strategy', 'cost', 'candidates', 'created'], p.runs.map((r) => [String(r.id), r.status, r.model, r.strategy, r.cost, String(r.candidates), r.createdAt]), 'project-runs') : h('p', { class: 'muted' }, 'none yet (Co-design starts one)')),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'Jobs'),
      p.jobs.length
        ? table(['job', 'kind', 'state', 'started', 'command'], [...p.jobs].reverse().map((j) => [j.id, j.kind, j.state + (j.error ? `: ${j.error}` : ''), j.startedAt, h('code', {}, j.command)]), 'project-jobs')
        : h('p', { class: 'muted' }, 'none yet'),
      h('p', { class: 'muted' }, `Workspace: ${p.workspace} · Tandem ${p.version}`),
    ),
  );
}

export const projectView: View = {
  id: 'project',
  title: 'Project',
  mount: async (el, ctx) => {
    draw(el, ctx, await ctx.api.project());
  },
};
