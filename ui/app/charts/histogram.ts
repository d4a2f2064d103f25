// A histogram from bin edges and counts (as the simulator reports them), or from raw values binned here with
// d3.bin. Counts outside the edges (below / above) are drawn as a note, not as bars of invented width.
import { axisBottom, axisLeft, bin, max, scaleLinear, select } from 'd3';
import { csvText } from './export.js';
import { type ChartHandle, COLORS, type FrameOptions, drawXAxis, drawYAxis, fmt, frame, chartHandle } from './frame.js';

export interface HistogramData {
  /** counts.length + 1 ascending edges. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  readonly below?: number;
  readonly above?: number;
}

/** Raw values into about `bins` equal bins with nice edges (d3.bin). */
export function binValues(values: readonly number[], bins = 20): HistogramData {
  const b = bin().thresholds(bins)(values.filter(Number.isFinite));
  if (b.length === 0) return { edges: [0, 1], counts: [0] };
  return { edges: [b[0].x0!, ...b.map((x) => x.x1!)], counts: b.map((x) => x.length) };
}

export function histogramChart(container: HTMLElement, data: HistogramData, o: FrameOptions = {}): ChartHandle<HistogramData> {
  let d = data;
  const csv = () =>
    csvText(
      ['x0', 'x1', 'count'],
      [...(d.below ? [[null, d.edges[0], d.below]] : []), ...d.counts.map((c, k) => [d.edges[k], d.edges[k + 1], c]), ...(d.above ? [[d.edges[d.edges.length - 1], null, d.above]] : [])],
    );
  const f = frame(container, 'histogram', { yLabel: 'count', ...o }, csv);
  const draw = () => {
    const bins = d.counts.map((count, k) => ({ x0: d.edges[k], x1: d.edges[k + 1], count }));
    const x = scaleLinear()
      .domain([d.edges[0], d.edges[d.edges.length - 1]])
      .range([0, f.width]);
    const y = scaleLinear()
      .domain([0, max(d.counts) || 1])
      .range([f.height, 0])
      .nice();
    drawYAxis(f, axisLeft(y).ticks(5));
    drawXAxis(f, axisBottom(x).ticks(8).tickFormat((v) => fmt(Number(v))), false);
    f.plot
      .selectAll<SVGRectElement, (typeof bins)[number]>('rect.bin')
      .data(bins)
      .join((enter) => enter.append('rect').call((r) => r.append('title')))
      .attr('class', 'bin')
      .attr('data-x0', (b) => b.x0)
      .attr('data-x1', (b) => b.x1)
      .attr('data-value', (b) => b.count)
      .attr('x', (b) => x(b.x0) + 0.5)
      .attr('width', (b) => Math.max(0, x(b.x1) - x(b.x0) - 1))
      .attr('y', (b) => y(b.count))
      .attr('height', (b) => f.height - y(b.count))
      .attr('fill', COLORS.bar)
      .each(function (b) {
        select(this)
          .select('title')
          .text(`[${fmt(b.x0)}, ${fmt(b.x1)}): ${b.count}`);
      });
    const tails = [d.below ? `${d.below} below ${fmt(d.edges[0])}` : '', d.above ? `${d.above} above ${fmt(d.edges[d.edges.length - 1])}` : ''].filter(Boolean).join(', ');
    f.plot.selectAll('text.tails').remove();
    if (tails) f.plot.append('text').attr('class', 'tails').attr('x', f.width).attr('y', 10).attr('text-anchor', 'end').attr('fill', COLORS.muted).text(`outside the range: ${tails}`);
  };
  return chartHandle(f, csv, draw, (next) => (d = next));
}
