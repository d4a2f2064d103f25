// The Electron shell's security settings, asserted without the Electron binary (it cannot download here):
// the window's webPreferences, the CSP (the same in the page's meta tag and the server's header, no inline
// or eval), which URLs count as the app's own, and the bundled preload run in a vm with a stand-in for
// Electron's contextBridge/ipcRenderer (named so: no Electron exists on this machine) to check that it exposes
// exactly the API's methods plus onJobEvent and forwards each on the one call channel.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import vm from 'node:vm';
import { CHANNELS, WEB_PREFERENCES, isAppUrl, windowOptions } from '../electron/config.js';
import { API_METHODS } from '../ui/api/types.js';
import { ROOT } from '../ui/server/backend.js';
import { CSP, CSP_META } from '../ui/server/http.js';

test('window: context isolation, sandbox, no Node integration anywhere, web security on', () => {
  const o = windowOptions('/app/preload.cjs');
  assert.equal(o.webPreferences.contextIsolation, true);
  assert.equal(o.webPreferences.sandbox, true);
  assert.equal(o.webPreferences.nodeIntegration, false);
  assert.equal(o.webPreferences.nodeIntegrationInWorker, false);
  assert.equal(o.webPreferences.nodeIntegrationInSubFrames, false);
  assert.equal(o.webPreferences.webSecurity, true);
  assert.equal(o.webPreferences.allowRunningInsecureContent, false);
  assert.equal(o.webPreferences.webviewTag, false);
  assert.equal(o.webPreferences.preload, '/app/preload.cjs');
  assert.deepEqual(Object.keys(o.webPreferences).sort(), [...Object.keys(WEB_PREFERENCES), 'preload'].sort());
});

test('CSP: strict; index.html carries the server header\'s policy but frame-ancestors (not allowed in a meta tag)', () => {
  const html = readFileSync(path.join(ROOT, 'ui', 'app', 'index.html'), 'utf8');
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(meta, 'index.html has a CSP meta tag');
  assert.equal(meta[1], CSP_META);
  assert.equal(CSP, `${CSP_META}; frame-ancestors 'none'`);
  const directives = new Map(CSP.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(directives.get('default-src'), ["'self'"]);
  assert.deepEqual(directives.get('script-src'), ["'self'"]);
  assert.deepEqual(directives.get('object-src'), ["'none'"]);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
  assert.doesNotMatch(CSP, /unsafe-inline|unsafe-eval|\*/);
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, 'no inline scripts');
});

test('only file:// pages inside the app folder are the app', () => {
  assert.ok(isAppUrl('file:///opt/tandem/dist/ui/app/index.html', '/opt/tandem/dist/ui/app'));
  assert.ok(!isAppUrl('file:///opt/tandem/dist/ui/app/../../secret.html', '/opt/tandem/dist/ui/app'));
  assert.ok(!isAppUrl('file:///opt/tandem/dist/ui/apps/index.html', '/opt/tandem/dist/ui/app'));
  assert.ok(!isAppUrl('https://example.com/index.html', '/opt/tandem/dist/ui/app'));
  assert.ok(!isAppUrl('not a url', '/opt/tandem/dist/ui/app'));
});

test('the bundled preload exposes exactly the API and forwards calls on one channel (stand-in Electron)', async () => {
  const code = readFileSync(path.join(ROOT, 'dist', 'electron', 'preload.cjs'), 'utf8');
  const exposed = new Map<string, Record<string, (...a: unknown[]) => unknown>>();
  const invoked: unknown[][] = [];
  const listeners = new Map<string, ((e: unknown, p: unknown) => void)[]>();
  const standInElectron = {
    contextBridge: { exposeInMainWorld: (k: string, api: Record<string, (...a: unknown[]) => unknown>) => exposed.set(k, api) },
    ipcRenderer: {
      invoke: (...a: unknown[]) => (invoked.push(a), Promise.resolve('ok')),
      on: (ch: string, l: (e: unknown, p: unknown) => void) => listeners.set(ch, [...(listeners.get(ch) ?? []), l]),
      removeListener: (ch: string, l: (e: unknown, p: unknown) => void) => listeners.set(ch, (listeners.get(ch) ?? []).filter((x) => x !== l)),
    },
  };
  const required: string[] = [];
  const sandboxRequire = (m: string) => {
    required.push(m);
    if (m !== 'electron') throw new Error(`a sandboxed preload cannot require ${m}`);
    return standInElectron;
  };
  vm.runInNewContext(code, { require: sandboxRequire, module: { exports: {} }, exports: {} });
  assert.deepEqual(required, ['electron']);
  assert.deepEqual([...exposed.keys()], ['tandem']);
  const api = exposed.get('tandem')!;
  assert.deepEqual([...Object.keys(api)].sort(), [...API_METHODS, 'onJobEvent'].sort());
  assert.equal(await api.openModel({ model: 'fmnist-vgg' }), 'ok');
  await api.project();
  // the preload runs in another realm: compare plain copies
  const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
  assert.deepEqual(plain(invoked), [
    [CHANNELS.call, 'openModel', { model: 'fmnist-vgg' }],
    [CHANNELS.call, 'project', {}],
  ]);
  const got: unknown[] = [];
  const off = api.onJobEvent((e: unknown) => got.push(e)) as () => void;
  for (const l of listeners.get(CHANNELS.event)!) l({ sender: 'ignored' }, { type: 'log', jobId: 'j1-a', line: 'x' });
  off();
  assert.equal(listeners.get(CHANNELS.event)!.length, 0);
  assert.deepEqual(plain(got), [{ type: 'log', jobId: 'j1-a', line: 'x' }]);
});
