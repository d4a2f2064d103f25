// A running job in a view: progress bar, phase and message, Cancel, the last log lines; resolves with the
// job's result when it is done, rejects when it fails or is cancelled.
import type { JobRequest, JobResult } from '../api/types.js';
import { type ViewContext, h } from './view.js';

export function runJob(ctx: ViewContext, req: JobRequest, into: HTMLElement): Promise<JobResult> {
  const bar = h('progress', { max: 1, value: 0 });
  const text = h('span', { class: 'muted' }, 'starting…');
  const cancel = h('button', { class: 'job-cancel' }, 'Cancel');
  const log = h('pre', { class: 'log' });
  const panel = h('div', { class: 'card job-panel', 'data-state': 'running' }, h('div', { class: 'row' }, bar, text, cancel), log);
  into.replaceChildren(panel);
  return new Promise<JobResult>((resolve, reject) => {
    let jobId: string | undefined;
    const early: Parameters<Parameters<typeof ctx.api.onJobEvent>[0]>[0][] = [];
    const off = ctx.api.onJobEvent((e) => {
      if (!jobId) return void early.push(e);
      handle(e);
    });
    const handle = (e: (typeof early)[number]) => {
      if (e.type === 'progress' && e.jobId === jobId) {
        bar.max = Math.max(1, e.total);
        bar.value = e.done;
        text.textContent = `${e.phase} ${e.done}/${e.total}${e.message ? ` · ${e.message}` : ''}`;
        ctx.status(`${req.kind}: ${text.textContent}`);
      } else if (e.type === 'log' && e.jobId === jobId) {
        log.textContent = `${log.textContent ?? ''}${e.line}\n`.split('\n').slice(-12).join('\n');
      } else if (e.type === 'state' && e.job.id === jobId && e.job.state !== 'running') {
        off();
        panel.dataset.state = e.job.state;
        cancel.disabled = true;
        ctx.status(`${req.kind} ${e.job.state}`);
        if (e.job.state === 'done') {
          bar.value = bar.max;
          text.textContent = 'done';
          ctx.api.jobResult({ jobId: e.job.id }).then(resolve, reject);
        } else {
          text.textContent = e.job.state;
          reject(new Error(e.job.state === 'cancelled' ? 'cancelled' : `${req.kind} failed: ${e.job.error ?? 'see the log'}`));
        }
      }
    };
    ctx.api.startJob(req).then(
      (job) => {
        jobId = job.id;
        panel.dataset.job = job.id;
        cancel.addEventListener('click', () => void ctx.api.cancelJob({ jobId: job.id }));
        for (const e of early.splice(0)) handle(e);
      },
      (e: unknown) => {
        off();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
