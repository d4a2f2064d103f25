// The browser fallback's API server, over real HTTP on loopback: it binds to loopback only, refuses calls
// without the session token or with a foreign Host header, rejects malformed payloads (wrong types, unknown
// fields, path traversal in names, oversized bodies) with errors naming the field, leaves nothing behind
// from a bad upload, runs a real job (compile) whose schedule and events arrive through it, and compares a real
// profile job's raw samples with the latency predictors of a small real dataset.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { fashionMnistSplits } from '../cli/commands/data.js';
import { trainImages } from '../cli/commands/accel.js';
import { resolveModel } from '../compiler/models/registry.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { initBackend } from '../compiler/train/backend.js';
import type { Dataset } from '../hw-targets/predictor/dataset.js';
import { inputZeroFractions, layerFeatures } from '../hw-targets/predictor/features.js';
import { LatencyPredictor, METHODS } from '../hw-targets/predictor/predictor.js';
import { OUTSIDE_ROW, predictorFor } from '../hw-targets/predictor/target.js';
import { MAX_BODY_BYTES, type JobEvent, type JobInfo, type LatencyComparison } from '../ui/api/types.js';
import { Backend, ROOT } from '../ui/server/backend.js';
import { type AppServer, startAppServer } from '../ui/server/http.js';
import { jobArgs } from '../ui/server/jobs.js';

const STATIC = path.join(ROOT, 'dist', 'ui', 'app');
let tmp: string;
let backend: Backend;
let server: AppServer;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'tandem-ui-server-'));
  backend = new Backend({ workspace: path.join(tmp, 'ws'), store: path.join(tmp, 'runs.sqlite') });
  server = await startAppServer({ api: backend, staticDir: STATIC });
});
after(async () => {
  backend.jobs.stopAll();
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Res {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function raw(o: { method?: string; path: string; headers?: Record<string, string | number>; body?: string | Buffer }): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: o.method ?? 'GET', path: o.path, headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    if (o.body !== undefined) req.end(o.body);
    else req.end();
  });
}

const call = (method: string, payload: unknown, headers: Record<string, string> = {}) =>
  raw({ method: 'POST', path: `/api/${method}`, headers: { 'content-type': 'application/json', 'x-tandem-token': server.token, ...headers }, body: JSON.stringify(payload) });

async function error(method: string, payload: unknown): Promise<{ status: number; error: string }> {
  const r = await call(method, payload);
  return { status: r.status, error: (JSON.parse(r.body) as { error: string }).error };
}

test('binds to loopback only and says so when asked otherwise', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
  await assert.rejects(startAppServer({ api: backend, staticDir: STATIC, host: '0.0.0.0' }), /loopback only/);
  await assert.rejects(startAppServer({ api: backend, staticDir: STATIC, host: '192.168.1.2' }), /loopback only/);
});

test('session token, Host header, method and content type are enforced', async () => {
  assert.equal((await call('project', {}, { 'x-tandem-token': 'nope' })).status, 403);
  assert.equal((await raw({ method: 'POST', path: '/api/project', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 403);
  const rebinding = await call('project', {}, { host: `evil.example:${server.port}` });
  assert.equal(rebinding.status, 421);
  assert.match(rebinding.body, /answers only on 127\.0\.0\.1/);
  assert.equal((await raw({ path: '/api/project', headers: { 'x-tandem-token': server.token } })).status, 405);
  assert.equal((await call('project', {}, { 'content-type': 'text/plain' })).status, 415);
  assert.equal((await raw({ path: '/api/events' })).status, 403);
  const ok = await call('project', {});
  assert.equal(ok.status, 200);
  const p = (JSON.parse(ok.body) as { result: { models: { ref: string }[]; accelerators: { name: string }[] } }).result;
  assert.ok(p.models.some((m) => m.ref === 'fmnist-vgg'));
  assert.ok(p.accelerators.some((a) => a.name === 'rram-128'));
});

test('static files: the app with its CSP; nothing outside its folder', async () => {
  const index = await raw({ path: '/' });
  assert.equal(index.status, 200);
  assert.match(String(index.headers['content-security-policy']), /script-src 'self'/);
  assert.equal(index.headers['x-content-type-options'], 'nosniff');
  for (const p of ['/../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/graph/../../../package.json']) {
    const r = await raw({ path: p });
    assert.ok(r.status === 403 || r.status === 404, `${p}: ${r.status}`);
    assert.doesNotMatch(r.body, /"name": "tandem"/);
  }
});

test('job requests become the exact tandem command lines', () => {
  const args = (req: Parameters<typeof jobArgs>[0]) => jobArgs(req, (ref) => `<${ref}>`, 'runs.sqlite').args.join(' ');
  assert.equal(args({ kind: 'prune', model: 'fmnist-vgg', keep: 'conv1=0.5,conv3=0.25', evalLimit: 500 }), 'prune <fmnist-vgg> --criterion l1 --keep conv1=0.5,conv3=0.25 --eval-limit 500');
  assert.equal(args({ kind: 'prune', model: 'job:j1-a', target: 'macs=0.5' }), 'prune <job:j1-a> --criterion l1 --target macs=0.5');
  assert.equal(args({ kind: 'quantize', model: 'fmnist-vgg', bits: 8, layerBits: 'conv3=4' }), 'quantize <fmnist-vgg> --mode ptq --weight-bits 8 --layer-bits conv3=4');
  assert.equal(args({ kind: 'simulate', model: 'fmnist-vgg', accel: 'pcm-256', mode: 'analog', drift: ['0', '1d'], driftCompensation: false }), 'simulate <fmnist-vgg> --accel pcm-256 --mode analog --drift 0,1d --no-drift-compensation');
});

test('malformed payloads are rejected with the method, field and expectation named', async () => {
  const cases: [string, unknown, number, RegExp][] = [
    ['openModel', { model: 5 }, 400, /openModel: field model: expected a non-empty string/],
    ['openModel', { model: 'fmnist-vgg', extra: 1 }, 400, /field extra: expected one of the fields model \(unknown field\)/],
    ['openModel', { model: '../../etc/passwd' }, 400, /field model: expected a built-in model name/],
    ['openModel', { model: 'upload:../../etc/passwd' }, 400, /field model/],
    ['openModel', { model: 'job:j1-x/../../..' }, 400, /field model/],
    ['openModel', { model: 'no-such-model' }, 404, /not a built-in model/],
    ['openModel', [], 400, /expected an object/],
    ['uploadModel', { name: '../evil.onnx', base64: '' }, 400, /field name: expected a plain file name/],
    ['uploadModel', { name: '.hidden.onnx', base64: '' }, 400, /field name/],
    ['uploadModel', { name: 'a/b.onnx', base64: '' }, 400, /field name/],
    ['uploadModel', { name: 'model.onnx', base64: 'not base64!' }, 400, /field base64: expected the file as base64/],
    ['startJob', { kind: 'simulate', model: 'fmnist-vgg', accel: 'rram-128', mode: 'fast' }, 400, /field mode: expected one of exact, analog, got "fast"/],
    ['startJob', { kind: 'simulate', model: 'fmnist-vgg', accel: 'rram-128', mode: 'exact', limit: 1.5 }, 400, /field limit: expected an integer in \[1, 10000\]/],
    ['startJob', { kind: 'simulate', model: 'fmnist-vgg', accel: 'rram-128', mode: 'exact', set: { 'adc.bits': '6; rm -rf /' } }, 400, /field set\.adc\.bits/],
    ['startJob', { kind: 'simulate', model: 'fmnist-vgg', accel: 'no-such-accel', mode: 'exact' }, 400, /field accel: expected one of/],
    ['startJob', { kind: 'simulate', model: 'fmnist-vgg', accel: 'pcm-256', mode: 'analog', driftCompensation: 'no' }, 400, /field driftCompensation: expected true or false, got "no"/],
    ['startJob', { kind: 'compile', model: 'fmnist-vgg', accel: '../../x' }, 400, /field accel/],
    ['startJob', { kind: 'profile', model: 'fmnist-vgg', target: 'serial:/dev/../etc/passwd' }, 400, /field target/],
    ['startJob', { kind: 'train' }, 400, /field kind: expected one of compress/],
    ['startJob', { kind: 'prune', model: 'fmnist-vgg', target: 'macs=0.5', keep: 'conv1=0.5' }, 400, /field target: expected either target \(whole network\) or keep \(per layer\), not both/],
    ['startJob', { kind: 'prune', model: 'fmnist-vgg', keep: 'conv1=0.5;rm' }, 400, /field keep: expected LAYER=F,\.\.\./],
    ['startJob', { kind: 'quantize', model: 'fmnist-vgg', bits: 8, layerBits: 'conv1=9' }, 400, /field layerBits: expected LAYER=B,\.\.\. \(weight bits 2\.\.8 per layer\)/],
    ['cancelJob', { jobId: '../../x' }, 400, /field jobId: expected a job id/],
    ['jobResult', { jobId: 'j999-zz' }, 404, /no job j999-zz/],
    ['latencyComparison', { dataset: '../../package' }, 400, /field dataset/],
    ['codesignRun', { run: -1 }, 400, /field run: expected an integer/],
    ['boardInfo', { port: '/etc/passwd' }, 400, /field port: expected a serial device path/],
  ];
  for (const [method, payload, status, re] of cases) {
    const r = await error(method, payload);
    assert.equal(r.status, status, `${method} ${JSON.stringify(payload)}: ${r.error}`);
    assert.match(r.error, re, `${method} ${JSON.stringify(payload)}`);
  }
  const unknown = await call('deleteEverything', {});
  assert.equal(unknown.status, 404);
  assert.match((JSON.parse(unknown.body) as { error: string }).error, /unknown API method "deleteEverything"/);
  const badJson = await raw({ method: 'POST', path: '/api/project', headers: { 'content-type': 'application/json', 'x-tandem-token': server.token }, body: '{"a":' });
  assert.equal(badJson.status, 400);
  assert.match(badJson.body, /the body is not JSON/);
});

test('oversized bodies are refused (declared and streamed), and the server stays up', async () => {
  const declared = await raw({ method: 'POST', path: '/api/uploadModel', headers: { 'content-type': 'application/json', 'x-tandem-token': server.token, 'content-length': MAX_BODY_BYTES + 1 }, body: Buffer.alloc(0) }).catch((e: Error) => ({ status: -1, body: e.message, headers: {} }));
  assert.equal(declared.status, 413, declared.body);
  const streamed = await new Promise<number>((resolve) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/uploadModel', headers: { 'content-type': 'application/json', 'x-tandem-token': server.token, 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', () => resolve(-1));
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent <= MAX_BODY_BYTES + (1 << 20)) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  // the server answers 413 and drops the connection; a client may see either
  assert.ok(streamed === 413 || streamed === -1, `streamed oversized body: ${streamed}`);
  assert.equal((await call('project', {})).status, 200);
});

test('a bad upload names the file and leaves nothing behind', async () => {
  const r = await error('uploadModel', { name: 'broken.onnx', base64: Buffer.from('this is not a protobuf').toString('base64') });
  assert.equal(r.status, 400);
  assert.match(r.error, /broken\.onnx is not a model Tandem can read/);
  const dir = path.join(tmp, 'ws', 'uploads');
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
});

test('a compile job through the API: events over SSE, the schedule it wrote, the job on disk', async () => {
  const events: JobEvent[] = [];
  const ac = new AbortController();
  const sse = await fetch(`http://127.0.0.1:${server.port}/api/events?token=${server.token}`, { signal: ac.signal });
  assert.equal(sse.status, 200);
  const reader = sse.body!.getReader();
  let buf = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += Buffer.from(value!).toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (msg.startsWith('data: ')) events.push(JSON.parse(msg.slice(6)) as JobEvent);
      }
    }
  })();
  const started = await call('startJob', { kind: 'compile', model: 'fmnist-vgg', accel: 'rram-128', calib: 32 });
  assert.equal(started.status, 200, started.body);
  const job = (JSON.parse(started.body) as { result: JobInfo }).result;
  assert.match(job.command, /^tandem compile fmnist-vgg --accel rram-128 --calib 32 -o .* --json$/);
  const deadline = Date.now() + 600_000;
  while (!events.some((e) => e.type === 'state' && e.job.id === job.id && e.job.state !== 'running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  ac.abort();
  await reading;
  const end = events.find((e) => e.type === 'state' && e.job.id === job.id && e.job.state !== 'running');
  assert.ok(end && end.type === 'state', 'the job ended within 10 minutes');
  assert.equal(end.job.state, 'done', end.job.error);
  const sched = JSON.parse((await call('schedule', { jobId: job.id })).body) as { result: { arraysUsed: number; blocks: { array: number }[] } };
  const onDisk = JSON.parse(readFileSync(path.join(tmp, 'ws', 'jobs', job.id, 'out', 'schedule.json'), 'utf8')) as { arraysUsed: number; blocks: unknown[] };
  assert.equal(sched.result.arraysUsed, onDisk.arraysUsed);
  assert.equal(sched.result.blocks.length, onDisk.blocks.length);
  assert.ok(sched.result.arraysUsed > 0);
  const stored = JSON.parse(readFileSync(path.join(tmp, 'ws', 'jobs', job.id, 'job.json'), 'utf8')) as JobInfo;
  assert.equal(stored.state, 'done');
  // the compiled model is a model the app can open
  const res = JSON.parse((await call('jobResult', { jobId: job.id })).body) as { result: { model: string } };
  assert.equal(res.result.model, `job:${job.id}`);
  const g = JSON.parse((await call('openModel', { model: res.result.model })).body) as { result: { nodes: unknown[] } };
  assert.ok(g.result.nodes.length > 5);
});

test('cancel stops a running job: state cancelled, the process gone', async () => {
  const started = JSON.parse((await call('startJob', { kind: 'simulate', model: 'fmnist-vgg', accel: 'rram-128', mode: 'analog', limit: 10000 })).body) as { result: JobInfo };
  const id = started.result.id;
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await call('cancelJob', { jobId: id })).status, 200);
  const deadline = Date.now() + 30_000;
  let state = 'running';
  while (state === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    state = backend.jobs.get(id).state;
  }
  assert.equal(state, 'cancelled');
});

test('latencyComparison with a profile job: the job Report\'s raw samples against each predictor on the graph it timed; bad profile ids named', async () => {
  const t0 = Date.now();
  // a small real dataset (the first 30 host variants: the predictor fit takes seconds), fitted into a temp cache
  const full = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'latency', 'host.json'), 'utf8')) as Dataset;
  const file = path.join(tmp, 'ws', 'latency', 'host30.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...full, variants: full.variants.slice(0, 30) }));
  const cacheBefore = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = path.join(tmp, 'cache');
  try {
    // calib 32 keeps the job's PTQ (and the backend's rebuild of it) short
    const job = (JSON.parse((await call('startJob', { kind: 'profile', model: 'fmnist-vgg', target: 'host', repeats: 3, calib: 32 })).body) as { result: JobInfo }).result;
    assert.match(job.command, /^tandem profile fmnist-vgg --target host --repeats 3 --calib 32 --no-store --json$/);
    const running = await error('latencyComparison', { dataset: 'host30', profile: job.id });
    assert.equal(running.status, 404);
    assert.match(running.error, new RegExp(`profile job ${job.id} is running, expected a finished one`));
    const deadline = Date.now() + 120_000;
    while (backend.jobs.get(job.id).state === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(backend.jobs.get(job.id).state, 'done', backend.jobs.get(job.id).error);
    const tJob = Date.now();

    const res = await call('latencyComparison', { dataset: 'host30', profile: job.id });
    assert.equal(res.status, 200, res.body);
    const cmp = (JSON.parse(res.body) as { result: LatencyComparison }).result;
    const tCmp = Date.now();
    const result = await backend.jobResult({ jobId: job.id });
    const report = result.report!;
    assert.deepEqual(cmp.profile, { jobId: job.id, target: 'host', targetName: (result.output as { target: { name: string } }).target.name });
    assert.equal(cmp.model, 'fmnist-vgg');
    assert.equal(cmp.warning, undefined, 'the dataset and the job are both host');
    // measured: every layer of the Report, in its order, with exactly its raw samples (host: seconds already)
    assert.deepEqual(cmp.layers.map((l) => l.layer), report.rows.map((r) => r.layer));
    for (const l of cmp.layers) {
      const r = report.rows.find((x) => x.layer === l.layer)!;
      assert.equal(r.latency!.unit, 's');
      assert.deepEqual(l.samples, r.latency!.samples, l.layer);
      assert.equal(l.samples.length, 3);
    }
    assert.deepEqual(cmp.dropped, { measuredOnly: [], predictedOnly: [OUTSIDE_ROW] });

    // predicted, independently: the job's PTQ (32 training images) and input (test image 0), each node's
    // features, each method per node, summed per original layer
    await initBackend();
    const m = await resolveModel('fmnist-vgg');
    const data = await fashionMnistSplits(m.task, { splitSeed: (m.graph.meta?.seed as number | undefined) ?? 0, valFraction: 1 / 12 });
    const g = quantizeGraph(m.graph, trainImages(data, 32), DEFAULT_QUANTIZE).graph;
    const x = new Float32Array(data.test.inputShape.reduce((a, b) => a * b, 1));
    data.test.fill([0], x, new Float32Array(data.test.targetSize));
    // the graph the job timed: the Report's rows list its nodes
    for (const r of report.rows) assert.deepEqual(r.nodes, g.nodes.filter((n) => n.origin === r.layer).map((n) => n.id), r.layer);
    const features = layerFeatures(g, inputZeroFractions(g, x));
    const predictor = new LatencyPredictor(predictorFor(file));
    for (const method of METHODS) {
      const perNode = predictor.layers(method, features);
      const want = new Map<string, number>();
      g.nodes.forEach((n, i) => want.set(n.origin, (want.get(n.origin) ?? 0) + perNode[i]));
      for (const l of cmp.layers) {
        const w = want.get(l.layer)!;
        assert.ok(Math.abs(l.predicted[method] - w) <= 1e-12 * Math.abs(w), `${l.layer} ${method}: ${l.predicted[method]} vs ${w}`);
      }
    }
    assert.equal(readdirSync(path.join(tmp, 'cache', 'tandem', 'predictors')).length, 1, 'the fit went to the temp cache');

    // ids that are not a finished profile job
    const bad: [unknown, number, RegExp][] = [
      ['../x', 400, /latencyComparison: field profile: expected the id of a finished profile job, such as j3-m1x2k, got "\.\.\/x"/],
      ['j999-zz', 404, /no job j999-zz/],
    ];
    const other = backend.jobs.list().find((j) => j.kind !== 'profile'); // the compile job of the test above
    if (other) bad.push([other.id, 400, new RegExp(`job ${other.id} is a ${other.kind} job, expected a profile job`)]);
    for (const [profile, status, re] of bad) {
      const r = await error('latencyComparison', { dataset: 'host30', profile });
      assert.equal(r.status, status, r.error);
      assert.match(r.error, re);
    }
    const both = await error('latencyComparison', { dataset: 'host30', model: 'vgg-0', profile: job.id });
    assert.equal(both.status, 400);
    assert.match(both.error, /field model: expected no model with profile/);
    console.log(`profile job ${((tJob - t0) / 1000).toFixed(1)} s, latencyComparison ${((tCmp - tJob) / 1000).toFixed(1)} s, test ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    if (cacheBefore === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = cacheBefore;
  }
});
