// CLI progress: a bar on an interactive terminal, throttled lines otherwise, nothing with --json; with
// TANDEM_PROGRESS=jsonl (the app's jobs, ui/server/jobs.ts) JSON lines on stderr, whatever the other flags.
import Bars from 'cli-progress';
import type { ProgressEvent, ProgressFn } from '../compiler/util/progress.js';

export interface CliProgress {
  readonly update: ProgressFn;
  stop(): void;
}

/** Prefix of a machine-readable progress line: `@progress {"phase":..,"done":..,"total":..,"message":..}`. */
export const PROGRESS_PREFIX = '@progress ';

export function cliProgress(opts: { quiet: boolean }): CliProgress {
  if (process.env.TANDEM_PROGRESS === 'jsonl') return jsonlProgress();
  if (opts.quiet) return { update: () => {}, stop: () => {} };
  if (process.stderr.isTTY) {
    const bar = new Bars.SingleBar(
      { format: '{phase} [{bar}] {percentage}% {value}/{total} | {message} | eta {eta_formatted}', stream: process.stderr, hideCursor: true },
      Bars.Presets.shades_classic,
    );
    let phase = '';
    return {
      update(e: ProgressEvent) {
        if (e.phase !== phase) {
          if (phase) bar.stop();
          phase = e.phase;
          bar.start(e.total, e.done, { phase, message: e.message ?? '' });
        }
        bar.setTotal(e.total);
        bar.update(e.done, { phase, message: e.message ?? '' });
      },
      stop: () => {
        if (phase) bar.stop();
        phase = '';
      },
    };
  }
  // Not a terminal (CI, logs): a line at most every 10 s, so short work prints nothing.
  let last = Date.now();
  return {
    update(e: ProgressEvent) {
      const now = Date.now();
      if (now - last < 10_000) return;
      last = now;
      process.stderr.write(`${e.phase} ${e.done}/${e.total}${e.message ? ` ${e.message}` : ''}\n`);
    },
    stop: () => {},
  };
}

/** At most 10 lines a second, but always the first and last event of a phase (a UI shows where it ended). */
function jsonlProgress(): CliProgress {
  let last = 0;
  let phase = '';
  return {
    update(e: ProgressEvent) {
      const now = Date.now();
      if (e.phase === phase && e.done < e.total && now - last < 100) return;
      last = now;
      phase = e.phase;
      process.stderr.write(`${PROGRESS_PREFIX}${JSON.stringify({ phase: e.phase, done: e.done, total: e.total, message: e.message })}\n`);
    },
    stop: () => {},
  };
}

/** An AbortSignal fired by Ctrl-C, so long work can stop cleanly (and save a checkpoint). */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ninterrupted: finishing the current step...\n');
    ac.abort();
  });
  return ac.signal;
}
