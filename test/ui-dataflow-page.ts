// The dataflow view's harness page (ui/app/dataflow/harness.ts) in headless Chromium, for its test and
// benchmark: bundled with buildUi into a temp dir and served, with the data files given, from a made-up
// origin through page.route (nothing listens on a port). The page keeps the app's Content-Security-Policy.
import type { Browser, Page } from 'playwright-core';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildUi } from '../ui/build.js';
import { ROOT } from './ui-browser.js';

export const ORIGIN = 'http://dataflow.test';

export interface HarnessBundle {
  readonly dir: string;
  dispose(): void;
}

export async function bundleHarness(): Promise<HarnessBundle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-ui-dataflow-'));
  await buildUi({ entries: ['ui/app/dataflow/harness.ts'], outdir: dir });
  const csp = /<meta http-equiv="Content-Security-Policy"[^>]*>/.exec(readFileSync(path.join(ROOT, 'ui', 'app', 'index.html'), 'utf8'))?.[0];
  if (!csp) throw new Error('ui/app/index.html has no Content-Security-Policy meta');
  writeFileSync(
    path.join(dir, 'harness.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8">${csp}<link rel="stylesheet" href="style.css"><script type="module" src="harness.js"></script></head><body><main id="view"></main></body></html>`,
  );
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json' };

/** A page on the harness; `files` (name → contents) are served beside it. Errors the page reports
 * (exceptions, console errors such as CSP violations) are collected in `errors`. */
export async function openHarness(browser: Browser, bundle: HarnessBundle, files: Readonly<Record<string, string>>, viewport = { width: 1700, height: 1000 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.route(`${ORIGIN}/**`, (route) => {
    const name = new URL(route.request().url()).pathname.slice(1);
    const file = path.join(bundle.dir, name);
    const body = files[name] ?? (/^[\w.-]+$/.test(name) && existsSync(file) ? readFileSync(file) : undefined);
    return body === undefined ? route.fulfill({ status: 404 }) : route.fulfill({ body, contentType: TYPES[path.extname(name)] ?? 'application/octet-stream' });
  });
  await page.goto(`${ORIGIN}/harness.html`);
  await page.waitForFunction(() => 'dfHarness' in globalThis);
  return { page, errors };
}
