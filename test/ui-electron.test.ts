// The Electron project: runs only where the Electron binary is installed (an optional dependency whose
// binary cannot download on every machine; here it is skipped, and the browser project in ui-app.test.ts
// covers the same UI). It starts the real main process through Playwright and checks that the page sees
// the preload bridge and nothing of Node, and that an API call goes through the backend utilityProcess.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { _electron } from 'playwright-core';
import { electronBinary } from '../cli/commands/app.js';
import { ROOT } from '../ui/server/backend.js';
import { artifactDir } from './ui-browser.js';

test('Electron: sandboxed page with the preload bridge, an API call through the backend process', async (t) => {
  const bin = electronBinary();
  if (!('path' in bin)) return t.skip(`Electron is not installed (${bin.missing})`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'tandem-electron-'));
  const app = await _electron.launch({
    executablePath: bin.path,
    args: [path.join(ROOT, 'dist', 'electron', 'main.js'), `--workspace=${path.join(tmp, 'ws')}`, `--store=${path.join(tmp, 'runs.sqlite')}`],
  });
  try {
    const page = await app.firstWindow();
    await page.waitForSelector('select.project-model');
    const seen = await page.evaluate(() => ({
      bridge: typeof (globalThis as unknown as { tandem?: unknown }).tandem,
      require: typeof (globalThis as unknown as { require?: unknown }).require,
      process: typeof (globalThis as unknown as { process?: unknown }).process,
    }));
    assert.deepEqual(seen, { bridge: 'object', require: 'undefined', process: 'undefined' });
    const models = await page.evaluate(async () => (await (globalThis as unknown as { tandem: { project(): Promise<{ models: { ref: string }[] }> } }).tandem.project()).models.map((m) => m.ref));
    assert.ok(models.includes('fmnist-vgg'));
    const rejected = await page.evaluate(async () => {
      try {
        await (globalThis as unknown as { tandem: { openModel(p: unknown): Promise<unknown> } }).tandem.openModel({ model: '../../etc/passwd' });
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    });
    assert.match(rejected, /field model: expected a built-in model name/);
    await page.screenshot({ path: path.join(artifactDir('ui-electron'), 'project.png') });
  } finally {
    await app.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
