// Headless Debian Chromium driven by Playwright (playwright-core: it never downloads a browser) for the UI
// tests and benchmarks. The flags keep Chromium off the closed network (it retries refused connections
// otherwise) and give WebGL a software renderer (SwiftShader), since there is no GPU here; compositing in
// software too (with GPU compositing on SwiftShader, a canvas that is only cleared each frame got 12-18 fps).
import { chromium, type Browser } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
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
