// The side panel: everything about the selected node, exact numbers (the boxes show them rounded), and its
// inputs and consumers as buttons that select them.
import type { GraphNode, ModelGraph } from '../../api/types.js';
import { h } from '../view.js';
import { formatExact, formatShape } from './format.js';

/** Lookups built once per graph. */
export interface GraphIndex {
  readonly graph: ModelGraph;
  readonly layers: ReadonlyMap<string, GraphNode>;
  readonly inputs: ReadonlyMap<string, readonly number[]>;
  readonly consumers: ReadonlyMap<string, readonly string[]>;
  readonly outputs: ReadonlySet<string>;
  /** Every id, inputs first, then layers in graph order (the search's order). */
  readonly ids: readonly string[];
}

export function indexGraph(graph: ModelGraph): GraphIndex {
  const consumers = new Map<string, string[]>();
  for (const n of graph.nodes) for (const v of new Set(n.inputs)) consumers.set(v, [...(consumers.get(v) ?? []), n.id]);
  return {
    graph,
    layers: new Map(graph.nodes.map((n) => [n.id, n])),
    inputs: new Map(graph.inputs.map((i) => [i.id, i.shape])),
    consumers,
    outputs: new Set(graph.outputs),
    ids: [...graph.inputs.map((i) => i.id), ...graph.nodes.map((n) => n.id)],
  };
}

const share = (x: number, total: number): string => (total > 0 ? ` (${((100 * x) / total).toFixed(1)}%)` : '');

function links(ids: readonly string[], pick: (id: string) => void): Node {
  if (ids.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('span', { class: 'graph-links' }, ...ids.map((id) => h('button', { type: 'button', 'data-id': id, onclick: () => pick(id) }, id)));
}

const row = (label: string, value: Node | string, cls = ''): HTMLTableRowElement =>
  h('tr', {}, h('th', {}, label), h('td', cls ? { class: cls } : {}, value));

export function renderDetails(panel: HTMLElement, ix: GraphIndex, id: string | null, pick: (id: string) => void): void {
  const layer = id === null ? undefined : ix.layers.get(id);
  const input = id === null ? undefined : ix.inputs.get(id);
  if (id === null || (!layer && !input)) {
    panel.replaceChildren(h('p', { class: 'muted' }, 'Click a layer, or find one by id, to see its details.'));
    return;
  }
  const rows: HTMLTableRowElement[] = [];
  if (layer) {
    const { params, macs } = ix.graph.totals;
    rows.push(
      row('op', layer.op),
      row('origin', layer.origin),
      row('output', formatShape(layer.outputShape)),
      row('params', `${formatExact(layer.params)}${share(layer.params, params)}`, 'graph-params'),
      row('MACs', `${formatExact(layer.macs)}${share(layer.macs, macs)}`, 'graph-macs'),
    );
    if (layer.decision !== undefined) rows.push(row('decision', layer.decision, 'graph-decision'));
    rows.push(row('inputs', links(layer.inputs, pick)));
  } else rows.push(row('op', 'graph input'), row('shape', formatShape(input!)));
  rows.push(row('consumers', links(ix.consumers.get(id) ?? [], pick)));
  if (ix.outputs.has(id)) rows.push(row('output of', 'the model'));
  panel.replaceChildren(h('h3', { class: 'graph-details-id' }, id), h('table', {}, h('tbody', {}, ...rows)));
}
