// The Electron shell's security settings, as data, so a test can assert them without the Electron binary
// (it cannot download on every machine). main.ts builds its window and IPC from these and nothing else.
import type { ApiMethod } from '../ui/api/types.js';

/** Renderer isolation: no Node in the page, the preload in its own world, Chromium's sandbox on. */
export const WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  experimentalFeatures: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const;

export interface WindowOptions {
  readonly width: number;
  readonly height: number;
  readonly show: boolean;
  readonly title: string;
  readonly backgroundColor: string;
  readonly webPreferences: typeof WEB_PREFERENCES & { readonly preload: string };
}

export function windowOptions(preload: string): WindowOptions {
  return { width: 1400, height: 900, show: false, title: 'Tandem', backgroundColor: '#fafbfc', webPreferences: { ...WEB_PREFERENCES, preload } };
}

/** The two IPC channels: calls (invoke/handle) and job events (main -> renderer). */
export const CHANNELS = { call: 'tandem:call', event: 'tandem:event' } as const;

/** Messages between main and the backend utilityProcess. */
export type BackendRequest = { readonly id: number; readonly method: ApiMethod; readonly args: readonly unknown[] };
export type BackendMessage =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string; readonly name: string }
  | { readonly event: unknown };

/** Only the app's own pages may call the API or be navigated to: file:// URLs inside its folder. */
export function isAppUrl(url: string, appDir: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'file:') return false;
  const p = decodeURIComponent(u.pathname);
  const root = appDir.endsWith('/') ? appDir : `${appDir}/`;
  return p.startsWith(root) && !p.includes('/../');
}
