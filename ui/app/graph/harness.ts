// Test and benchmark page (not part of the app): renders a ModelGraph handed to it by the driving test,
// without the API, reports how long that took, and reads back what was drawn. Bundled next to
// layout-worker.js by test/ui-graph-harness.ts.
import { zoomTransform } from 'd3';
import type { DrawnFacts, GraphHarness, Rect } from './harness-api.js';
import { type GraphPanel, mountGraphPanel } from './graph-panel.js';
import { workerLayout } from './layout-client.js';

declare global {
  interface Window {
    graphHarness: GraphHarness;
  }
}

const layouter = workerLayout(new URL('./layout-worker.js', import.meta.url));
const el = document.getElementById('view')!;
let current: GraphPanel | null = null;

const rect = (e: Element): Rect => {
  const r = e.getBoundingClientRect();
  return { x: r.x, y: r.y, width: r.width, height: r.height };
};

function facts(): DrawnFacts {
  const svg = el.querySelector<SVGSVGElement>('svg.graph-svg')!;
  const nodes = [...svg.querySelectorAll<SVGGElement>('g.graph-node')].map((g) => {
    const box = g.querySelector<SVGRectElement>('rect.graph-box')!;
    const texts = [...g.querySelectorAll<SVGTextElement>('text')];
    return {
      id: g.dataset.id!,
      box: rect(box),
      title: g.querySelector('.graph-title')!.textContent!,
      lines: [...g.querySelectorAll('.graph-line')].map((t) => t.textContent!),
      decision: g.querySelector('.graph-decision')?.textContent ?? null,
      classes: [...g.classList],
      textOverflow: Math.max(...texts.map((t) => t.x.baseVal[0].value + t.getComputedTextLength() - box.width.baseVal.value)),
    };
  });
  const edges = [...svg.querySelectorAll<SVGPathElement>('path.graph-edge')].map((p) => {
    const m = p.getScreenCTM()!;
    const at = (len: number) => {
      const q = p.getPointAtLength(len).matrixTransform(m);
      return { x: q.x, y: q.y };
    };
    return { from: p.dataset.from!, to: p.dataset.to!, start: at(0), end: at(p.getTotalLength()), selected: p.classList.contains('graph-edge-selected') };
  });
  const t = zoomTransform(svg);
  return { nodes, edges, svg: rect(svg), zoom: { x: t.x, y: t.y, k: t.k }, far: svg.classList.contains('graph-far'), ready: el.dataset.ready === 'true' };
}

window.graphHarness = {
  async show(graph) {
    current?.destroy();
    el.replaceChildren();
    const t0 = performance.now();
    current = await mountGraphPanel(el, graph, layouter.layout);
    const readyMs = performance.now() - t0;
    // rAF runs before the frame's style, layout and paint; the task it queues runs after them.
    await new Promise<void>((done) => requestAnimationFrame(() => setTimeout(done)));
    return { readyMs, frameMs: performance.now() - t0, ...current!.timings };
  },
  facts,
  async panFrames(frames) {
    const frame = () => new Promise<number>((done) => requestAnimationFrame(done));
    const gaps: number[] = [];
    let last = await frame();
    for (let i = 0; i < frames; i++) {
      current!.canvas.panBy(0, -3);
      const t = await frame();
      gaps.push(t - last);
      last = t;
    }
    return gaps;
  },
};
