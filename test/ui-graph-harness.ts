// Serves a bundle on 127.0.0.1 for the graph view's tests and benchmark: the harness page
// (ui/app/graph/harness.ts, which renders a ModelGraph it is handed, no API) or the real app, under the
// app's own Content-Security-Policy. Module workers need http(s), not file:.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildUi } from '../ui/build.js';
import { type Served, appCsp, serveDir } from './ui-browser.js';

export type { Served };

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
