// The 3D dataflow view: the Schedule of the last compile job on the accelerator's tiles and arrays
// (ui/app/dataflow), with the last simulate job's per-layer Report for the pick panel. Without a compile
// job it offers to start one and waits for it.
import type { Report } from '../../../compiler/contracts/report.js';
import type { JobEvent } from '../../api/types.js';
import { type DataflowHandle, mountDataflow } from '../dataflow/mount.js';
import { errorText, h, type View, type ViewContext } from '../view.js';

const ACCEL = 'rram-128';

async function show(el: HTMLElement, ctx: ViewContext, jobId: string): Promise<DataflowHandle> {
  const schedule = await ctx.api.schedule({ jobId });
  // The pick panel's per-layer errors are extra: without a usable simulate job the view still shows.
  let report: Report | undefined;
  let note: string | undefined;
  const simId = ctx.state.lastJob.simulate;
  if (simId) {
    try {
      report = (await ctx.api.jobResult({ jobId: simId })).report;
      if (report && report.model !== schedule.model.name) {
        note = `The last simulation is of ${report.model}, not ${schedule.model.name}: no per-layer errors.`;
        report = undefined;
      }
    } catch (e) {
      note = `No per-layer errors: ${errorText(e)}`;
    }
  }
  el.replaceChildren(h('h2', {}, '3D dataflow'));
  if (note) el.append(h('p', { class: 'muted' }, note));
  return mountDataflow(el, schedule, { report });
}

export const dataflowView: View = {
  id: 'dataflow',
  title: '3D dataflow',
  mount: async (el, ctx) => {
    let handle: DataflowHandle | undefined;
    let off: (() => void) | undefined;
    let gone = false;
    const cleanup = () => {
      gone = true;
      off?.();
      handle?.dispose();
    };
    const jobId = ctx.state.lastJob.compile;
    if (jobId) {
      handle = await show(el, ctx, jobId);
      return cleanup;
    }

    const status = h('p', { class: 'muted' });
    const start = h('button', { class: 'primary df-compile' }, `Compile ${ctx.state.model} for ${ACCEL}`);
    start.addEventListener('click', async () => {
      start.disabled = true;
      status.textContent = 'Starting…';
      let id: string | undefined;
      // Subscribed before the job starts, so its 'state' event cannot slip by; events that arrive before
      // the id is known are kept and replayed.
      const early: JobEvent[] = [];
      const onEvent = (e: JobEvent) => {
        if (!id) return void early.push(e);
        if (e.type === 'progress' && e.jobId === id) status.textContent = `${e.phase} ${e.done}/${e.total}`;
        if (e.type !== 'state' || e.job.id !== id) return;
        if (e.job.state === 'done') {
          off?.();
          ctx.state.lastJob.compile = id;
          ctx.status(`compile ${id} done`);
          show(el, ctx, id).then(
            (hd) => (gone ? hd.dispose() : (handle = hd)),
            (err) => el.append(h('p', { class: 'error' }, errorText(err))),
          );
        } else if (e.job.state !== 'running') {
          off?.();
          status.textContent = '';
          status.append(h('span', { class: 'error' }, `compile ${e.job.state}${e.job.error ? `: ${e.job.error}` : ''}`));
          start.disabled = false;
        }
      };
      off = ctx.api.onJobEvent(onEvent);
      try {
        const job = await ctx.api.startJob({ kind: 'compile', model: ctx.state.model, accel: ACCEL });
        id = job.id;
        status.textContent = `Compiling (job ${id})…`;
        for (const e of early.splice(0)) onEvent(e);
      } catch (err) {
        off?.();
        status.textContent = '';
        status.append(h('span', { class: 'error' }, errorText(err)));
        start.disabled = false;
      }
    });
    el.append(h('h2', {}, '3D dataflow'), h('p', {}, 'The dataflow view shows a compiled Schedule. No model has been compiled yet.'), start, status);
    return cleanup;
  },
};
