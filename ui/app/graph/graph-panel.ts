// The model graph's whole panel, given a ModelGraph: title and totals, the search box, the drawing and the
// details. Shared by the 'graph' view (which fetches the graph) and the test/benchmark harness.
import type { ModelGraph } from '../../api/types.js';
import { h } from '../view.js';
import { type GraphIndex, indexGraph, renderDetails } from './details.js';
import { formatCount, formatExact } from './format.js';
import { drawGraph, type GraphCanvas } from './graph-render.js';
import type { LayoutFn } from './layout-client.js';

export interface GraphPanel {
  readonly canvas: GraphCanvas;
  /** Selects a node (shows its details); with `focus`, also pans to it. */
  select(id: string | null, focus?: boolean): void;
  readonly timings: { readonly layoutMs: number; readonly roundTripMs: number; readonly drawMs: number };
  destroy(): void;
}

let instances = 0;

/** Ids to visit for a query: an exact id first, then every id containing it (case-insensitive), in order. */
export function searchIds(ix: GraphIndex, query: string): string[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const hits = ix.ids.filter((id) => id.toLowerCase().includes(q));
  const exact = hits.find((id) => id.toLowerCase() === q);
  return exact === undefined ? hits : [exact, ...hits.filter((id) => id !== exact)];
}

/**
 * Draws `graph` into `el`, laying it out with `layout`, and sets `data-ready="true"` on `el` when done.
 * Resolves to null if `el`'s content was replaced meanwhile (the user moved on): nothing is drawn then.
 */
export async function mountGraphPanel(el: HTMLElement, graph: ModelGraph, layout: LayoutFn): Promise<GraphPanel | null> {
  el.removeAttribute('data-ready');
  const ix = indexGraph(graph);
  const listId = `graph-ids-${++instances}`;
  const search = h('input', { type: 'search', class: 'graph-search', placeholder: 'Find a layer by id', list: listId, 'aria-label': 'find a layer by id' });
  const found = h('span', { class: 'graph-search-status muted', role: 'status' });
  const fitButton = h('button', { type: 'button', class: 'graph-fit' }, 'Fit');
  const stage = h('div', { class: 'graph-canvas' }, h('p', { class: 'muted graph-loading' }, `Laying out ${graph.nodes.length} layers…`));
  const details = h('aside', { class: 'graph-details', 'aria-live': 'polite' });
  const { params, macs } = graph.totals;
  const root = h(
    'div',
    { class: 'graph-view' },
    h(
      'div',
      { class: 'graph-toolbar' },
      h('h2', {}, graph.name),
      h(
        'span',
        { class: 'graph-totals', title: `${formatExact(params)} params, ${formatExact(macs)} MACs` },
        `${graph.nodes.length} layers · ${formatCount(params)} params · ${formatCount(macs)} MACs`,
      ),
      search,
      h('datalist', { id: listId }, ...ix.ids.map((id) => h('option', { value: id }))),
      found,
      fitButton,
    ),
    h('div', { class: 'graph-body' }, stage, details),
  );
  el.append(root);
  renderDetails(details, ix, null, () => {});

  const laid = await layout(graph);
  if (!root.isConnected) return null;
  const t0 = performance.now();
  stage.replaceChildren();
  const select = (id: string | null, focus = false) => {
    canvas.select(id);
    renderDetails(details, ix, id, (next) => select(next, true));
    if (focus && id !== null) canvas.focus(id);
  };
  const canvas = drawGraph(stage, laid.layout, {
    opOf: (n) => (n.kind === 'layer' ? graph.nodes[n.index].op : 'input'),
    outputs: ix.outputs,
    onSelect: (id) => select(id),
  });

  // Enter on the same query steps to the next match.
  let hits: string[] = [];
  let at = -1;
  let lastQuery = '';
  const find = () => {
    if (search.value !== lastQuery) {
      lastQuery = search.value;
      hits = searchIds(ix, lastQuery);
      at = -1;
    }
    if (hits.length === 0) {
      found.textContent = lastQuery.trim() ? 'no layer matches' : '';
      return;
    }
    at = (at + 1) % hits.length;
    found.textContent = hits.length > 1 ? `${at + 1} of ${hits.length}` : '';
    select(hits[at], true);
  };
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') find();
  });
  // Picking an id from the datalist is an 'input' event that replaces the text, with no Enter.
  search.addEventListener('input', (e) => {
    if ((e as InputEvent).inputType === 'insertReplacementText') find();
  });
  fitButton.addEventListener('click', () => canvas.fit());

  const drawMs = performance.now() - t0;
  el.dataset.ready = 'true';
  return {
    canvas,
    select,
    timings: { layoutMs: laid.computeMs, roundTripMs: laid.roundTripMs, drawMs },
    destroy() {
      canvas.destroy();
      el.removeAttribute('data-ready');
    },
  };
}
