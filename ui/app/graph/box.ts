// Box metrics, shared by the layout (which sizes boxes from their text) and the renderer (which draws the
// text with them). Kept apart from layout.ts so the UI bundle does not pull in dagre.
import type { BoxText } from './format.js';

/** Box metrics, in SVG units; the renderer draws text with them (monospace 12px, see style.css). */
export const BOX = {
  charWidth: 7.3,
  padX: 8,
  titleHeight: 20,
  lineHeight: 15,
  padBottom: 6,
  minWidth: 96,
} as const;

export function boxSize(t: BoxText): { width: number; height: number } {
  const chars = Math.max(t.title.length, ...t.lines.map((l) => l.length));
  return {
    width: Math.max(BOX.minWidth, Math.ceil(chars * BOX.charWidth + 2 * BOX.padX)),
    height: BOX.titleHeight + t.lines.length * BOX.lineHeight + BOX.padBottom,
  };
}
