// Bundles the renderer (ui/app) for Electron and the browser fallback: one ES module per entry, d3, three
// and dagre inlined, no inline scripts (the Content-Security-Policy forbids them), plus index.html and the
// stylesheet. The renderer is type-checked by `tsc -p tsconfig.ui.json`; esbuild only strips and bundles.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const UI_DIST = path.join(ROOT, 'dist', 'ui', 'app');

/** Entries: the app, and the graph layout worker (layout runs off the UI thread, as Netron does). */
const ENTRIES = ['ui/app/main.ts', 'ui/app/graph/layout-worker.ts'];

export async function buildUi(opts: { entries?: readonly string[]; outdir?: string } = {}): Promise<void> {
  const outdir = opts.outdir ?? UI_DIST;
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: (opts.entries ?? ENTRIES).map((e) => path.join(ROOT, e)),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outdir,
    sourcemap: true,
    minify: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  // the sandboxed preload must be one CommonJS file that requires nothing but 'electron'
  if (!opts.entries)
    await build({ entryPoints: [path.join(ROOT, 'electron', 'preload.ts')], bundle: true, format: 'cjs', platform: 'node', external: ['electron'], target: 'node20', outfile: path.join(ROOT, 'dist', 'electron', 'preload.cjs'), logLevel: 'warning' });
  for (const f of ['index.html', 'style.css']) copyFileSync(path.join(ROOT, 'ui', 'app', f), path.join(outdir, f));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildUi();
