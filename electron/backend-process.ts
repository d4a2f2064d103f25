// The backend in Electron's utilityProcess: main forwards each validated call here and relays job events
// back, so no model loading, store reading or board I/O ever blocks the main process.
import type { ApiMethod } from '../ui/api/types.js';
import { Backend } from '../ui/server/backend.js';
import type { BackendMessage, BackendRequest } from './config.js';

interface ParentPort {
  on(event: 'message', listener: (e: { data: BackendRequest }) => void): void;
  postMessage(message: BackendMessage): void;
}

const port = (process as unknown as { parentPort: ParentPort }).parentPort;
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const backend = new Backend({ workspace: arg('workspace')!, store: arg('store')! });
backend.onJobEvent((event) => port.postMessage({ event }));

port.on('message', ({ data }) => {
  const fn = backend[data.method as ApiMethod] as (...a: unknown[]) => Promise<unknown>;
  fn.apply(backend, [...data.args]).then(
    (result) => port.postMessage({ id: data.id, result }),
    (e: Error) => port.postMessage({ id: data.id, error: e.message, name: e.name }),
  );
});
