// The browser fallback: the same ui/ served by a loopback-only HTTP server that implements the TandemApi as
// POST /api/<method> (JSON body {..} -> {"result": ..} or {"error": "..."}) and job events as Server-Sent
// Events (GET /api/events). Other pages the user's browser has open can reach loopback too, so every API
// request must carry the session token (printed in the URL the app opens) and a loopback Host header (no
// DNS rebinding); bodies are capped, payloads validated.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { API_METHODS, MAX_BODY_BYTES, type ApiMethod, type JobEvent, type TandemApi } from '../api/types.js';
import { ApiInputError, validateCall } from '../api/validate.js';
import { NotFoundError } from './backend.js';

/** The Content-Security-Policy of the app's pages: index.html's meta tag holds CSP_META (for Electron's
 * file:// load); a meta tag cannot carry frame-ancestors, so only the server's header adds it. */
export const CSP_META = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";
export const CSP = `${CSP_META}; frame-ancestors 'none'`;

const LOOPBACK = new Set(['127.0.0.1', '::1']);
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

export interface AppServerOptions {
  readonly api: TandemApi & { onJobEvent(l: (e: JobEvent) => void): () => void };
  /** The bundled renderer (dist/ui/app). */
  readonly staticDir: string;
  /** 127.0.0.1 (default) or ::1: anything else is refused. */
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  readonly token?: string;
}

export interface AppServer {
  /** The URL to open, with the session token. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new HttpError(413, `request body of ${declared} bytes: at most ${MAX_BODY_BYTES} bytes are accepted`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        // answered by the caller; the connection is closed once the answer is out (see the server)
        req.removeAllListeners('data');
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes: refused`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startAppServer(o: AppServerOptions): Promise<AppServer> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`the app server binds to loopback only (127.0.0.1 or ::1), not ${host}`);
  if (!existsSync(path.join(o.staticDir, 'index.html'))) throw new Error(`${o.staticDir}: no index.html (run \`npm run build\` first)`);
  const token = o.token ?? randomBytes(24).toString('hex');
  const tokenBuf = Buffer.from(token);
  const root = path.resolve(o.staticDir);
  let port = 0;

  const tokenOk = (given: string | undefined) => {
    const b = Buffer.from(given ?? '');
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };
  const hostOk = (h: string | undefined) => h === `127.0.0.1:${port}` || h === `localhost:${port}` || h === `[::1]:${port}`;

  async function api(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, `${method}: use POST with a JSON body`);
    if (!tokenOk(req.headers['x-tandem-token'] as string | undefined)) throw new HttpError(403, 'missing or wrong session token (open the URL the app printed)');
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, `${method}: expected content-type application/json`);
    if (!(API_METHODS as readonly string[]).includes(method)) throw new HttpError(404, `unknown API method ${JSON.stringify(method.slice(0, 60))}: expected one of ${API_METHODS.join(', ')}`);
    const text = await readBody(req);
    let payload: unknown;
    try {
      payload = text.trim() ? JSON.parse(text) : {};
    } catch (e) {
      throw new HttpError(400, `${method}: the body is not JSON: ${(e as Error).message}`);
    }
    const args = validateCall(method as ApiMethod, payload);
    const fn = o.api[method as ApiMethod] as (...a: unknown[]) => Promise<unknown>;
    send(res, 200, { result: await fn.apply(o.api, args as unknown[]) });
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!tokenOk(url.searchParams.get('token') ?? undefined)) throw new HttpError(403, 'missing or wrong session token');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': tandem job events\n\n');
    const off = o.api.onJobEvent((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      off();
      clearInterval(ping);
    });
  }

  function file(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'static files: GET only');
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      throw new HttpError(400, 'bad URL encoding');
    }
    if (rel === '/') rel = '/index.html';
    const full = path.resolve(root, '.' + rel);
    if (rel.includes('\0') || (full !== root && !full.startsWith(root + path.sep))) throw new HttpError(403, `${rel}: outside the app's folder`);
    if (!existsSync(full) || !statSync(full).isFile()) throw new HttpError(404, `${rel}: not found`);
    const body = readFileSync(full);
    res.writeHead(200, { 'content-type': TYPES[path.extname(full)] ?? 'application/octet-stream', 'content-length': body.length, 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        if (!hostOk(req.headers.host)) throw new HttpError(421, `Host ${JSON.stringify(req.headers.host)}: the app answers only on 127.0.0.1:${port} / localhost:${port}`);
        const p = (req.url ?? '/').split('?')[0];
        if (p === '/api/events') return events(req, res);
        if (p.startsWith('/api/')) return await api(req, res, p.slice('/api/'.length));
        return file(req, res);
      } catch (e) {
        const status = e instanceof HttpError ? e.status : e instanceof ApiInputError ? 400 : e instanceof NotFoundError ? 404 : 500;
        if (status === 413) {
          // the client may still be sending: stop reading it once the answer is out
          res.setHeader('connection', 'close');
          res.on('finish', () => req.socket.destroy());
        }
        if (!res.headersSent) send(res, status, { error: (e as Error).message });
        else res.end();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shown = host === '::1' ? `[::1]` : host;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
