// Serves the chart harness page (ui/app/charts/harness.ts) on 127.0.0.1 under the app's Content-Security-Policy
// for the chart tests and benchmark, and reads what a page downloaded (CSV, PNG).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Download } from 'playwright-core';
import { buildUi } from '../ui/build.js';
import { type Served, appCsp, serveDir } from './ui-browser.js';

export type { Served };

/** The chart harness page: window.chartHarness mounts charts on data from the test. */
export async function serveChartHarness(): Promise<Served> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-ui-charts-'));
  await buildUi({ entries: ['ui/app/charts/harness.ts'], outdir: dir });
  writeFileSync(
    path.join(dir, 'harness.html'),
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">${appCsp()}<title>charts</title><link rel="stylesheet" href="style.css"><script type="module" src="harness.js"></script></head><body></body></html>\n`,
  );
  return serveDir(dir, 'harness.html', () => rmSync(dir, { recursive: true, force: true }));
}

export async function downloadBytes(d: Download): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await d.createReadStream()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** RFC 4180 CSV (quoted fields with doubled quotes), the header row first. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else if (c !== '\r') field += c;
  }
  if (field || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}

/** Width and height from a PNG's IHDR chunk, after checking the 8-byte signature. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => png[i] === b)) throw new Error(`not a PNG: starts ${png.subarray(0, 8).toString('hex')}`);
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('PNG: the first chunk is not IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
