// Serves a bundle on 127.0.0.1 for the graph view's tests and benchmark: the harness page
// (ui/app/graph/harness.ts, which renders a ModelGraph it is handed, no API) or the real app, under the
// app's own Content-Security-Policy. Module workers need http(s), not file:.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildUi } from '../ui/build.js';
import { ROOT } from './ui-browser.js';

export interface Served {
  /** The page: the harness (harness.html) or the app (index.html). */
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

function serveDir(dir: string, page: string, cleanup: () => void): Promise<Served> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const file = path.resolve(dir, rel);
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
              cleanup();
              done();
            });
          }),
      });
    }),
  );
}

/** The app's CSP meta tag, taken from index.html so the harness runs under the same policy. */
function appCsp(): string {
  const html = readFileSync(path.join(ROOT, 'ui', 'app', 'index.html'), 'utf8');
  const meta = /<meta http-equiv="Content-Security-Policy"[^>]*>/.exec(html);
  if (!meta) throw new Error('ui/app/index.html has no Content-Security-Policy meta tag');
  return meta[0];
}

/** Bundles the harness and the layout worker into a temp dir and serves harness.html. */
export async function serveGraphHarness(): Promise<Served> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-ui-graph-'));
  await buildUi({ entries: ['ui/app/graph/harness.ts', 'ui/app/graph/layout-worker.ts'], outdir: dir });
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${appCsp()}
<title>graph harness</title><link rel="stylesheet" href="style.css"><script type="module" src="harness.js"></script></head>
<body><main id="view"></main></body></html>`;
  writeFileSync(path.join(dir, 'harness.html'), html);
  return serveDir(dir, 'harness.html', () => rmSync(dir, { recursive: true, force: true }));
}

/** Bundles the app's renderer (main.js, graph/layout-worker.js, as ui/build.ts lays them out) into a temp
 * dir and serves index.html. Entries named, so the build writes nothing else (e.g. Electron's preload). */
export async function serveAppBundle(): Promise<Served> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-ui-app-'));
  await buildUi({ entries: ['ui/app/main.ts', 'ui/app/graph/layout-worker.ts'], outdir: dir });
  return serveDir(dir, 'index.html', () => rmSync(dir, { recursive: true, force: true }));
}
