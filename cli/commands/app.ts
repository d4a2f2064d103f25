// The desktop app: Electron when its binary is installed (an optional dependency: it cannot download on
// every machine), else the same UI in the system browser, served by a loopback-only server (ui/server).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { storePath } from '../../codesign/run-store.js';
import { Backend, ROOT } from '../../ui/server/backend.js';
import { startAppServer } from '../../ui/server/http.js';

export interface AppFlags {
  readonly open?: boolean;
  readonly port?: number;
  readonly workspace?: string;
  readonly store?: string;
  /** Force the browser fallback even when Electron is installed. */
  readonly browser?: boolean;
}

/** $TANDEM_WORKSPACE, else ~/.local/share/tandem (jobs, uploaded models). */
export function workspacePath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.TANDEM_WORKSPACE) return path.resolve(env.TANDEM_WORKSPACE);
  return path.join(env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'tandem');
}

/** The Electron binary's path, or why there is none. The npm package's main export is that path; it throws
 * when the binary was never downloaded. */
export function electronBinary(): { path: string } | { missing: string } {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' ? { path: p } : { missing: 'the electron package did not give a binary path' };
  } catch (e) {
    return { missing: (e as Error).message.split('\n')[0] };
  }
}

export async function appCommand(f: AppFlags): Promise<void> {
  const workspace = workspacePath(f.workspace);
  const store = storePath(f.store);
  const electron = f.browser ? { missing: '--browser' } : electronBinary();
  if ('path' in electron) {
    process.stderr.write(`tandem: starting the desktop app (Electron ${electron.path})\n`);
    const child = spawn(electron.path, [path.join(ROOT, 'dist', 'electron', 'main.js'), `--workspace=${workspace}`, `--store=${store}`], { stdio: 'inherit' });
    await new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`Electron exited with code ${code}`)))));
    return;
  }
  const backend = new Backend({ workspace, store });
  const server = await startAppServer({ api: backend, staticDir: path.join(ROOT, 'dist', 'ui', 'app'), port: f.port ?? 0 });
  process.stderr.write(`tandem: Electron is not installed (${electron.missing}); serving the app on loopback instead.\n`);
  process.stdout.write(`${server.url}\n`);
  if (f.open !== false) {
    const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
    spawn(opener, [server.url], { stdio: 'ignore', detached: true })
      .on('error', () => process.stderr.write(`tandem: could not run ${opener}; open the URL above in a browser\n`))
      .unref();
  }
  process.stderr.write('tandem: Ctrl-C stops the server (and cancels running jobs)\n');
  await new Promise<void>((resolve) => {
    const stop = () => {
      backend.jobs.stopAll();
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
