// Fetches a URL into memory with byte progress and cancel; the caller verifies before anything is saved.
import type { ProgressFn } from '../util/progress.js';
import { throwIfAborted } from '../util/progress.js';

export interface FetchOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  /** Refuse bodies larger than this (a wrong URL should not fill memory). */
  readonly maxBytes: number;
  /** Label for progress events, e.g. the file name. */
  readonly label: string;
}

/** Thrown for transport failures (offline, HTTP errors), as opposed to bad content. */
export class FetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchError';
  }
}

export async function fetchBytes(url: string, opts: FetchOptions): Promise<Uint8Array> {
  throwIfAborted(opts.signal);
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal, redirect: 'follow' });
  } catch (e) {
    throwIfAborted(opts.signal);
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new FetchError(`${url}: ${(e as Error).message}${cause ? ` (${cause})` : ''}`);
  }
  if (!res.ok || !res.body) throw new FetchError(`${url}: HTTP ${res.status} ${res.statusText}`);
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (length > opts.maxBytes) throw new FetchError(`${url}: ${length} bytes is more than the ${opts.maxBytes} expected`);

  const chunks: Uint8Array[] = [];
  let done = 0;
  const reader = res.body.getReader();
  try {
    while (true) {
      const { value, done: end } = await reader.read();
      if (end) break;
      done += value.length;
      if (done > opts.maxBytes) throw new FetchError(`${url}: more than the ${opts.maxBytes} bytes expected`);
      chunks.push(value);
      // total is the Content-Length when the server sends one, else the bytes so far.
      opts.onProgress?.({ phase: 'download', done, total: Number.isFinite(length) ? length : done, message: opts.label });
    }
  } catch (e) {
    throwIfAborted(opts.signal);
    if (e instanceof FetchError) throw e;
    throw new FetchError(`${url}: ${(e as Error).message}`);
  } finally {
    reader.releaseLock();
  }
  if (Number.isFinite(length) && done !== length) throw new FetchError(`${url}: got ${done} of ${length} bytes`);
  const out = new Uint8Array(done);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
