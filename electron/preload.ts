// The preload: the renderer's only door to the app, exposed as window.tandem (a TandemBridge). Sandboxed
// preloads are CommonJS and may only require 'electron': esbuild bundles this file to dist/electron/preload.cjs.
import { API_METHODS, type JobEvent, type TandemApi, type TandemBridge } from '../ui/api/types.js';
import { CHANNELS } from './config.js';

interface PreloadElectron {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: unknown, payload: unknown) => void): void;
    removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): void;
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload has only require('electron')
const { contextBridge, ipcRenderer } = require('electron') as PreloadElectron;

const calls = Object.fromEntries(API_METHODS.map((m) => [m, (payload?: unknown) => ipcRenderer.invoke(CHANNELS.call, m, payload ?? {})])) as unknown as TandemApi;

const bridge = {
  ...calls,
  onJobEvent(listener: (e: JobEvent) => void) {
    const wrapped = (_event: unknown, payload: unknown) => listener(payload as JobEvent);
    ipcRenderer.on(CHANNELS.event, wrapped);
    return () => ipcRenderer.removeListener(CHANNELS.event, wrapped);
  },
} satisfies TandemBridge;

contextBridge.exposeInMainWorld('tandem', bridge);
