// Co-design: the runs in the workspace's run store; for one run, a Pareto scatter of two objectives (front
// ringed and joined, infeasible candidates grey), a metric over the candidates in evaluation order, and the
// candidate table. A point or row opens that candidate in the graph view. A button starts the default problem
// as a job, with progress and Cancel; when it is done the run list is refreshed and the new run shown.
import type { CodesignCandidate, CodesignRunDetail, CodesignRunInfo } from '../../api/types.js';
import { fmt } from '../charts/frame.js';
import { lineChart } from '../charts/line.js';
import { scatterChart } from '../charts/scatter.js';
import { runJob } from '../job-panel.js';
import { type View, type ViewContext, errorText, h } from '../view.js';

/** The candidate the graph view opens. */
const candidateRef = (run: number, candidate: string): string => `candidate:${run}:${candidate}`;

/** Objectives first (problem order), then any other metric the candidates have. */
function metricKeys(d: CodesignRunDetail): string[] {
  return [...new Set([...d.objectives, ...d.candidatesDetail.flatMap((c) => Object.keys(c.metrics))])];
}

const runLabel = (r: CodesignRunInfo) => `#${r.id} · ${r.model} · ${r.strategy} (${r.cost}) · ${r.candidates} candidates · ${r.status}`;

function candidateTable(d: CodesignRunDetail, keys: readonly string[], open: (id: string) => void): HTMLTableElement {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  return h(
    'table',
    { class: 'cs-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'candidate'), h('th', {}, 'strategy'), h('th', {}, 'feasible'), h('th', {}, 'front'), ...keys.map((k) => h('th', { class: 'num' }, k)), h('th', { class: 'num' }, 'seconds'), h('th', {}, 'decisions'))),
    h(
      'tbody',
      {},
      ...d.candidatesDetail.map((c) =>
        h(
          'tr',
          { class: `cs-row${c.onFront ? ' cs-front' : ''}${c.feasible ? '' : ' cs-infeasible'}`, 'data-key': c.id, title: 'Open this candidate in the graph view', onclick: () => open(c.id) },
          h('td', {}, c.id),
          h('td', {}, c.strategy),
          h('td', {}, yes(c.feasible)),
          h('td', {}, yes(c.onFront)),
          ...keys.map((k) => h('td', { class: 'num' }, c.metrics[k] === undefined ? '' : fmt(c.metrics[k]))),
          h('td', { class: 'num' }, c.seconds.toFixed(1)),
          h('td', { class: 'cs-decisions' }, c.decisions.map((x) => `${x.layer}: ${x.text}`).join('; ') || 'none'),
        ),
      ),
    ),
  );
}

async function mount(el: HTMLElement, ctx: ViewContext): Promise<() => void> {
  let alive = true;
  const runSel = h('select', { name: 'run' });
  const startBtn = h('button', { class: 'primary cs-start' }, 'Run default co-design');
  const jobArea = h('div', { class: 'cs-job' });
  const message = h('p', { class: 'error' });
  const xSel = h('select', { name: 'x' });
  const ySel = h('select', { name: 'y' });
  const histSel = h('select', { name: 'history' });
  const head = h('p', { class: 'muted cs-head' });
  const scatterBox = h('div', { class: 'cs-scatter' });
  const historyBox = h('div', { class: 'cs-history' });
  const tableBox = h('div', { class: 'cs-table-box' });
  const detailBox = h('div', { class: 'cs-detail' }, head, h('div', { class: 'row' }, h('label', {}, 'x', xSel), h('label', {}, 'y', ySel)), scatterBox, h('h3', {}, 'Candidates in evaluation order'), h('label', {}, 'Metric', histSel), historyBox, h('h3', {}, 'Candidates'), tableBox);
  el.append(h('h2', {}, 'Co-design'), h('div', { class: 'card' }, h('div', { class: 'row' }, h('label', {}, 'Run', runSel), startBtn), jobArea, message), h('div', { class: 'card' }, detailBox));

  let detail: CodesignRunDetail | undefined;
  const open = (id: string) => {
    if (!detail) return;
    ctx.state.model = candidateRef(detail.id, id);
    ctx.navigate('graph');
  };
  const options = (sel: HTMLSelectElement, keys: readonly string[], value: string) => {
    sel.replaceChildren(...keys.map((k) => h('option', { value: k }, k)));
    sel.value = value;
  };

  const drawScatter = () => {
    if (!detail) return;
    const [xk, yk] = [xSel.value, ySel.value];
    scatterBox.replaceChildren();
    scatterChart(
      scatterBox,
      { points: detail.candidatesDetail.map((c: CodesignCandidate) => ({ key: c.id, x: c.metrics[xk] ?? NaN, y: c.metrics[yk] ?? NaN, category: c.strategy, front: c.onFront, muted: !c.feasible })) },
      { xLabel: xk, yLabel: yk, onClick: open, height: 360 },
    );
  };
  const drawHistory = () => {
    if (!detail) return;
    const k = histSel.value;
    historyBox.replaceChildren();
    const pts = detail.candidatesDetail.flatMap((c, i) => (c.metrics[k] === undefined ? [] : [{ x: i, y: c.metrics[k], label: c.id }]));
    // candidate ids as tick labels while they fit, else the evaluation index
    const xTicks = pts.length <= 24 ? pts.map((p) => ({ value: p.x, label: p.label! })) : undefined;
    lineChart(historyBox, { series: [{ key: k, points: pts }] }, { xLabel: 'evaluation order', yLabel: k, xTicks, height: 260 });
  };
  const showRun = async (id: number) => {
    message.textContent = '';
    try {
      const d = await ctx.api.codesignRun({ run: id });
      if (!alive) return;
      detail = d;
      const keys = metricKeys(d);
      const others = keys.filter((k) => k !== 'accuracy');
      options(xSel, keys, others[0] ?? keys[0]);
      options(ySel, keys, keys.includes('accuracy') ? 'accuracy' : (keys[1] ?? keys[0]));
      options(histSel, keys, ySel.value);
      const front = d.candidatesDetail.filter((c) => c.onFront).map((c) => c.id);
      head.textContent = `Run #${d.id}: ${d.model}, ${d.strategy} (${d.cost}), ${d.candidatesDetail.length} candidates, objectives ${d.objectives.join(', ')}; on the front: ${front.join(', ') || 'none'}. Click a point or row to open the candidate.`;
      drawScatter();
      drawHistory();
      tableBox.replaceChildren(candidateTable(d, keys, open));
    } catch (e) {
      message.textContent = errorText(e);
    }
  };
  const listRuns = async (pick?: number) => {
    const runs = (await ctx.api.project()).runs;
    runSel.replaceChildren(...runs.map((r) => h('option', { value: r.id }, runLabel(r))));
    if (!runs.length) {
      head.textContent = 'No co-design runs in the workspace yet: start one.';
      return;
    }
    const id = pick ?? runs[runs.length - 1].id;
    runSel.value = String(id);
    await showRun(id);
  };

  runSel.addEventListener('change', () => void showRun(Number(runSel.value)));
  for (const s of [xSel, ySel]) s.addEventListener('change', drawScatter);
  histSel.addEventListener('change', drawHistory);
  startBtn.addEventListener('click', () => {
    startBtn.disabled = true;
    message.textContent = '';
    runJob(ctx, { kind: 'codesign', problem: 'default' }, jobArea)
      .then(async () => {
        // the job's run is the newest in the store
        if (alive) await listRuns();
      })
      .catch((e: unknown) => {
        if (alive) message.textContent = errorText(e);
      })
      .finally(() => {
        startBtn.disabled = false;
      });
  });
  await listRuns();
  return () => {
    alive = false;
  };
}

export const codesignView: View = { id: 'codesign', title: 'Co-design', mount };
