// Headless Debian Chromium driven by Playwright (playwright-core: it never downloads a browser) for the UI
// tests and benchmarks. The flags keep Chromium off the closed network (it retries refused connections
// otherwise) and give WebGL a software renderer (SwiftShader), since there is no GPU here; compositing in
// software too (with GPU compositing on SwiftShader, a canvas that is only cleared each frame got 12-18 fps).
import { chromium, type Browser } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.TANDEM_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = (): boolean => existsSync(CHROMIUM);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-angle=swiftshader',
      '--disable-gpu-compositing',
      '--enable-unsafe-swiftshader',
    ],
  });
}

/** Where tests put screenshots and other artifacts (kept after the run). */
export function artifactDir(name: string): string {
  const dir = path.join(ROOT, 'out', 'test-artifacts', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A folder of bundled pages served on 127.0.0.1 for a test or benchmark; `cleanup` runs on close. */
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

export function serveDir(dir: string, page: string, cleanup: () => void): Promise<Served> {
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
export function appCsp(): string {
  const html = readFileSync(path.join(ROOT, 'ui', 'app', 'index.html'), 'utf8');
  const meta = /<meta http-equiv="Content-Security-Policy"[^>]*>/.exec(html);
  if (!meta) throw new Error('ui/app/index.html has no Content-Security-Policy meta tag');
  return meta[0];
}
