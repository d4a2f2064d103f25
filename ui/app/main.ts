// The app shell: navigation between views (hash routes, #/<view>), the shared state, the status line.
import { bridge } from './client.js';
import { type AppState, type View, type ViewContext, errorText, h } from './view.js';
import { projectView } from './views/project.js';
import { graphView } from './views/graph.js';
import { compressView } from './views/compress.js';
import { errorView } from './views/error.js';
import { latencyView } from './views/latency.js';
import { dataflowView } from './views/dataflow.js';
import { devicesView } from './views/devices.js';
import { codesignView } from './views/codesign.js';

const VIEWS: readonly View[] = [projectView, graphView, compressView, errorView, latencyView, dataflowView, devicesView, codesignView];

const state: AppState = { model: 'fmnist-vgg', lastJob: {} };
const nav = document.getElementById('nav')!;
const main = document.getElementById('view')!;
const statusEl = document.getElementById('status')!;
let cleanup: (() => void) | void;

const ctx: ViewContext = {
  api: bridge(),
  state,
  navigate: (view) => {
    location.hash = `#/${view}`;
  },
  status: (text) => {
    statusEl.textContent = text;
  },
};

for (const v of VIEWS) nav.append(h('a', { href: `#/${v.id}`, 'data-view': v.id }, v.title));

let current = 0;
async function route(): Promise<void> {
  const id = location.hash.replace(/^#\//, '') || 'project';
  const view = VIEWS.find((v) => v.id === id) ?? VIEWS[0];
  const token = ++current;
  cleanup?.();
  cleanup = undefined;
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.view === view.id);
  main.replaceChildren();
  main.dataset.view = view.id;
  try {
    const c = await view.mount(main, ctx);
    if (token === current) cleanup = c;
    else c?.();
  } catch (e) {
    if (token === current) main.append(h('p', { class: 'error' }, errorText(e)));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
