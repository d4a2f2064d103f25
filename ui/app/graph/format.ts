// Text shown in the graph's boxes and details panel. Pure, shared by the layout worker (box sizes follow
// from the text) and the renderer (which draws the same text), so both agree on every line.
import type { GraphNode, ModelGraph } from '../../api/types.js';

/** Compact count: 3 significant digits with k/M/G suffixes (18496 -> "18.5k"). */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  for (const [div, suffix] of [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    // Round first, so 999_950 reads "1.00M", not "1000k".
    if (Number(a.toPrecision(3)) >= div) return `${Number((n / div).toPrecision(3))}${suffix}`;
  }
  return String(Number(n.toPrecision(3)));
}

/** Exact count with thousands separators, as the details panel shows it. */
export const formatExact = (n: number): string => n.toLocaleString('en-US');

export const formatShape = (shape: readonly number[]): string => (shape.length === 0 ? 'scalar' : shape.join('×'));

/** Longest line a box shows; longer ids are cut with an ellipsis (the details panel has them whole). */
export const MAX_LINE = 36;

const clip = (s: string): string => (s.length <= MAX_LINE ? s : `${s.slice(0, MAX_LINE - 1)}…`);

/** One box's text: a title (the id) and detail lines. */
export interface BoxText {
  readonly title: string;
  readonly lines: readonly string[];
  /** Index into `lines` of the compression decision, if the node has one (drawn highlighted). */
  readonly decisionLine?: number;
}

export function layerText(n: GraphNode): BoxText {
  const lines = [n.op, formatShape(n.outputShape), `${formatCount(n.params)} params · ${formatCount(n.macs)} MACs`];
  if (n.decision === undefined) return { title: clip(n.id), lines };
  return { title: clip(n.id), lines: [...lines, clip(n.decision)], decisionLine: lines.length };
}

export function inputText(i: ModelGraph['inputs'][number]): BoxText {
  return { title: clip(i.id), lines: ['input', formatShape(i.shape)] };
}
