// The graph layout worker (bundled to dist/ui/app/graph/layout-worker.js): lays out each ModelGraph it is
// sent with layoutModelGraph and replies with the positions, or the error.
import type { LayoutReply, LayoutRequest } from './layout-client.js';
import { layoutModelGraph } from './layout.js';

// The renderer's tsconfig has the DOM lib, not the worker one; this is the part of the worker scope used.
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(reply: LayoutReply): void;
};

scope.onmessage = (e) => {
  const { id, graph } = e.data;
  try {
    const t0 = performance.now();
    const layout = layoutModelGraph(graph);
    scope.postMessage({ id, layout, ms: performance.now() - t0 });
  } catch (err) {
    scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
