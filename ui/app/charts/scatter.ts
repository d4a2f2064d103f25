// A scatter of candidates on two objectives (the Pareto view): colored by category, the front's points
// ringed and joined by a line in x order, points outside the feasible set greyed; clicking a point calls back
// with its key.
import { axisBottom, axisLeft, extent, line, scaleLinear, select } from 'd3';
import { csvText } from './export.js';
import { type ChartHandle, COLORS, type FrameOptions, PALETTE, drawXAxis, drawYAxis, fmt, frame, legend, chartHandle } from './frame.js';

export interface ScatterPoint {
  readonly key: string;
  readonly x: number;
  readonly y: number;
  readonly category: string;
  /** On the Pareto front: ringed, and joined to the other front points. */
  readonly front?: boolean;
  /** Drawn grey (e.g. infeasible). */
  readonly muted?: boolean;
}

export interface ScatterData {
  readonly points: readonly ScatterPoint[];
  /** Key of a point to mark as selected. */
  readonly selected?: string;
}

export interface ScatterOptions extends FrameOptions {
  onClick?(key: string): void;
}

const pad = (lo: number, hi: number): [number, number] => {
  const d = hi - lo || Math.abs(hi) * 0.1 || 1;
  return [lo - 0.05 * d, hi + 0.05 * d];
};

export function scatterChart(container: HTMLElement, data: ScatterData, o: ScatterOptions = {}): ChartHandle<ScatterData> {
  let d = data;
  // a candidate without one of the two metrics has no place on the chart
  const drawn = () => d.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const csv = () => csvText(['key', 'category', 'x', 'y', 'front', 'muted'], drawn().map((p) => [p.key, p.category, p.x, p.y, !!p.front, !!p.muted]));
  const f = frame(container, 'scatter', { ...o, legend: true }, csv);
  const draw = () => {
    const pts = drawn();
    const [x0, x1] = extent(pts, (p) => p.x);
    const [y0, y1] = extent(pts, (p) => p.y);
    const x = scaleLinear()
      .domain(x0 === undefined ? [0, 1] : pad(x0, x1!))
      .range([0, f.width])
      .nice();
    const y = scaleLinear()
      .domain(y0 === undefined ? [0, 1] : pad(y0, y1!))
      .range([f.height, 0])
      .nice();
    drawYAxis(f, axisLeft(y).ticks(6).tickFormat((v) => fmt(Number(v))));
    drawXAxis(f, axisBottom(x).ticks(8).tickFormat((v) => fmt(Number(v))), false);
    const categories = [...new Set(pts.map((p) => p.category))];
    const color = (p: ScatterPoint) => (p.muted ? COLORS.off : PALETTE[categories.indexOf(p.category) % PALETTE.length]);
    const front = pts.filter((p) => p.front).sort((a, b) => a.x - b.x || a.y - b.y);
    f.plot
      .selectAll('path.front-line')
      .data([front])
      .join('path')
      .attr('class', 'front-line')
      .attr('fill', 'none')
      .attr('stroke', COLORS.fg)
      .attr('stroke-width', 1.5)
      .attr('stroke-dasharray', '4 3')
      .attr(
        'd',
        line<ScatterPoint>()
          .x((p) => x(p.x))
          .y((p) => y(p.y))(front),
      );
    f.plot
      .selectAll<SVGCircleElement, ScatterPoint>('circle.point')
      .data(pts, (p) => p.key)
      .join((enter) =>
        enter
          .append('circle')
          .call((c) => c.append('title'))
          .on('click', (_e, p) => o.onClick?.(p.key)),
      )
      // muted points first, so the feasible ones stay on top where they overlap
      .sort((a, b) => Number(!a.muted) - Number(!b.muted))
      .attr('class', (p) => ['point', p.front ? 'front' : '', p.muted ? 'muted' : '', p.key === d.selected ? 'selected' : ''].filter(Boolean).join(' '))
      .attr('data-key', (p) => p.key)
      .attr('data-category', (p) => p.category)
      .attr('data-front', (p) => String(!!p.front))
      .attr('data-x', (p) => p.x)
      .attr('data-y', (p) => p.y)
      .attr('cx', (p) => x(p.x))
      .attr('cy', (p) => y(p.y))
      .attr('r', (p) => (p.front ? 6 : 4.5))
      .attr('fill', color)
      .attr('fill-opacity', (p) => (p.muted ? 0.6 : 0.9))
      .attr('stroke', (p) => (p.key === d.selected ? COLORS.bad : p.front ? COLORS.fg : 'none'))
      .attr('stroke-width', (p) => (p.key === d.selected ? 3 : 1.5))
      .each(function (p) {
        select(this)
          .select('title')
          .text(`${p.key} (${p.category}${p.front ? ', on the front' : ''}${p.muted ? ', infeasible' : ''}): ${fmt(p.x)}, ${fmt(p.y)}`);
      });
    legend(
      f,
      categories.map((c) => ({ label: c, color: PALETTE[categories.indexOf(c) % PALETTE.length] })),
    );
  };
  return chartHandle(f, csv, draw, (next) => (d = next));
}
