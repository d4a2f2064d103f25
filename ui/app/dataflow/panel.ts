// The HTML beside the 3D stage: the layer legend and the picked array's details.
import { h } from '../view.js';
import type { ArrayDetails } from './details.js';
import type { LegendItem, Rgb } from './layout.js';

const css = (c: Rgb) => `rgb(${c.map((v) => Math.round(v * 255)).join(' ')})`;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const range = (r: readonly [number, number]) => `[${r[0]}, ${r[1]})`;

export function legendList(items: readonly LegendItem[]): HTMLElement {
  return h(
    'ul',
    { class: 'df-legend' },
    ...items.map((l) => {
      // CSSOM, not a style attribute: the Content-Security-Policy allows only the former.
      const swatch = h('span', { class: 'df-swatch' });
      swatch.style.background = css(l.color);
      return h('li', { 'data-layer': l.layer }, swatch, `${l.layer} `, h('span', { class: 'muted' }, `${l.arrays} array${l.arrays === 1 ? '' : 's'}`));
    }),
  );
}

export function pickContent(d: ArrayDetails): Node[] {
  const blocks = d.blocks.map((b) =>
    h(
      'tr',
      { 'data-block': b.id },
      h('td', {}, b.id),
      h('td', {}, range(b.rows)),
      h('td', {}, range(b.cols)),
      h('td', { class: 'num' }, `${b.rowOffset}, ${b.colOffset}`),
      h('td', { class: 'num' }, `${b.physicalRows}×${b.physicalCols}`),
      h('td', { class: 'num' }, String(b.round)),
    ),
  );
  const layers = [...new Set(d.blocks.map((b) => b.layer))];
  const out: Node[] = [
    h('h3', {}, `Array ${d.array} (tile ${d.tile})`),
    h('p', { class: 'muted' }, `${layers.length === 1 ? 'layer' : 'layers'} ${layers.join(', ')}; ${pct(d.utilisation)} of the cells used`),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...['block', 'rows', 'cols', 'offset', 'cells', 'round'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...blocks),
    ),
  ];
  if (d.errors.length) {
    out.push(
      h(
        'table',
        { class: 'df-errors' },
        h('thead', {}, h('tr', {}, h('th', {}, 'layer'), h('th', {}, 'executor'), h('th', { class: 'num' }, 'SQNR dB'), h('th', { class: 'num' }, 'rel. error'))),
        h(
          'tbody',
          {},
          ...d.errors.map((e) =>
            h(
              'tr',
              { 'data-layer': e.layer },
              h('td', {}, e.origin),
              h('td', {}, e.executor),
              h('td', { class: 'num' }, e.sqnrDb === undefined ? '–' : e.sqnrDb.toFixed(2)),
              h('td', { class: 'num' }, e.relativeError === undefined ? '–' : e.relativeError.toPrecision(3)),
            ),
          ),
        ),
      ),
    );
  }
  return out;
}
