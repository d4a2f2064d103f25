// A chart's data and picture out of the app: CSV of exactly the data drawn, the SVG as a standalone file, and
// a PNG at 2× drawn from that SVG on a canvas. Each is a Blob handed to an <a download> click: the renderer
// has no file system, and the CSP allows blob: images, so no server round trip and no inline styles.

/** One CSV field: quoted when it holds a comma, quote or newline; numbers as JavaScript prints them (exact). */
export function csvField(v: string | number | boolean | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvText(header: readonly string[], rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** The chart as a standalone SVG document (its looks are presentation attributes, so nothing to inline). */
export function svgText(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}\n`;
}

/** The SVG drawn on a canvas at `scale`× its size, as PNG. */
export async function pngBlob(svg: SVGSVGElement, scale = 2): Promise<Blob> {
  const w = Number(svg.getAttribute('width'));
  const h = Number(svg.getAttribute('height'));
  const url = URL.createObjectURL(new Blob([svgText(svg)], { type: 'image/svg+xml' }));
  try {
    const img = new Image(w, h);
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    const g = canvas.getContext('2d')!;
    g.scale(scale, scale);
    g.drawImage(img, 0, 0, w, h);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG export: the canvas gave no image'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // the download has taken the blob by the next task; revoking at once can cancel it in some browsers
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The PNG / SVG / CSV buttons under a chart. */
export function exportToolbar(name: string, svg: () => SVGSVGElement, csv: () => string): HTMLDivElement {
  const bar = document.createElement('div');
  bar.className = 'exports';
  const button = (cls: string, label: string, run: () => Promise<void> | void) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = label;
    b.title = `Download this chart as ${label}`;
    b.addEventListener('click', () => {
      Promise.resolve(run()).catch((e: unknown) => {
        b.title = `export failed: ${e instanceof Error ? e.message : String(e)}`;
        b.classList.add('failed');
      });
    });
    bar.append(b);
  };
  button('export-png', 'PNG', async () => download(await pngBlob(svg()), `${name}.png`));
  button('export-svg', 'SVG', () => download(new Blob([svgText(svg())], { type: 'image/svg+xml' }), `${name}.svg`));
  button('export-csv', 'CSV', () => download(new Blob([csv()], { type: 'text/csv' }), `${name}.csv`));
  return bar;
}
