// Electron's main process, kept thin: one window on the bundled ui/ (sandboxed, context-isolated, strict CSP),
// the API over ipcMain.handle with every payload validated and every sender checked, and the backend in a
// utilityProcess (backend-process.ts). `tandem start` launches it when the Electron binary is installed.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiMethod } from '../ui/api/types.js';
import { validateCall } from '../ui/api/validate.js';
import { CSP } from '../ui/server/http.js';
import { type BackendMessage, CHANNELS, isAppUrl, windowOptions } from './config.js';

// The subset of Electron's API used here, typed locally: the electron package (and its types) is optional.
interface Window {
  loadFile(file: string): Promise<void>;
  once(event: 'ready-to-show', fn: () => void): void;
  show(): void;
  webContents: {
    send(channel: string, payload: unknown): void;
    setWindowOpenHandler(fn: () => { action: 'deny' }): void;
    on(event: 'will-navigate', fn: (e: { preventDefault(): void }, url: string) => void): void;
  };
}
interface UtilityProcess {
  postMessage(m: unknown): void;
  on(event: 'message', fn: (m: BackendMessage) => void): void;
  on(event: 'exit', fn: (code: number) => void): void;
  kill(): boolean;
}
interface ElectronMain {
  app: { whenReady(): Promise<void>; on(event: 'window-all-closed' | 'before-quit', fn: () => void): void; quit(): void };
  BrowserWindow: new (o: ReturnType<typeof windowOptions>) => Window;
  ipcMain: { handle(channel: string, fn: (e: { senderFrame: { url: string } | null }, method: unknown, payload: unknown) => Promise<unknown>): void };
  utilityProcess: { fork(modulePath: string, args: string[], o: { serviceName: string; stdio: 'inherit' }): UtilityProcess };
  session: {
    defaultSession: {
      setPermissionRequestHandler(fn: (wc: unknown, permission: string, cb: (ok: boolean) => void) => void): void;
      webRequest: { onHeadersReceived(fn: (d: { responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void): void };
    };
  };
}

const ELECTRON = 'electron';
const { app, BrowserWindow, ipcMain, utilityProcess, session } = (await import(ELECTRON)) as ElectronMain;

const here = path.dirname(fileURLToPath(import.meta.url));
const appDir = path.resolve(here, '..', 'ui', 'app');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`));

await app.whenReady();
session.defaultSession.setPermissionRequestHandler((_wc, _permission, cb) => cb(false));
session.defaultSession.webRequest.onHeadersReceived((d, cb) => cb({ responseHeaders: { ...d.responseHeaders, 'Content-Security-Policy': [CSP] } }));

const win = new BrowserWindow(windowOptions(path.join(here, 'preload.cjs')));
const backend = utilityProcess.fork(path.join(here, 'backend-process.js'), [arg('workspace') ?? '', arg('store') ?? ''].filter(Boolean), { serviceName: 'tandem-backend', stdio: 'inherit' });
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
let nextId = 0;
backend.on('message', (m) => {
  if ('event' in m) return win.webContents.send(CHANNELS.event, m.event);
  const p = pending.get(m.id);
  pending.delete(m.id);
  if ('error' in m) p?.reject(Object.assign(new Error(m.error), { name: m.name }));
  else p?.resolve(m.result);
});
backend.on('exit', (code) => {
  for (const p of pending.values()) p.reject(new Error(`the backend process exited (code ${code})`));
  pending.clear();
});

ipcMain.handle(CHANNELS.call, async (e, method, payload) => {
  if (!e.senderFrame || !isAppUrl(e.senderFrame.url, appDir)) throw new Error('API calls are accepted only from the app\'s own pages');
  const args = validateCall(method as ApiMethod, payload);
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    backend.postMessage({ id, method, args });
  });
});

win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
win.webContents.on('will-navigate', (e, url) => {
  if (!isAppUrl(url, appDir)) e.preventDefault();
});
win.once('ready-to-show', () => win.show());
await win.loadFile(path.join(appDir, 'index.html'));

app.on('window-all-closed', () => app.quit());
app.on('before-quit', () => backend.kill());
