// Measured bars with error bars from raw samples, next to other series' single values (e.g. each latency
// predictor), grouped per key. The measured bar is the median; its whiskers span min–max or the IQR (q1–q3,
// d3's quantiles: linear between order statistics, as numpy's default); a single sample gets no whisker.
import { axisBottom, quantileSorted, scaleBand, select } from 'd3';
import { csvText } from './export.js';
import { type ChartHandle, COLORS, type FrameOptions, PALETTE, drawXAxis, drawYAxis, fmt, frame, valueAxis, valueScale, legend, chartHandle } from './frame.js';

export interface ErrorBarRow {
  readonly key: string;
  readonly samples: readonly number[];
  /** Other series' values for this key, by series name. */
  readonly others?: Readonly<Record<string, number>>;
}

export interface ErrorBarData {
  readonly rows: readonly ErrorBarRow[];
}

export interface ErrorBarOptions extends FrameOptions {
  readonly whisker?: 'minmax' | 'iqr';
  readonly log?: boolean;
  /** Name of the sampled series in the legend, tooltips and data-series (default 'measured'). */
  readonly measured?: string;
  readonly unit?: string;
}

export interface SampleStats {
  readonly n: number;
  readonly min: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly max: number;
}

export function sampleStats(samples: readonly number[]): SampleStats {
  const s = samples.filter(Number.isFinite).sort((a, b) => a - b);
  const q = (p: number) => quantileSorted(s, p) ?? NaN;
  return { n: s.length, min: s[0] ?? NaN, q1: q(0.25), median: q(0.5), q3: q(0.75), max: s[s.length - 1] ?? NaN };
}

interface Mark {
  readonly key: string;
  readonly series: string;
  readonly value: number;
  readonly stats?: SampleStats;
}

export function errorBarChart(container: HTMLElement, data: ErrorBarData, o: ErrorBarOptions = {}): ChartHandle<ErrorBarData> {
  let rows = data.rows;
  const measured = o.measured ?? 'measured';
  const log = !!o.log;
  const iqr = o.whisker === 'iqr';
  const otherNames = () => [...new Set(rows.flatMap((r) => Object.keys(r.others ?? {})))];
  const csv = () => {
    const names = otherNames();
    return csvText(
      ['key', 'n', 'min', 'q1', 'median', 'q3', 'max', ...names],
      rows.map((r) => {
        const s = sampleStats(r.samples);
        return [r.key, s.n, s.min, s.q1, s.median, s.q3, s.max, ...names.map((m) => r.others?.[m])];
      }),
    );
  };
  const f = frame(container, 'errorbar', { ...o, legend: true }, csv);
  const draw = () => {
    const names = otherNames();
    const series = [measured, ...names];
    const marks: Mark[] = rows.flatMap((r) => {
      const stats = sampleStats(r.samples);
      return [{ key: r.key, series: measured, value: stats.median, stats }, ...names.filter((m) => r.others?.[m] !== undefined).map((m) => ({ key: r.key, series: m, value: r.others![m] }))];
    });
    const lo = (s: SampleStats) => (iqr ? s.q1 : s.min);
    const hi = (s: SampleStats) => (iqr ? s.q3 : s.max);
    const ok = (v: number) => Number.isFinite(v) && (!log || v > 0);
    const extents = marks.flatMap((m) => (m.stats ? [lo(m.stats), hi(m.stats), m.value] : [m.value])).filter(ok);
    const x = scaleBand<string>()
      .domain(rows.map((r) => r.key))
      .range([0, f.width])
      .padding(0.2);
    const sub = scaleBand<string>().domain(series).range([0, x.bandwidth()]).padding(0.08);
    const y = valueScale(extents, log, f.height);
    const base = log ? f.height : y(0);
    drawYAxis(f, valueAxis(y, log));
    drawXAxis(f, axisBottom(x), rows.length > 8 || rows.some((r) => r.key.length > 8));
    const color = (s: string) => (s === measured ? COLORS.bar : PALETTE[(names.indexOf(s) + 1) % PALETTE.length]);
    const unit = o.unit ?? '';
    f.plot
      .selectAll<SVGRectElement, Mark>('rect.bar')
      .data(marks, (m) => `${m.key}\u0000${m.series}`)
      .join((enter) => enter.append('rect').call((r) => r.append('title')))
      .attr('class', (m) => ['bar', m.stats ? 'measured' : 'other', ok(m.value) ? '' : 'off-scale'].filter(Boolean).join(' '))
      .attr('data-key', (m) => m.key)
      .attr('data-series', (m) => m.series)
      .attr('data-value', (m) => m.value)
      .attr('x', (m) => x(m.key)! + sub(m.series)!)
      .attr('width', sub.bandwidth())
      .attr('y', (m) => (ok(m.value) ? Math.min(y(m.value), base) : base))
      .attr('height', (m) => (ok(m.value) ? Math.abs(base - y(m.value)) : 0))
      .attr('fill', (m) => color(m.series))
      .each(function (m) {
        const s = m.stats;
        select(this)
          .select('title')
          .text(s ? `${m.key}, ${measured}: median ${fmt(s.median)}${unit}, ${iqr ? `IQR ${fmt(s.q1)}–${fmt(s.q3)}` : `min ${fmt(s.min)}, max ${fmt(s.max)}`}${unit} (${s.n} samples)` : `${m.key}, ${m.series}: ${fmt(m.value)}${unit}`);
      });
    const whiskers = marks.filter((m) => m.stats && m.stats.n > 1 && ok(lo(m.stats)) && ok(hi(m.stats)));
    const cx = (m: Mark) => x(m.key)! + sub(m.series)! + sub.bandwidth() / 2;
    const capW = Math.min(8, sub.bandwidth() / 2);
    f.plot
      .selectAll<SVGGElement, Mark>('g.whisker')
      .data(whiskers, (m) => m.key)
      .join((enter) => {
        const g = enter.append('g');
        g.append('line').attr('class', 'whisker');
        g.append('line').attr('class', 'cap hi');
        g.append('line').attr('class', 'cap lo');
        return g;
      })
      .attr('class', 'whisker')
      .attr('data-key', (m) => m.key)
      .attr('data-lo', (m) => lo(m.stats!))
      .attr('data-hi', (m) => hi(m.stats!))
      .attr('stroke', COLORS.fg)
      .attr('stroke-width', 1.2)
      .each(function (m) {
        const g = select(this);
        const [yl, yh] = [y(lo(m.stats!)), y(hi(m.stats!))];
        g.select('line.whisker').attr('x1', cx(m)).attr('x2', cx(m)).attr('y1', yh).attr('y2', yl);
        g.select('line.cap.hi').attr('x1', cx(m) - capW / 2).attr('x2', cx(m) + capW / 2).attr('y1', yh).attr('y2', yh);
        g.select('line.cap.lo').attr('x1', cx(m) - capW / 2).attr('x2', cx(m) + capW / 2).attr('y1', yl).attr('y2', yl);
      });
    legend(
      f,
      series.map((s) => ({ label: s === measured ? `${measured} (median, ${iqr ? 'IQR' : 'min–max'})` : s, color: color(s) })),
    );
  };
  return chartHandle(f, csv, draw, (d) => (rows = d.rows));
}
