// The renderer's way to the API: Electron's preload bridge when present (window.tandem), else the loopback
// HTTP server of the browser fallback (POST /api/<method>, job events over Server-Sent Events). The session
// token the server printed arrives in the page URL (?token=) and goes in a header on every call.
import { API_METHODS, type JobEvent, type TandemApi, type TandemBridge } from '../api/types.js';

declare global {
  interface Window {
    tandem?: TandemBridge;
  }
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function sessionToken(): string {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) sessionStorage.setItem('tandem-token', fromUrl);
  return fromUrl ?? sessionStorage.getItem('tandem-token') ?? '';
}

function httpBridge(): TandemBridge {
  const token = sessionToken();
  const call = async (method: string, payload: unknown): Promise<unknown> => {
    const res = await fetch(`/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tandem-token': token },
      body: JSON.stringify(payload ?? {}),
    });
    const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as { result?: unknown; error?: string };
    if (!res.ok || body.error !== undefined) throw new ApiError(body.error ?? `${method}: HTTP ${res.status}`, res.status);
    return body.result;
  };
  const listeners = new Set<(e: JobEvent) => void>();
  let source: EventSource | undefined;
  const api = Object.fromEntries(API_METHODS.map((m) => [m, (payload?: unknown) => call(m, payload)])) as unknown as TandemApi;
  return {
    ...api,
    onJobEvent(listener) {
      listeners.add(listener);
      if (!source) {
        source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
        source.onmessage = (m) => {
          const e = JSON.parse(m.data as string) as JobEvent;
          for (const l of listeners) l(e);
        };
      }
      return () => listeners.delete(listener);
    },
  };
}

export function bridge(): TandemBridge {
  return window.tandem ?? httpBridge();
}
