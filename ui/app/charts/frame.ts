// The frame every chart draws in: `<div class="chart" data-chart=name>` holding one <svg> with a plot group
// inside margins, the axes and their labels, a legend, and the export toolbar. Styles are SVG presentation
// attributes (no CSS classes carry looks), so an exported SVG or PNG looks like the chart on screen.
import { type Axis, type AxisDomain, type NumberValue, type ScaleContinuousNumeric, type Selection, axisLeft, format, max, min, scaleLinear, scaleLog, select } from 'd3';
import { exportToolbar } from './export.js';

export interface Margin {
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly left: number;
}

export interface FrameOptions {
  readonly width?: number;
  readonly height?: number;
  readonly margin?: Partial<Margin>;
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
}

/** Set by charts that draw a legend: a row for it above the plot. */
interface FrameLayout {
  readonly legend?: boolean;
}

/** What every chart function returns. */
export interface ChartHandle<D> {
  readonly root: HTMLDivElement;
  /** The live chart's <svg>. */
  svg(): SVGSVGElement;
  /** Exactly the data drawn, one row per mark, header first. */
  csv(): string;
  /** Redraws with new data (same options). */
  update(data: D): void;
}

export type Svg = Selection<SVGSVGElement, unknown, null, undefined>;
export type G = Selection<SVGGElement, unknown, null, undefined>;

export interface Frame {
  readonly root: HTMLDivElement;
  readonly svg: Svg;
  /** Translated by the margins; marks go here. */
  readonly plot: G;
  readonly xAxis: G;
  readonly yAxis: G;
  readonly width: number;
  readonly height: number;
  readonly margin: Margin;
}

export const COLORS = { fg: '#1d2330', muted: '#6b7280', grid: '#e5e7eb', bar: '#2463eb', bad: '#b42318', off: '#c0c4cc' } as const;
/** Tableau 10, for series and categories. */
export const PALETTE = ['#4e79a7', '#f28e2c', '#e15759', '#76b7b2', '#59a14f', '#edc949', '#af7aa1', '#ff9da7', '#9c755f', '#bab0ab'] as const;

/** Numbers on axes and in tooltips: 3 significant digits, SI prefixes for the very small or large. */
export const fmt = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-2 || a >= 1e5) ? format('.3~s')(v) : format('.3~r')(v);
};

/** Draws a chart and returns its handle; `update` hands the new data to `set`, then redraws. */
export function chartHandle<D>(f: Frame, csv: () => string, draw: () => void, set: (data: D) => void): ChartHandle<D> {
  draw();
  return {
    root: f.root,
    svg: () => f.svg.node()!,
    csv,
    update: (data) => {
      set(data);
      draw();
    },
  };
}

export function frame(container: HTMLElement, name: string, o: FrameOptions & FrameLayout, csv: () => string): Frame {
  const width = o.width ?? 640;
  const height = o.height ?? 320;
  const margin: Margin = { top: (o.title ? 28 : 12) + (o.legend ? 18 : 0), right: 16, bottom: 48, left: 64, ...o.margin };
  const root = document.createElement('div');
  root.className = 'chart';
  root.dataset.chart = name;
  container.append(root);
  const svg = select(root)
    .append('svg')
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('font-family', 'system-ui, sans-serif')
    .attr('font-size', 11)
    .attr('color', COLORS.fg);
  // an opaque background, so the PNG is not transparent
  svg.append('rect').attr('class', 'background').attr('width', width).attr('height', height).attr('fill', '#fff');
  if (o.title) svg.append('text').attr('class', 'title').attr('x', margin.left).attr('y', 17).attr('font-size', 13).attr('font-weight', 600).attr('fill', COLORS.fg).text(o.title);
  const inner = svg.append('g').attr('transform', `translate(${margin.left},${margin.top})`);
  const w = width - margin.left - margin.right;
  const hgt = height - margin.top - margin.bottom;
  const yAxis = inner.append('g').attr('class', 'y-axis');
  const xAxis = inner.append('g').attr('class', 'x-axis').attr('transform', `translate(0,${hgt})`);
  const plot = inner.append('g').attr('class', 'plot');
  if (o.xLabel) inner.append('text').attr('class', 'x-label').attr('x', w / 2).attr('y', hgt + margin.bottom - 6).attr('text-anchor', 'middle').attr('fill', COLORS.fg).text(o.xLabel);
  if (o.yLabel)
    inner
      .append('text')
      .attr('class', 'y-label')
      .attr('transform', `translate(${-margin.left + 14},${hgt / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .attr('fill', COLORS.fg)
      .text(o.yLabel);
  root.append(exportToolbar(name, () => svg.node()!, csv));
  return { root, svg, plot, xAxis, yAxis, width: w, height: hgt, margin };
}

/** Draws the y axis with light grid lines across the plot at the labelled ticks (under the marks: the axis
 * group comes first). */
export function drawYAxis<T extends AxisDomain>(f: Frame, axis: Axis<T>): void {
  f.yAxis.call(axis);
  f.yAxis.selectAll('.tick line.grid').remove();
  f.yAxis
    .selectAll<SVGGElement, unknown>('.tick')
    .filter(function () {
      return !!this.textContent;
    })
    .append('line')
    .attr('class', 'grid')
    .attr('x2', f.width)
    .attr('stroke', COLORS.grid);
}

/** The value scale of bar-like charts, from `height` (bottom) up: log over the values, or linear through 0.
 * A flat log domain (one value) is widened a decade each way so there is a range to draw in. */
export function valueScale(values: readonly number[], log: boolean, height: number): ScaleContinuousNumeric<number, number> {
  const y = log
    ? scaleLog()
        .domain([min(values) ?? 1, max(values) ?? 10])
        .range([height, 0])
        .nice()
    : scaleLinear()
        .domain([Math.min(0, min(values) ?? 0), Math.max(0, max(values) ?? 1)])
        .range([height, 0])
        .nice();
  if (log && y.domain()[0] === y.domain()[1]) y.domain([y.domain()[0] / 10, y.domain()[1] * 10]);
  return y;
}

/** A value axis: about 6 ticks; on a log scale only the labels d3 keeps (1, 2, 5 × 10^k or fewer), so the
 * minor ticks of several decades do not overprint. */
export function valueAxis(y: ScaleContinuousNumeric<number, number>, log: boolean): Axis<NumberValue> {
  const keep = y.tickFormat(6);
  return axisLeft(y)
    .ticks(6)
    .tickFormat((v) => (log && keep(v) === '' ? '' : fmt(Number(v))));
}

/** x tick labels turned -35° when they would collide (many layer names). */
export function drawXAxis<T extends AxisDomain>(f: Frame, axis: Axis<T>, slanted: boolean): void {
  f.xAxis.call(axis);
  f.xAxis
    .selectAll<SVGTextElement, unknown>('.tick text')
    .attr('transform', slanted ? 'rotate(-35)' : null)
    .attr('text-anchor', slanted ? 'end' : 'middle')
    .attr('dx', slanted ? '-0.4em' : null)
    .attr('dy', slanted ? '0.5em' : '0.71em');
}

/** A legend of colored swatches in a row above the plot (so it never covers a mark). */
export function legend(f: Frame, entries: readonly { readonly label: string; readonly color: string }[]): void {
  f.svg.selectAll('g.legend').remove();
  if (!entries.length) return;
  const g = f.svg.append('g').attr('class', 'legend').attr('transform', `translate(${f.margin.left},${f.margin.top - 22})`);
  let x = 0;
  for (const e of entries) {
    const item = g.append('g').attr('transform', `translate(${x},0)`);
    item.append('rect').attr('width', 10).attr('height', 10).attr('fill', e.color);
    const text = item.append('text').attr('x', 14).attr('y', 9).attr('fill', COLORS.fg).text(e.label);
    x += 14 + text.node()!.getComputedTextLength() + 14;
  }
}
