// front.csv: one row per candidate of a co-design result, for spreadsheets and scripts (RFC 4180).
import type { CodesignResult } from '../result.js';

/** A field quoted when it holds a comma, quote, CR or LF; quotes doubled (RFC 4180 §2.6-2.7). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** String(x) round-trips every double (shortest form that parses back to the same number). */
const num = (x: number | undefined): string => (x === undefined ? '' : String(x));

/**
 * Columns: id, strategy, feasible, onFront, chosen, each metric as "key (unit)" in r.metrics order,
 * violations joined by '; ', and the per-layer decisions as 'layer=decision' joined by '; '. A metric a
 * candidate lacks is an empty field. Records end in CRLF, as RFC 4180 specifies.
 */
export function resultCsv(r: CodesignResult): string {
  const header = [
    'id',
    'strategy',
    'feasible',
    'onFront',
    'chosen',
    ...r.metrics.map((m) => (m.unit ? `${m.key} (${m.unit})` : m.key)),
    'violations',
    'layers',
  ];
  const rows = r.candidates.map((c) => [
    c.id,
    c.strategy,
    String(c.feasible),
    String(c.onFront),
    String(c.id === r.chosen),
    ...r.metrics.map((m) => num(c.metrics[m.key])),
    c.violations.join('; '),
    c.layers.map((l) => `${l.layer}=${l.decision}`).join('; '),
  ]);
  return [header, ...rows].map((row) => row.map(csvField).join(',') + '\r\n').join('');
}
