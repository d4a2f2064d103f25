// The UI thread's side of the layout worker: one worker, reused for every graph; replies matched to
// requests by id. dagre takes hundreds of milliseconds on a few hundred layers, so it never runs here.
import type { ModelGraph } from '../../api/types.js';
import type { GraphLayout } from './layout.js';

export interface LayoutRequest {
  readonly id: number;
  readonly graph: ModelGraph;
}

export type LayoutReply =
  | { readonly id: number; readonly layout: GraphLayout; readonly ms: number }
  | { readonly id: number; readonly error: string };

export interface TimedLayout {
  readonly layout: GraphLayout;
  /** Time the layout took inside the worker. */
  readonly computeMs: number;
  /** Request to reply, as the UI thread saw it (compute plus copying the graph and layout across). */
  readonly roundTripMs: number;
}

export type LayoutFn = (graph: ModelGraph) => Promise<TimedLayout>;

export interface WorkerLayout {
  readonly layout: LayoutFn;
  dispose(): void;
}

/** `url`: the bundled layout-worker.js (an ES module worker). The worker starts at once, so its module
 * loads while the caller is still fetching the graph. */
export function workerLayout(url: URL): WorkerLayout {
  let worker: Worker | undefined;
  let next = 0;
  const pending = new Map<number, { resolve: (l: TimedLayout) => void; reject: (e: Error) => void; t0: number }>();
  const failAll = (message: string) => {
    for (const p of pending.values()) p.reject(new Error(message));
    pending.clear();
    worker?.terminate();
    worker = undefined; // the next request starts a fresh worker
  };
  const start = (): Worker => {
    const w = new Worker(url, { type: 'module' });
    w.onmessage = (e: MessageEvent<LayoutReply>) => {
      const r = e.data;
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      if ('error' in r) p.reject(new Error(r.error));
      else p.resolve({ layout: r.layout, computeMs: r.ms, roundTripMs: performance.now() - p.t0 });
    };
    w.onerror = (e) => failAll(`graph layout worker failed: ${e.message || `could not load ${url.href}`}`);
    return w;
  };
  worker = start();
  return {
    layout: (graph) =>
      new Promise<TimedLayout>((resolve, reject) => {
        worker ??= start();
        const id = ++next;
        pending.set(id, { resolve, reject, t0: performance.now() });
        worker.postMessage({ id, graph } satisfies LayoutRequest);
      }),
    dispose: () => failAll('graph layout worker disposed'),
  };
}
