// Serves the chart harness page (ui/app/charts/harness.ts) on 127.0.0.1 under the app's Content-Security-Policy
// for the chart tests and benchmark, and reads what a page downloaded (CSV, PNG).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Download } from 'playwright-core';
import { buildUi } from '../ui/build.js';
import { ROOT } from './ui-browser.js';

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

function serveDir(dir: string, page: string): Promise<Served> {
  const server = createServer((req, res) => {
    const file = path.resolve(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, ''));
    if (!file.startsWith(dir + path.sep)) return void res.writeHead(403).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/${page}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => {
              rmSync(dir, { recursive: true, force: true });
              done();
            });
          }),
      });
    }),
  );
}

function appCsp(): string {
  const meta = /<meta http-equiv="Content-Security-Policy"[^>]*>/.exec(readFileSync(path.join(ROOT, 'ui', 'app', 'index.html'), 'utf8'));
  if (!meta) throw new Error('ui/app/index.html has no Content-Security-Policy meta tag');
  return meta[0];
}

/** The chart harness page: window.chartHarness mounts charts on data from the test. */
export async function serveChartHarness(): Promise<Served> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-ui-charts-'));
  await buildUi({ entries: ['ui/app/charts/harness.ts'], outdir: dir });
  writeFileSync(
    path.join(dir, 'harness.html'),
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">${appCsp()}<title>charts</title><link rel="stylesheet" href="style.css"><script type="module" src="harness.js"></script></head><body></body></html>\n`,
  );
  return serveDir(dir, 'harness.html');
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
