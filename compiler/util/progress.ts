// Progress reporting shared by every long operation (CLI bars, UI progress, workers).

export interface ProgressEvent {
  /** What is being done, e.g. 'train', 'eval', 'load'. */
  readonly phase: string;
  readonly done: number;
  readonly total: number;
  /** Short status, e.g. 'epoch 3/20 loss 0.31'. */
  readonly message?: string;
}

export type ProgressFn = (e: ProgressEvent) => void;

/** Throws the signal's reason (an AbortError) if it was aborted. Long loops call this between steps. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
}

/**
 * Lets the event loop run (signal handlers, timers, I/O). Loops of synchronous work whose awaits all resolve as
 * microtasks never reach it, so Ctrl-C would wait for the whole loop: call this between steps.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}
