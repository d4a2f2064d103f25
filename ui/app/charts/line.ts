// Several series as lines through their points. The x axis may be logarithmic; 'symlog' keeps x = 0 on the
// axis (drift time 0 next to 1 h and 1 y), and ticks may be given as labelled values ('0', '1h', '1d').
import { type ScaleContinuousNumeric, axisBottom, axisLeft, extent, line, scaleLinear, scaleLog, scaleSymlog, select } from 'd3';
import { csvText } from './export.js';
import { type ChartHandle, type FrameOptions, PALETTE, drawXAxis, drawYAxis, fmt, frame, legend, chartHandle } from './frame.js';

export interface LinePoint {
  readonly x: number;
  readonly y: number;
  /** Shown in the tooltip and the CSV, e.g. '1d'. */
  readonly label?: string;
}

export interface Series {
  readonly key: string;
  readonly points: readonly LinePoint[];
}

export interface LineData {
  readonly series: readonly Series[];
}

export interface LineOptions extends FrameOptions {
  readonly xScale?: 'linear' | 'log' | 'symlog';
  /** Tick positions and labels on x; default: the scale's own. */
  readonly xTicks?: readonly { readonly value: number; readonly label: string }[];
  /** Fixed y range, e.g. [0, 1] for accuracy; default: the data's, padded. */
  readonly yDomain?: readonly [number, number];
  readonly yFormat?: (v: number) => string;
}

export function lineChart(container: HTMLElement, data: LineData, o: LineOptions = {}): ChartHandle<LineData> {
  let series = data.series;
  const csv = () => csvText(['series', 'x', 'y', 'label'], series.flatMap((s) => s.points.map((p) => [s.key, p.x, p.y, p.label])));
  const f = frame(container, 'line', { ...o, legend: true }, csv);
  const yFmt = o.yFormat ?? fmt;
  const draw = () => {
    const pts = series.flatMap((s) => s.points);
    const [x0, x1] = extent(pts, (p) => p.x) as [number, number] | [undefined, undefined];
    const x: ScaleContinuousNumeric<number, number> = o.xScale === 'log' ? scaleLog() : o.xScale === 'symlog' ? scaleSymlog() : scaleLinear();
    x.domain(x0 === undefined ? [o.xScale === 'log' ? 1 : 0, 10] : x0 === x1 ? [x0 - 1, x0 + 1] : [x0, x1]).range([0, f.width]);
    const [y0, y1] = extent(pts, (p) => p.y) as [number, number] | [undefined, undefined];
    const pad = y0 === undefined ? 1 : Math.max((y1 - y0) * 0.1, Math.abs(y1) * 0.01, 1e-9);
    const y = scaleLinear()
      .domain(o.yDomain ? [...o.yDomain] : y0 === undefined ? [0, 1] : [y0 - pad, y1 + pad])
      .range([f.height, 0]);
    if (!o.yDomain) y.nice();
    drawYAxis(f, axisLeft(y).ticks(6).tickFormat((v) => yFmt(Number(v))));
    const xAxis = axisBottom(x);
    if (o.xTicks) xAxis.tickValues(o.xTicks.map((t) => t.value)).tickFormat((v) => o.xTicks!.find((t) => t.value === Number(v))?.label ?? fmt(Number(v)));
    else xAxis.ticks(8).tickFormat((v) => fmt(Number(v)));
    drawXAxis(f, xAxis, false);
    const color = (k: string) => PALETTE[series.findIndex((s) => s.key === k) % PALETTE.length];
    const path = line<LinePoint>()
      .x((p) => x(p.x))
      .y((p) => y(p.y));
    f.plot
      .selectAll<SVGPathElement, Series>('path.series')
      .data(series, (s) => s.key)
      .join('path')
      .attr('class', 'series')
      .attr('data-key', (s) => s.key)
      .attr('fill', 'none')
      .attr('stroke', (s) => color(s.key))
      .attr('stroke-width', 2)
      .attr('d', (s) => path([...s.points].sort((a, b) => a.x - b.x)));
    f.plot
      .selectAll<SVGGElement, Series>('g.markers')
      .data(series, (s) => s.key)
      .join('g')
      .attr('class', 'markers')
      .attr('fill', (s) => color(s.key))
      .each(function (s) {
        select(this)
          .selectAll<SVGCircleElement, LinePoint>('circle.marker')
          .data(s.points)
          .join((enter) => enter.append('circle').call((c) => c.append('title')))
          .attr('class', 'marker')
          .attr('data-key', s.key)
          .attr('data-x', (p) => p.x)
          .attr('data-y', (p) => p.y)
          .attr('cx', (p) => x(p.x))
          .attr('cy', (p) => y(p.y))
          .attr('r', 3.5)
          .each(function (p) {
            select(this)
              .select('title')
              .text(`${s.key} at ${p.label ?? fmt(p.x)}: ${yFmt(p.y)}`);
          });
      });
    legend(
      f,
      series.map((s) => ({ label: s.key, color: color(s.key) })),
    );
  };
  return chartHandle(f, csv, draw, (d) => (series = d.series));
}
