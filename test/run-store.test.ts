// The run store on real SQLite files: round trip (samples bit for bit), queries, one transaction per run (a
// writer killed with SIGKILL mid-transaction leaves no trace), schema versions, corrupt files, concurrent
// writers; and `tandem profile --store` / `tandem runs` end to end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { graphHash, RunStore, SCHEMA_VERSION, storePath } from '../codesign/run-store.js';
import { loadGraph, saveGraph } from '../compiler/ir/serialize.js';
import type { Node, Tensor } from '../compiler/ir/types.js';
import { resolveModel } from '../compiler/models/registry.js';
import { summarize } from '../hw-targets/targets/stats.js';
import { HOST_TARGET, makeRecord } from './run-store-fixtures.js';
import { runCli } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tandem-run-store-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let k = 0;
const fresh = () => path.join(tmp, `s${k++}`, 'runs.sqlite');
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run-store-child.js');

/** Samples compared as bytes: NaN, -0 and every other double must come back identical. */
const bits = (a: readonly number[]) => Buffer.from(Float64Array.from(a).buffer).toString('hex');

test('round trip: the stored Report equals the written one, every sample bit for bit; derived stats', () => {
  const file = fresh();
  const s = RunStore.open(file);
  const rec = makeRecord({ label: 'a', layers: 22, samples: 50, seed: 3, special: true });
  const id = s.save(rec);
  s.close();
  const r = RunStore.open(file).get(id)!;
  assert.deepEqual(r.report.rows.map((x) => x.layer), rec.report.rows.map((x) => x.layer));
  rec.report.rows.forEach((row, i) => {
    const got = r.report.rows[i];
    assert.equal(bits(got.latency?.samples ?? []), bits(row.latency?.samples ?? []), `layer ${row.layer}`);
    const st = r.layerStats[i];
    if (row.latency) {
      const want = summarize(row.latency.samples);
      assert.ok(Object.is(st!.median, want.median) && Object.is(st!.min, want.min) && Object.is(st!.iqr, want.iqr), `stats of ${row.layer}`);
    } else assert.equal(st, undefined);
  });
  assert.equal(bits(r.report.total!.latency!.samples), bits(rec.report.total!.latency!.samples));
  // row 0 holds NaN and -0: deepEqual (SameValue for NaN) on everything else of the Report
  assert.ok(Object.is(r.report.rows[0].latency!.samples[0], -0));
  assert.deepEqual(r.report, rec.report);
  assert.deepEqual(
    { command: r.command, argv: r.argv, model: r.model, targetSpec: r.targetSpec, target: r.target, options: r.options, notes: r.notes },
    { command: rec.command, argv: rec.argv, model: rec.model, targetSpec: rec.targetSpec, target: rec.target, options: rec.options, notes: rec.notes },
  );
  assert.equal(r.status, 'complete');
});

test('queries by model (name, graph name, hash prefix) and target (spec, id, kind, board id); --limit; WAL', () => {
  const file = fresh();
  const s = RunStore.open(file);
  const a = s.save(makeRecord({ label: 'a', layers: 3, samples: 5, seed: 1 }));
  const b = s.save(makeRecord({ label: 'b', layers: 3, samples: 5, seed: 2, target: HOST_TARGET }));
  const c = s.save(makeRecord({ label: 'c', layers: 3, samples: 5, seed: 3, model: 'out/dncnn', hash: '0123456789'.repeat(6) + 'abcd' }));
  const ids = (q: Parameters<RunStore['list']>[0]) => s.list(q).map((r) => r.id);
  assert.deepEqual(ids({}), [a, b, c]);
  assert.deepEqual(ids({ model: 'fmnist-vgg' }), [a, b]);
  assert.deepEqual(ids({ model: 'out/dncnn' }), [c]);
  assert.deepEqual(ids({ model: '012345' }), [c]);
  assert.deepEqual(ids({ model: '01234' }), [], 'hash prefixes shorter than 6 digits do not match');
  assert.deepEqual(ids({ model: 'vgg' }), [a, b, c], 'the graph name');
  assert.deepEqual(ids({ target: 'qemu' }), [a, c]);
  assert.deepEqual(ids({ target: 'host' }), [b]);
  assert.deepEqual(ids({ target: 'serial' }), [a, c]);
  assert.deepEqual(ids({ target: 'qemu-mps2-an386' }), [a, c]);
  assert.deepEqual(ids({ target: 'serial:/dev/pts/7', model: 'fmnist-vgg' }), [a]);
  assert.deepEqual(ids({ limit: 2 }), [b, c]);
  const l = s.list({ model: 'out/dncnn' })[0];
  assert.equal(l.layers, 3);
  assert.equal(l.repeats, 5);
  assert.equal(l.total!.unit, 'cycles');
  assert.equal(s.get(999), undefined);
  s.close();
  const db = new Database(file);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(db.prepare('SELECT version FROM schema_version').all(), [{ version: SCHEMA_VERSION }]);
  // a started run (a later version may record them) is never visible
  db.prepare("UPDATE runs SET status = 'started' WHERE id = ?").run(b);
  db.close();
  const s2 = RunStore.open(file);
  assert.deepEqual(s2.list().map((r) => r.id), [a, c]);
  assert.equal(s2.get(b), undefined);
  s2.close();
});

function child(args: string[]) {
  const p = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) => p.on('close', (code, signal) => resolve({ code, signal, out, err })));
  return { p, done, out: () => out };
}

test('a writer killed with SIGKILL in the middle of its transaction leaves no trace; the store stays readable and writable', async () => {
  const file = fresh();
  const s = RunStore.open(file);
  const before = s.save(makeRecord({ label: 'before', layers: 5, samples: 10, seed: 1 }));
  s.close();
  // 4000 layers x 1200 samples: ~19 MB written by the time of the kill, more than the page cache (better-sqlite3
  // builds SQLite with 16 MB), so uncommitted pages have spilled into the WAL
  const c = child(['kill', file, '4000', '1200']);
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (c.out().includes('mid')) {
        clearInterval(t);
        resolve();
      }
    }, 20);
    c.done.then((r) => reject(new Error(`child ended before the kill: ${r.code} ${r.err}`)), reject);
  });
  const wal = statSync(`${file}-wal`).size;
  c.p.kill('SIGKILL');
  const r = await c.done;
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(wal > 1 << 20, `uncommitted pages reached the WAL (${wal} bytes) before the kill`);
  const s2 = RunStore.open(file);
  assert.deepEqual(s2.list().map((x) => x.id), [before]);
  const db = new Database(file);
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM run_layers').get(), { n: 5 });
  db.close();
  const next = s2.save(makeRecord({ label: 'after', layers: 5, samples: 10, seed: 2 }));
  assert.deepEqual(s2.list().map((x) => x.id), [before, next]);
  s2.close();
});

test('two processes writing at once: every run of both is stored', async () => {
  const file = fresh();
  RunStore.open(file).close();
  const [a, b] = await Promise.all([child(['write', file, 'A', '25']).done, child(['write', file, 'B', '25']).done]);
  assert.equal(a.code, 0, a.err);
  assert.equal(b.code, 0, b.err);
  const s = RunStore.open(file);
  const runs = s.list();
  assert.equal(runs.length, 50);
  const labels = runs.map((r) => s.get(r.id)!.options.label as string).sort();
  const want = ['A', 'B'].flatMap((p) => Array.from({ length: 25 }, (_, i) => `${p}-${i}`)).sort();
  assert.deepEqual(labels, want);
  for (const r of runs) assert.equal(r.layers, 40);
  s.close();
});

test('a version 1 store (profiles only) is migrated to version 2: its runs kept, the co-design tables added', () => {
  const file = fresh();
  const s = RunStore.open(file);
  s.save(makeRecord({ label: 'v1', layers: 3, samples: 4, seed: 1 }));
  s.close();
  // what a version 1 store looks like: no co-design tables
  const db = new Database(file);
  db.exec('DROP TABLE codesign_measurements; DROP TABLE codesign_candidates; DROP TABLE codesign_runs; UPDATE schema_version SET version = 1');
  db.close();
  const m = RunStore.open(file);
  assert.equal(m.list().length, 1);
  const cs = m.codesign();
  const id = cs.createRun({ model: 'm' }, 1, ['codesign'], { layers: [] }, 2.5);
  assert.equal(cs.getRun(id)!.seconds, 2.5);
  assert.deepEqual(cs.getRun(id)!.profile, { layers: [] });
  m.close();
  const v = new Database(file, { readonly: true });
  assert.deepEqual(v.prepare('SELECT version FROM schema_version').all(), [{ version: SCHEMA_VERSION }]);
  v.close();
});

test('a store of a newer schema version is refused, naming the file and both versions', () => {
  const file = fresh();
  RunStore.open(file).close();
  const db = new Database(file);
  db.prepare('UPDATE schema_version SET version = 7').run();
  db.close();
  assert.throws(() => RunStore.open(file), (e: Error) => e.name === 'RunStoreError' && e.message.includes(file) && /schema version 7/.test(e.message) && e.message.includes(`version ${SCHEMA_VERSION})`));
});

test('a corrupt file, a damaged store and a foreign SQLite database give clear errors naming the file', () => {
  const junk = fresh();
  RunStore.open(junk).close();
  writeFileSync(junk, Buffer.alloc(8192, 'not a database. '));
  rmSync(`${junk}-wal`, { force: true });
  rmSync(`${junk}-shm`, { force: true });
  assert.throws(() => RunStore.open(junk), (e: Error) => e.name === 'RunStoreError' && e.message.includes(junk) && /not a SQLite database or is corrupt/.test(e.message));

  // a real store whose pages after the first are overwritten: the header opens, the tables do not read
  const damaged = fresh();
  const s = RunStore.open(damaged);
  for (let i = 0; i < 5; i++) s.save(makeRecord({ label: `d${i}`, layers: 30, samples: 50, seed: i }));
  s.close(); // the last connection checkpoints the WAL into the file
  const size = statSync(damaged).size;
  assert.ok(size > 16384);
  const fd = openSync(damaged, 'r+');
  writeSync(fd, Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
  closeSync(fd);
  assert.throws(
    () => {
      const t = RunStore.open(damaged);
      try {
        t.list();
      } finally {
        t.close();
      }
    },
    (e: Error) => e.name === 'RunStoreError' && e.message.includes(damaged) && /corrupt/.test(e.message),
  );

  const foreign = fresh();
  RunStore.open(foreign).close();
  rmSync(foreign);
  const db = new Database(foreign);
  db.exec('CREATE TABLE t (x)');
  db.close();
  assert.throws(() => RunStore.open(foreign), (e: Error) => e.message.includes(foreign) && /not a Tandem run store/.test(e.message));
  assert.equal(readFileSync(foreign).subarray(0, 15).toString(), 'SQLite format 3');
});

test('model hash: equal for the same graph saved elsewhere under another name and meta, different for one changed weight', async () => {
  const g = (await resolveModel('fmnist-vgg')).graph;
  const dir = path.join(tmp, 'copy');
  await saveGraph(dir, { ...g, name: 'renamed', meta: { importedFrom: { format: 'tandem', file: dir } } });
  const h = graphHash(g);
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(graphHash(await loadGraph(dir)), h);
  const n = g.nodes.findIndex((x) => Object.keys(x.weights).length > 0);
  const node = g.nodes[n];
  const [wname] = Object.keys(node.weights);
  const w = node.weights[wname];
  assert.equal(w.dtype, 'float32');
  const data = Float32Array.from(w.data as Float32Array);
  data[0] += 1e-3;
  const changed: Tensor = { dtype: 'float32', shape: w.shape, data };
  const nodes = g.nodes.map((x, i) => (i === n ? ({ ...x, weights: { ...x.weights, [wname]: changed } } as Node) : x));
  assert.notEqual(graphHash({ ...g, nodes }), h);
});

test('store path: --store, else $TANDEM_STORE, else $XDG_CACHE_HOME/tandem/runs.sqlite or ~/.cache', () => {
  assert.equal(storePath('x.sqlite', {}), path.resolve('x.sqlite'));
  assert.equal(storePath(undefined, { TANDEM_STORE: '/a/b.sqlite' }), '/a/b.sqlite');
  assert.equal(storePath(undefined, { XDG_CACHE_HOME: '/c' }), '/c/tandem/runs.sqlite');
  assert.equal(storePath(undefined, {}), path.join(os.homedir(), '.cache', 'tandem', 'runs.sqlite'));
});

test('tandem profile --store records the run; tandem runs lists it, runs show prints it; --no-store; errors', async () => {
  const file = path.join(tmp, 'cli', 'runs.sqlite');
  const p = await runCli(['profile', 'fmnist-vgg', '--target', 'host', '--images', '1', '--repeats', '3', '--store', file, '--json']);
  assert.equal(p.code, 0, p.stderr);
  const pj = JSON.parse(p.stdout) as { stored: { id: number; store: string }; report: { rows: { layer: string }[] } };
  assert.equal(pj.stored.store, file);

  const l = await runCli(['runs', '--store', file, '--json']);
  assert.equal(l.code, 0, l.stderr);
  const lj = JSON.parse(l.stdout) as { store: string; runs: { id: number; command: string; model: { name: string; hash: string }; targetSpec: string; layers: number; repeats: number; images: number; total: { n: number; unit: string } }[] };
  assert.equal(lj.runs.length, 1);
  const run = lj.runs[0];
  assert.equal(run.id, pj.stored.id);
  assert.deepEqual([run.command, run.model.name, run.targetSpec, run.layers, run.repeats, run.images, run.total.unit, run.total.n], ['profile', 'fmnist-vgg', 'host', 22, 3, 1, 's', 3]);
  assert.match(run.model.hash, /^[0-9a-f]{64}$/);

  const f = await runCli(['runs', '--store', file, '--model', 'fmnist-vgg', '--target', 'qemu', '--json']);
  assert.deepEqual((JSON.parse(f.stdout) as { runs: unknown[] }).runs, []);

  const sh = await runCli(['runs', 'show', String(run.id), '--store', file, '--json']);
  assert.equal(sh.code, 0, sh.stderr);
  const sj = JSON.parse(sh.stdout) as { report: { rows: { layer: string }[] } };
  assert.deepEqual(sj.report.rows.map((r) => r.layer), pj.report.rows.map((r) => r.layer));
  const txt = await runCli(['runs', 'show', String(run.id)], { TANDEM_STORE: file });
  assert.equal(txt.code, 0, txt.stderr);
  assert.match(txt.stdout, new RegExp(`^run ${run.id} in ${file}: profile fmnist-vgg`));
  assert.match(txt.stdout, /\ntotal +\S+ +s +3 /);

  const missing = await runCli(['runs', 'show', '99', '--store', file]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`no run 99 in ${file}`));
  const none = await runCli(['runs', '--store', path.join(tmp, 'nope.sqlite')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /run store .*nope\.sqlite does not exist/);

  const ns = path.join(tmp, 'cli-no-store', 'runs.sqlite');
  const q = await runCli(['profile', 'fmnist-vgg', '--target', 'host', '--images', '1', '--repeats', '1', '--no-store', '--json'], { TANDEM_STORE: ns });
  assert.equal(q.code, 0, q.stderr);
  assert.equal((JSON.parse(q.stdout) as { stored?: unknown }).stored, undefined);
  assert.throws(() => statSync(ns));
});
