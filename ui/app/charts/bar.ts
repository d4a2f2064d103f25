// One bar per layer (or any key). Linear scale: bars grow from 0 up or down, so negative values (an SQNR
// below 0 dB) point down. Log scale: bars grow from the bottom; values ≤ 0 or missing cannot be placed and
// get an empty bar marked 'off-scale' (still one rect per row, with its value in the tooltip).
import { axisBottom, scaleBand, select } from 'd3';
import { csvText } from './export.js';
import { type ChartHandle, COLORS, type FrameOptions, drawXAxis, drawYAxis, fmt, frame, valueAxis, valueScale, chartHandle } from './frame.js';

export interface BarRow {
  /** data-key of the bar (the layer); several rows may share one (a decomposed layer's parts). */
  readonly key: string;
  /** x-axis label, unique per row; default the key. */
  readonly label?: string;
  /** null: no value (e.g. an SQNR that is infinite because the layer is exact). */
  readonly value: number | null;
  /** Tooltip text; default "key: value". */
  readonly title?: string;
}

export interface BarData {
  readonly rows: readonly BarRow[];
}

export interface BarOptions extends FrameOptions {
  readonly log?: boolean;
  /** Appended to values in tooltips, e.g. ' dB'. */
  readonly unit?: string;
  readonly color?: string;
}

const drawable = (v: number | null, log: boolean): v is number => v !== null && Number.isFinite(v) && (!log || v > 0);

export function barChart(container: HTMLElement, data: BarData, o: BarOptions = {}): ChartHandle<BarData> {
  let rows = data.rows;
  const log = !!o.log;
  const label = (r: BarRow) => r.label ?? r.key;
  const csv = () => (rows.some((r) => label(r) !== r.key) ? csvText(['key', 'label', 'value'], rows.map((r) => [r.key, label(r), r.value])) : csvText(['key', 'value'], rows.map((r) => [r.key, r.value])));
  const f = frame(container, 'bar', o, csv);

  const draw = () => {
    const x = scaleBand<string>()
      .domain(rows.map(label))
      .range([0, f.width])
      .padding(0.2);
    const vals = rows.map((r) => r.value).filter((v) => drawable(v, log));
    const y = valueScale(vals, log, f.height);
    const base = log ? f.height : y(0);
    drawYAxis(f, valueAxis(y, log));
    drawXAxis(f, axisBottom(x), rows.length > 8 || rows.some((r) => label(r).length > 8));
    f.plot
      .selectAll<SVGRectElement, BarRow>('rect.bar')
      .data(rows, label)
      .join((enter) => enter.append('rect').call((r) => r.append('title')))
      .attr('class', (r) => (drawable(r.value, log) ? 'bar' : 'bar off-scale'))
      .attr('data-key', (r) => r.key)
      .attr('data-value', (r) => String(r.value))
      .attr('x', (r) => x(label(r))!)
      .attr('width', x.bandwidth())
      .attr('y', (r) => (drawable(r.value, log) ? Math.min(y(r.value), base) : base))
      .attr('height', (r) => (drawable(r.value, log) ? Math.abs(base - y(r.value)) : 0))
      .attr('fill', (r) => (r.value !== null && r.value < 0 ? COLORS.bad : (o.color ?? COLORS.bar)))
      .each(function (r) {
        select(this)
          .select('title')
          .text(r.title ?? `${label(r)}: ${r.value === null ? 'no value' : `${fmt(r.value)}${o.unit ?? ''}`}`);
      });
    // the zero line, when bars go both ways
    f.plot.selectAll('line.zero').remove();
    if (!log && y.domain()[0] < 0) f.plot.append('line').attr('class', 'zero').attr('x2', f.width).attr('y1', base).attr('y2', base).attr('stroke', COLORS.fg);
  };
  return chartHandle(f, csv, draw, (d) => (rows = d.rows));
}
