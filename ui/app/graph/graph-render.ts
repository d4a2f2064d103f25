// Draws a laid-out graph as SVG with d3: one <g class="graph-node"> box per node, one <path class="graph-edge">
// per edge, pan and zoom with d3-zoom. Zooming only rewrites one transform (plus a class when the zoom
// crosses the far-out level of detail), so its cost per frame does not grow with the node count.
import { type D3ZoomEvent, curveBasis, line, select, zoom, zoomIdentity, zoomTransform, type ZoomTransform } from 'd3';
import { BOX } from './box.js';
import type { GraphLayout, PlacedEdge, PlacedNode, Point } from './layout.js';

export interface GraphCanvas {
  readonly svg: SVGSVGElement;
  /** Marks one node (and its edges) selected; null clears. Does not move the view. */
  select(id: string | null): void;
  /** Pans (animated) so the node is in the middle, zooming in if the view is too far out to read it. */
  focus(id: string): void;
  /** Zooms to show the whole graph. */
  fit(): void;
  /** Moves the view by (dx, dy) screen pixels, at once. */
  panBy(dx: number, dy: number): void;
  destroy(): void;
}

/** Below this zoom the box text is unreadable anyway; it is hidden (by one class on the root) so the
 * browser paints only boxes and edges. */
const FAR_ZOOM = 0.4;
/** Initially the whole graph is shown if that keeps it at least this readable; else it is shown
 * fitted to the width from the top. */
const FIT_MIN_ZOOM = 0.6;
const MAX_ZOOM = 4;

/** Box colour class by op family (style.css). */
function opClass(n: PlacedNode, op: string): string {
  if (n.kind === 'input') return 'graph-op-input';
  if (/conv/i.test(op)) return 'graph-op-conv';
  if (/dense|matmul|gemm|linear/i.test(op)) return 'graph-op-dense';
  if (/norm/i.test(op)) return 'graph-op-norm';
  if (/relu|sigmoid|softmax|tanh|gelu|swish/i.test(op)) return 'graph-op-act';
  if (/pool/i.test(op)) return 'graph-op-pool';
  if (/add|concat|mul/i.test(op)) return 'graph-op-merge';
  return 'graph-op-other';
}

let instances = 0;

export function drawGraph(
  container: HTMLElement,
  layout: GraphLayout,
  opts: { readonly opOf: (n: PlacedNode) => string; readonly outputs: ReadonlySet<string>; readonly onSelect: (id: string | null) => void },
): GraphCanvas {
  const arrowId = `graph-arrow-${++instances}`;
  // The canvas size, measured before the drawing exists and then kept by a ResizeObserver: reading it from
  // the DOM after drawing (d3-zoom's default extent does) forces a synchronous layout of every element.
  let view = { w: Math.max(1, container.clientWidth), h: Math.max(1, container.clientHeight) };
  const svg = select(container)
    .append('svg')
    .attr('class', 'graph-svg')
    .attr('role', 'img')
    .attr('tabindex', 0)
    .attr('aria-label', `layer graph, ${layout.nodes.length} nodes; arrow keys pan, + and - zoom`);
  svg
    .append('defs')
    .append('marker')
    .attr('id', arrowId)
    .attr('viewBox', '0 0 10 10')
    .attr('refX', 10)
    .attr('refY', 5)
    .attr('markerUnits', 'userSpaceOnUse') // same size on thick (selected) edges
    .attr('markerWidth', 8)
    .attr('markerHeight', 8)
    .attr('orient', 'auto')
    .append('path')
    .attr('class', 'graph-arrow')
    .attr('d', 'M0,0L10,5L0,10z');
  const viewport = svg.append('g').attr('class', 'graph-viewport');

  const path = line<Point>()
    .x((p) => p.x)
    .y((p) => p.y)
    .curve(curveBasis);
  const edges = viewport
    .append('g')
    .attr('class', 'graph-edges')
    .selectAll<SVGPathElement, PlacedEdge>('path')
    .data(layout.edges)
    .join('path')
    .attr('class', 'graph-edge')
    .attr('data-from', (e) => e.from)
    .attr('data-to', (e) => e.to)
    .attr('d', (e) => path(e.points))
    .attr('marker-end', `url(#${arrowId})`);

  const nodes = viewport
    .append('g')
    .attr('class', 'graph-nodes')
    .selectAll<SVGGElement, PlacedNode>('g')
    .data(layout.nodes)
    .join('g')
    .attr('class', (n) => `graph-node ${opClass(n, opts.opOf(n))}${opts.outputs.has(n.id) ? ' graph-output' : ''}`)
    .attr('data-id', (n) => n.id)
    .attr('transform', (n) => `translate(${n.x - n.width / 2},${n.y - n.height / 2})`);
  nodes
    .append('rect')
    .attr('class', 'graph-box')
    .attr('width', (n) => n.width)
    .attr('height', (n) => n.height)
    .attr('rx', 4);
  nodes
    .append('rect')
    .attr('class', 'graph-band')
    .attr('width', (n) => n.width)
    .attr('height', BOX.titleHeight)
    .attr('rx', 4);
  nodes
    .append('text')
    .attr('class', 'graph-title')
    .attr('x', BOX.padX)
    .attr('y', BOX.titleHeight - 6)
    .text((n) => n.text.title);
  nodes
    .selectAll('text.graph-line')
    .data((n) => n.text.lines.map((l, i) => ({ l, i, decision: i === n.text.decisionLine })))
    .join('text')
    .attr('class', (d) => (d.decision ? 'graph-line graph-decision' : 'graph-line'))
    .attr('x', BOX.padX)
    .attr('y', (d) => BOX.titleHeight + (d.i + 1) * BOX.lineHeight - 3)
    .text((d) => d.l);

  // Per-node element lookups, built once, so selecting touches only that node's edges.
  const nodeEl = new Map<string, SVGGElement>();
  nodes.each(function (n) {
    nodeEl.set(n.id, this);
  });
  const edgeEls = new Map<string, SVGPathElement[]>();
  edges.each(function (e) {
    for (const id of [e.from, e.to]) edgeEls.set(id, [...(edgeEls.get(id) ?? []), this]);
  });
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));

  let far = false;
  const resize = new ResizeObserver(([e]) => {
    view = { w: Math.max(1, e.contentRect.width), h: Math.max(1, e.contentRect.height) };
  });
  resize.observe(svg.node()!);
  const zoomer = zoom<SVGSVGElement, unknown>()
    .extent(() => [
      [0, 0],
      [view.w, view.h],
    ])
    .scaleExtent([0.01, MAX_ZOOM])
    .on('zoom', (e: D3ZoomEvent<SVGSVGElement, unknown>) => {
      viewport.attr('transform', e.transform.toString());
      if (e.transform.k < FAR_ZOOM !== far) {
        far = !far;
        svg.classed('graph-far', far);
      }
    });
  svg.call(zoomer).on('dblclick.zoom', null);

  // Clicks are delegated to the root: one listener, whatever the node count. d3-zoom swallows the click
  // that ends a drag, so panning does not select.
  svg.on('click', (e: MouseEvent) => {
    const g = (e.target as Element).closest<SVGGElement>('.graph-node');
    opts.onSelect(g?.dataset.id ?? null);
  });

  const panBy = (dx: number, dy: number) => {
    const k = zoomTransform(svg.node()!).k;
    svg.call(zoomer.translateBy, dx / k, dy / k);
  };
  // Keyboard (the svg is focusable): arrows pan, +/- zoom about the centre.
  const KEY_PAN: Readonly<Record<string, readonly [number, number]>> = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };
  svg.on('keydown', (e: KeyboardEvent) => {
    const pan = KEY_PAN[e.key];
    if (pan) panBy(...pan);
    else if (e.key === '+' || e.key === '=') svg.call(zoomer.scaleBy, 1.25);
    else if (e.key === '-') svg.call(zoomer.scaleBy, 0.8);
    else return;
    e.preventDefault();
  });

  const fitTransform = (): ZoomTransform => {
    const { w, h } = view;
    const k = Math.min(1, (0.96 * w) / layout.width, (0.96 * h) / layout.height);
    return zoomIdentity.translate((w - k * layout.width) / 2, (h - k * layout.height) / 2).scale(k);
  };
  const initial = (): ZoomTransform => {
    const t = fitTransform();
    if (t.k >= FIT_MIN_ZOOM) return t;
    const k = Math.min(1, (0.96 * view.w) / layout.width);
    return zoomIdentity.translate((view.w - k * layout.width) / 2, 0).scale(k);
  };
  svg.call(zoomer.transform, initial());

  let selected: string | null = null;
  const mark = (id: string | null, on: boolean) => {
    if (id === null) return;
    nodeEl.get(id)?.classList.toggle('graph-selected', on);
    for (const p of edgeEls.get(id) ?? []) p.classList.toggle('graph-edge-selected', on);
  };

  return {
    svg: svg.node()!,
    select(id) {
      mark(selected, false);
      selected = id !== null && byId.has(id) ? id : null;
      mark(selected, true);
    },
    focus(id) {
      const n = byId.get(id);
      if (!n) return;
      const { w, h } = view;
      const k = Math.max(zoomTransform(svg.node()!).k, 0.8);
      svg
        .transition()
        .duration(300)
        .call(zoomer.transform, zoomIdentity.translate(w / 2 - k * n.x, h / 2 - k * n.y).scale(k));
    },
    fit() {
      svg.transition().duration(300).call(zoomer.transform, fitTransform());
    },
    panBy,
    destroy() {
      resize.disconnect();
      svg.interrupt().on('.zoom', null).on('click', null).on('keydown', null);
    },
  };
}
