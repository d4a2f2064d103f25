// The app's jobs: each JobRequest runs as one `tandem` command in a child process (never in the server's or
// Electron's main thread), with TANDEM_PROGRESS=jsonl so its progress arrives as JSON lines on stderr.
// A job's folder (workspace/jobs/<id>/) keeps job.json (its JobInfo), stdout.json (the --json output),
// stderr.log and out/ (the command's -o folder). Cancel sends SIGINT, which the commands turn into a clean
// stop at the next step (and SIGKILL if it has not ended 15 s later).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../../compiler/util/atomic.js';
import type { JobEvent, JobInfo, JobRequest, JobState } from '../api/types.js';
import { PROGRESS_PREFIX } from '../../cli/progress.js';

export interface JobRunnerOptions {
  /** Folder holding one folder per job. */
  readonly dir: string;
  /** The `tandem` CLI entry (dist/cli/main.js). */
  readonly cli: string;
  /** A ModelRef -> the model argument the CLI takes (a built-in name or a folder/file path). */
  readonly modelPath: (ref: string) => string;
  /** Run store for the co-design job. */
  readonly store: string;
}

/** The `--target` a profile job runs with (what a latency dataset's target.spec is compared with). */
export function profileTarget(req: Extract<JobRequest, { kind: 'profile' }>): string {
  return req.target === 'serial' && req.port ? `serial:${req.port}` : req.target;
}

/** The CLI arguments of a request (without the output folder and --json, added by the runner). */
export function jobArgs(req: JobRequest, model: (ref: string) => string, store: string): { args: string[]; writesOut: boolean } {
  const opt = (flag: string, v: string | number | undefined) => (v === undefined ? [] : [flag, String(v)]);
  switch (req.kind) {
    case 'compress':
      return { args: ['compress', model(req.model), '--method', req.method, '--ranks', req.ranks, ...(req.finetuneEpochs ? opt('--finetune', req.finetuneEpochs) : []), ...opt('--train-limit', req.trainLimit), ...opt('--eval-limit', req.evalLimit), ...opt('--seed', req.seed)], writesOut: true };
    case 'prune':
      return { args: ['prune', model(req.model), '--criterion', 'l1', ...opt('--target', req.target), ...opt('--keep', req.keep), ...opt('--eval-limit', req.evalLimit), ...opt('--seed', req.seed)], writesOut: true };
    case 'quantize':
      return { args: ['quantize', model(req.model), '--mode', 'ptq', '--weight-bits', String(req.bits), ...opt('--layer-bits', req.layerBits), ...opt('--eval-limit', req.evalLimit), ...opt('--seed', req.seed)], writesOut: true };
    case 'compile':
      return { args: ['compile', model(req.model), '--accel', req.accel, ...opt('--calib', req.calib)], writesOut: true };
    case 'simulate':
      return {
        args: ['simulate', model(req.model), '--accel', req.accel, '--mode', req.mode, ...opt('--limit', req.limit), ...opt('--drift', req.drift?.join(',')), ...(req.driftCompensation === false ? ['--no-drift-compensation'] : []), ...Object.entries(req.set ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`]), ...opt('--seed', req.seed), ...opt('--calib', req.calib)],
        writesOut: true,
      };
    case 'profile':
      return { args: ['profile', model(req.model), '--target', profileTarget(req), ...opt('--repeats', req.repeats), ...opt('--calib', req.calib), '--no-store'], writesOut: false };
    case 'codesign':
      return { args: ['start', '--job', '--store', store, ...opt('--candidates', req.candidates), ...opt('--minutes', req.minutes)], writesOut: true };
  }
}

/** Emits 'event' (JobEvent). */
export class JobRunner extends EventEmitter {
  private readonly jobs = new Map<string, JobInfo>();
  private readonly children = new Map<string, ChildProcess>();
  private readonly cancelling = new Set<string>();
  private counter = 0;

  constructor(private readonly o: JobRunnerOptions) {
    super();
    mkdirSync(o.dir, { recursive: true });
    // Jobs of earlier sessions: a job still 'running' in its job.json died with the app that ran it.
    for (const id of readdirSync(o.dir)) {
      const file = path.join(o.dir, id, 'job.json');
      if (!existsSync(file)) continue;
      try {
        let job = JSON.parse(readFileSync(file, 'utf8')) as JobInfo;
        if (job.state === 'running') job = { ...job, state: 'failed', error: 'the app stopped while the job ran' };
        this.jobs.set(job.id, job);
        this.counter = Math.max(this.counter, Number(/^j(\d+)-/.exec(job.id)?.[1] ?? 0));
      } catch {
        // an unreadable job.json: not listed (its folder stays for the user to look at)
      }
    }
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  get(id: string): JobInfo {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no job ${id} (jobs: ${[...this.jobs.keys()].slice(-10).join(', ') || 'none yet'})`);
    return job;
  }

  dirOf(id: string): string {
    return path.join(this.o.dir, this.get(id).id);
  }

  start(req: JobRequest): JobInfo {
    const id = `j${++this.counter}-${Date.now().toString(36)}`;
    const dir = path.join(this.o.dir, id);
    mkdirSync(dir, { recursive: true });
    const { args, writesOut } = jobArgs(req, this.o.modelPath, this.o.store);
    const argv = [...args, ...(writesOut ? ['-o', path.join(dir, 'out')] : []), '--json'];
    const job: JobInfo = { id, kind: req.kind, request: req, state: 'running', startedAt: new Date().toISOString(), command: `tandem ${argv.join(' ')}` };
    this.set(job);
    const env = { ...process.env, TANDEM_PROGRESS: 'jsonl', ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
    const child = spawn(process.execPath, [this.o.cli, ...argv], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.set(id, child);
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.line(id, line, (l) => (stderr += l + '\n'));
    });
    child.on('error', (e) => this.finish(id, 'failed', stdout, stderr, `could not start ${process.execPath}: ${e.message}`));
    child.on('close', (code, signal) => {
      if (partial) this.line(id, partial, (l) => (stderr += l + '\n'));
      const cancelled = this.cancelling.has(id);
      const state: JobState = code === 0 && !cancelled ? 'done' : cancelled ? 'cancelled' : 'failed';
      const why = state === 'failed' ? lastError(stderr) ?? `exited with ${signal ?? `code ${code}`}` : undefined;
      this.finish(id, state, stdout, stderr, why);
    });
    return job;
  }

  cancel(id: string): JobInfo {
    const job = this.get(id);
    const child = this.children.get(id);
    if (job.state !== 'running' || !child) return job;
    this.cancelling.add(id);
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('close', () => clearTimeout(timer));
    return job;
  }

  /** Stops every running job (the app is closing). */
  stopAll(): void {
    for (const id of this.children.keys()) this.cancel(id);
  }

  private line(id: string, line: string, keep: (l: string) => void): void {
    if (line.startsWith(PROGRESS_PREFIX)) {
      try {
        const p = JSON.parse(line.slice(PROGRESS_PREFIX.length)) as { phase: string; done: number; total: number; message?: string };
        this.emitEvent({ type: 'progress', jobId: id, phase: p.phase, done: p.done, total: p.total, ...(p.message ? { message: p.message } : {}) });
        return;
      } catch {
        // not a progress line after all: keep it as log
      }
    }
    keep(line);
    this.emitEvent({ type: 'log', jobId: id, line });
  }

  private finish(id: string, state: JobState, stdout: string, stderr: string, error?: string): void {
    if (this.get(id).state !== 'running') return;
    this.children.delete(id);
    this.cancelling.delete(id);
    const dir = path.join(this.o.dir, id);
    writeFileAtomicSync(path.join(dir, 'stdout.json'), stdout);
    writeFileAtomicSync(path.join(dir, 'stderr.log'), stderr);
    this.set({ ...this.get(id), state, endedAt: new Date().toISOString(), ...(error ? { error } : {}) });
  }

  private set(job: JobInfo): void {
    this.jobs.set(job.id, job);
    writeFileAtomicSync(path.join(this.o.dir, job.id, 'job.json'), JSON.stringify(job, null, 1) + '\n');
    this.emitEvent({ type: 'state', job });
  }

  private emitEvent(e: JobEvent): void {
    this.emit('event', e);
  }
}

/** The CLI prints `error: ...` (or a stack) last on failure: the line a user needs. */
function lastError(stderr: string): string | undefined {
  const lines = stderr.trim().split('\n').filter((l) => l.trim());
  return lines.reverse().find((l) => /error/i.test(l)) ?? lines[0];
}
