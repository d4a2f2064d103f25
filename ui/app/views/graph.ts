// The model graph view: the layer DAG of the current model (like Netron), laid out off the UI thread.
import { mountGraphPanel } from '../graph/graph-panel.js';
import { type WorkerLayout, workerLayout } from '../graph/layout-client.js';
import type { View } from '../view.js';

// One worker for the app's lifetime, started on the first mount: starting one costs a module load and parse.
let layouter: WorkerLayout | undefined;
// Resolved against the bundle, dist/ui/app/main.js, next to which ui/build.ts writes graph/layout-worker.js.
const WORKER_URL = new URL('./graph/layout-worker.js', import.meta.url);

export const graphView: View = {
  id: 'graph',
  title: 'Model graph',
  mount: async (el, ctx) => {
    ctx.status(`opening ${ctx.state.model}…`);
    layouter ??= workerLayout(WORKER_URL); // before the fetch: the worker's module loads meanwhile
    try {
      const graph = await ctx.api.openModel({ model: ctx.state.model });
      const panel = await mountGraphPanel(el, graph, layouter.layout);
      return panel?.destroy;
    } finally {
      ctx.status('');
    }
  },
};
