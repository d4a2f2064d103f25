// The 3D dataflow view: the Schedule of the last compile job on the accelerator's tiles and arrays
// (ui/app/dataflow), with the last simulate job's per-layer Report for the pick panel. Without a compile
// job it offers to start one and waits for it.
import type { Report } from '../../../compiler/contracts/report.js';
import { type DataflowHandle, mountDataflow } from '../dataflow/mount.js';
import { runJob } from '../job-panel.js';
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
    let gone = false;
    const cleanup = () => {
      gone = true;
      handle?.dispose();
    };
    const jobId = ctx.state.lastJob.compile;
    if (jobId) {
      handle = await show(el, ctx, jobId);
      return cleanup;
    }

    const status = h('div');
    const start = h('button', { class: 'primary df-compile' }, `Compile ${ctx.state.model} for ${ACCEL}`);
    const calib = h('input', { type: 'number', name: 'calib', min: 1, value: 256, title: 'training images for PTQ of a float model and the ADC ranges' });
    start.addEventListener('click', () => {
      start.disabled = true;
      runJob(ctx, { kind: 'compile', model: ctx.state.model, accel: ACCEL, calib: Number(calib.value) || undefined }, status)
        .then(async (res) => {
          ctx.state.lastJob.compile = res.job.id;
          if (gone) return;
          const hd = await show(el, ctx, res.job.id);
          if (gone) hd.dispose();
          else handle = hd;
        })
        .catch((err: unknown) => {
          status.append(h('p', { class: 'error' }, errorText(err)));
          start.disabled = false;
        });
    });
    el.append(h('h2', {}, '3D dataflow'), h('p', {}, 'The dataflow view shows a compiled Schedule. No model has been compiled yet.'), h('p', {}, h('label', {}, 'Calibration images ', calib), ' ', start), status);
    return cleanup;
  },
};
