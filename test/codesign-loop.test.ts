// The co-design loop: the problem statement's validation, the greedy allocation on a known profile, the
// search space on fmnist-vgg, and end to end through the CLI: a run killed with SIGKILL (and cancelled with Ctrl-C) mid-candidate several
// times and resumed ends with the same store contents and front as an uninterrupted run with the same seed;
// bad input (impossible budget, missing target, unreadable store) fails clearly and leaves the store as it was.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { validateProblem } from '../codesign/problem.js';
import type { Profile } from '../codesign/profile.js';
import type { CodesignResult } from '../codesign/result.js';
import { RunStore } from '../codesign/run-store.js';
import { applyGenome, searchSpace } from '../codesign/space.js';
import { allocate } from '../codesign/strategies/greedy.js';
import { musco, muscoLadders } from '../codesign/strategies/musco.js';
import { nsga2 } from '../codesign/strategies/nsga2.js';
import type { Problem } from '../codesign/problem.js';
import type { LayerSpace } from '../codesign/space.js';
import { compareResults } from '../cli/commands/compare-fronts.js';
import { graphStats } from '../compiler/ir/graph.js';
import { resolveModel } from '../compiler/models/registry.js';
import { runCli } from './helpers.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tandem-codesign-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('problem statement', () => {
  test('defaults are filled in; keys and ons are normalised', () => {
    const p = validateProblem({ model: 'fmnist-vgg', objectives: [{ metric: 'energy', on: 'sim:rram-128' }, { metric: 'params' }] }, 'p.json');
    assert.equal(p.accuracy.maxDropPp, 0.5);
    assert.equal(p.search.strategy, 'greedy');
    assert.deepEqual(p.objectives, [{ metric: 'energy', on: 'rram-128' }, { metric: 'params' }]);
  });
  const bad: [string, unknown, RegExp][] = [
    ['unknown field', { model: 'm', objectives: [{ metric: 'params' }], budget: [] }, /p\.json: field budget: expected one of the fields/],
    ['no objective', { model: 'm', objectives: [] }, /field objectives: expected a list of at least 1/],
    ['energy on a board', { model: 'm', objectives: [{ metric: 'energy', on: 'qemu' }] }, /field objectives\[0\]\.on: expected an accelerator/],
    ['params on hardware', { model: 'm', objectives: [{ metric: 'params', on: 'rram-128' }] }, /objectives\[0\]\.on: expected nothing/],
    ['negative budget', { model: 'm', objectives: [{ metric: 'params' }], budgets: [{ metric: 'params', max: -1 }] }, /budgets\[0\]\.max: expected a number in \(0/],
    ['cost not an objective', { model: 'm', objectives: [{ metric: 'params' }], search: { cost: 'energy:rram-128' } }, /search\.cost: expected macs, params, hardware or an objective's key \(params\)/],
    ['rank above 1', { model: 'm', objectives: [{ metric: 'params' }], space: { ranks: [1.5] } }, /space\.ranks\[0\]: expected a number in \(0, 1\]/],
    ['surrogate on energy', { model: 'm', objectives: [{ metric: 'energy', on: 'rram-128', surrogate: 'predictor:x.json' }] }, /objectives\[0\]\.surrogate: expected nothing/],
  ];
  for (const [what, raw, re] of bad) test(`rejects: ${what}`, () => assert.throws(() => validateProblem(raw, 'p.json'), (e: Error) => e.name === 'ProblemError' && re.test(e.message)));
});

test('greedy allocation: least added error per unit of cost saved, until the target is met', () => {
  // two layers; costs are whole-network values with the option alone (base 100)
  const profile: Profile = {
    base: { c: 100 },
    via: { c: 'c' },
    layers: [
      { layer: 'a', options: [{ text: 'original', error: 0, cost: { c: 100 } }, { text: 'a1', error: 0.1, cost: { c: 80 } }, { text: 'a2', error: 0.5, cost: { c: 60 } }] },
      { layer: 'b', options: [{ text: 'original', error: 0, cost: { c: 100 } }, { text: 'b1', error: 0.1, cost: { c: 90 } }, { text: 'b2', error: 0.15, cost: { c: 70 } }] },
    ],
  };
  // scores from the base: a1 0.005, a2 0.0125, b1 0.01, b2 0.005 -> a1 first (tie by layer order)
  assert.deepEqual(allocate(profile, 'c', 85).genome, [1, 0]);
  // then from a1: a2 costs 0.4/20 = 0.02, b1 0.01, b2 0.005 -> b2; cost 100 - 20 - 30 = 50
  const a = allocate(profile, 'c', 60);
  assert.deepEqual(a.genome, [1, 2]);
  assert.equal(a.cost, 50);
  assert.match(a.why.get('b')!, /b2 adds 0\.15 logits error for 30 less/);
  // an unreachable target stops at the cheapest options
  assert.deepEqual(allocate(profile, 'c', 0).genome, [2, 2]);
});

test('search space on fmnist-vgg: options per layer; a genome applies pruning, then decompositions of the pruned shapes', async () => {
  const m = await resolveModel('fmnist-vgg');
  const space = searchSpace(m.graph, { layers: [], decompositions: ['tucker2', 'cp', 'svd'], ranks: [0.5], prune: [0.5] });
  const byLayer = new Map(space.map((s) => [s.layer, s.options.map((o) => (o.kind === 'decompose' ? o.method : o.kind))]));
  // a 3×3 conv: tucker2, cp, prune; conv1 has one input channel: prune only; the logits' channels are fixed
  assert.deepEqual(byLayer.get('conv2'), ['original', 'tucker2', 'cp', 'prune']);
  assert.deepEqual(byLayer.get('conv1'), ['original', 'prune']);
  assert.deepEqual(byLayer.get('fc1'), ['original', 'svd', 'prune']);
  assert.deepEqual(byLayer.get('fc2'), ['original', 'svd']);
  const i1 = space.findIndex((s) => s.layer === 'conv1');
  const i2 = space.findIndex((s) => s.layer === 'conv2');
  const genome = space.map((_, i) => (i === i1 ? 1 : i === i2 ? 1 : 0)); // conv1 pruned 50%, conv2 tucker2 at half rank
  const { plan, graph } = applyGenome(m.graph, space, genome, 1);
  const c1 = m.graph.nodes.find((n) => n.id === 'conv1')!.weights.kernel.shape.at(-1) as number;
  const c2 = m.graph.nodes.find((n) => n.id === 'conv2')!.weights.kernel.shape.at(-1) as number;
  assert.equal(plan.layers.conv1.keptChannels!.length, Math.round(c1 / 2));
  // conv2's input side rank is half of its PRUNED input channels
  assert.deepEqual(plan.layers.conv2.decomposition, { kind: 'tucker2', ranks: [Math.round(Math.round(c1 / 2) / 2), Math.round(c2 / 2)] });
  assert.ok(graphStats(graph).totalMacs < graphStats(m.graph).totalMacs);
});

test('compare-fronts: best feasible value per objective, the change, and who dominates whom', () => {
  const cand = (id: string, accuracy: number, energy: number, feasible = true) => ({ id, strategy: 's', plan: { version: 1 as const, model: 'm', seed: 1, layers: {} }, metrics: { accuracy, e: energy }, layers: [], feasible, violations: [], onFront: false, seconds: 1 });
  const result = (cands: ReturnType<typeof cand>[]): CodesignResult => ({
    format: 'tandem-codesign-result',
    version: 1,
    createdAt: '',
    run: 1,
    store: '',
    command: '',
    seed: 1,
    problem: {},
    baseline: { accuracy: 93, e: 40 },
    metrics: [
      { key: 'accuracy', label: '', unit: '%', direction: 'max', source: '' },
      { key: 'e', label: '', unit: 'µJ', direction: 'min', source: '' },
    ],
    objectives: ['accuracy', 'e'],
    candidates: cands,
    seconds: 1,
  });
  const a = result([cand('c0', 93, 40), cand('c1', 92.5, 34), cand('c2', 91, 20, false)]);
  const b = result([cand('c0', 93, 40), cand('c1', 92.6, 30), cand('c2', 92.2, 28)]);
  const [row] = compareResults(a, b);
  assert.deepEqual(row.bestA, { id: 'c1', value: 34, accuracy: 92.5 });
  assert.deepEqual(row.bestB, { id: 'c2', value: 28, accuracy: 92.2 });
  assert.ok(Math.abs(row.change! - (28 - 34) / 34) < 1e-12);
  // B's (92.6, 30) dominates A's (92.5, 34); A's c0 equals B's c0: A's front is all covered, B's only in part
  assert.equal(row.bCoversA, 1);
  assert.ok(row.aCoversB! < 1);
  assert.ok(row.hypervolumeB! > row.hypervolumeA!);
});

/**
 * A synthetic search context whose candidates' metrics are exact functions of the profile: accuracy falls 1 pp
 * per unit of summed error, the cost is additive, and a layer's cost in an evaluated model is its option's
 * cost times (layer index + 1)² (so later layers weigh more).
 */
function fakeContext(profile: Profile, space: LayerSpace[], strategy: Problem['search']['strategy'], candidates: number) {
  const problem = validateProblem({ model: 'm', objectives: [{ metric: 'energy', on: 'x' }], limits: { candidates }, search: { strategy, cost: 'energy:x' } }, 'fake');
  const evaluated: number[][] = [];
  const metricsOf = (g: readonly number[]) => ({
    accuracy: 93 - g.reduce((a, o, l) => a + profile.layers[l].options[o].error, 0),
    'energy:x': profile.base['energy:x'] + g.reduce((a, o, l) => a + profile.layers[l].options[o].cost['energy:x'] - profile.base['energy:x'], 0),
  });
  const layersOf = (g: readonly number[]) => space.map((sp, l) => ({ layer: sp.layer, decision: String(g[l]), reason: '', cost: { 'energy:x': profile.layers[l].options[g[l]].cost['energy:x'] * (l + 1) ** 2 } }));
  const baseline = { id: 'c0', ordinal: 0, plan: { version: 1 as const, model: 'm', seed: 1, layers: {} }, metrics: metricsOf(space.map(() => 0)), layers: layersOf(space.map(() => 0)), replayed: false };
  const ctx = {
    problem,
    space,
    profile,
    costKey: 'energy:x',
    baseline,
    evaluate(g: readonly number[]) {
      if (evaluated.length >= candidates) return Promise.resolve(undefined);
      evaluated.push([...g]);
      return Promise.resolve({ ...baseline, id: `c${evaluated.length}`, ordinal: evaluated.length, metrics: metricsOf(g), layers: layersOf(g) });
    },
    log: () => {},
  };
  return { ctx, evaluated, metricsOf };
}

const opt = (text: string, error: number, e: number) => ({ text, error, cost: { 'energy:x': e } });
const dec = (method: 'tucker2' | 'cp' | 'svd', fraction: number) => ({ kind: 'decompose' as const, method, fraction });

test('musco keeps one kind per layer (the one saving most cost per error) and weakens the costliest layers first', async () => {
  // layer a: cp saves more energy per error than tucker2; layer b: the reverse
  const profile: Profile = {
    base: { 'energy:x': 100 },
    via: { 'energy:x': 'energy:x' },
    layers: [
      { layer: 'a', options: [opt('original', 0, 100), opt('t 0.5', 0.1, 95), opt('t 0.25', 0.2, 90), opt('c 0.5', 0.1, 80), opt('c 0.25', 0.2, 70)] },
      { layer: 'b', options: [opt('original', 0, 100), opt('t 0.5', 0.1, 85), opt('t 0.25', 0.2, 80), opt('c 0.5', 0.1, 99), opt('c 0.25', 0.2, 98)] },
    ],
  };
  const options = [{ kind: 'original' as const }, dec('tucker2', 0.5), dec('tucker2', 0.25), dec('cp', 0.5), dec('cp', 0.25)];
  const space: LayerSpace[] = [
    { layer: 'a', options },
    { layer: 'b', options },
  ];
  const ladders = muscoLadders({ space, profile, costKey: 'energy:x' });
  assert.deepEqual(
    ladders.map((l) => [l.kind, l.ladder]),
    [
      ['cp', [0, 3, 4]],
      ['tucker2', [0, 1, 2]],
    ],
  );
  // b weighs 400 against a's 100 (w_a 0.25): b alone moves, to its bottom; then a (w 0.31 < 0.5) moves at step 2
  const { ctx, evaluated } = fakeContext(profile, space, 'musco', 10);
  await musco(ctx);
  assert.deepEqual(evaluated, [
    [0, 1],
    [0, 2],
    [3, 2],
    [4, 2],
  ]);
});

test('nsga2: a first round over the whole surrogate front, then only genomes predicted feasible; finds the cheapest feasible genome', async () => {
  const layer = (name: string) => ({ layer: name, options: [opt('original', 0, 100), opt('r 0.5', 0.1, 90), opt('r 0.25', 0.2, 82), opt('prune', 0.6, 70)] });
  const profile: Profile = { base: { 'energy:x': 100 }, via: { 'energy:x': 'energy:x' }, layers: [layer('a'), layer('b'), layer('c')] };
  const options = [{ kind: 'original' as const }, dec('svd', 0.5), dec('svd', 0.25), { kind: 'prune' as const, ratio: 0.5 }];
  const space: LayerSpace[] = ['a', 'b', 'c'].map((l) => ({ layer: l, options }));
  const { ctx, evaluated, metricsOf } = fakeContext(profile, space, 'nsga2', 10);
  await nsga2(ctx);
  assert.equal(new Set(evaluated.map((g) => g.join())).size, evaluated.length, 'no genome twice');
  assert.ok(evaluated.length > 4 && evaluated.length <= 10);
  // after the first round (4), the accuracy line is fitted exactly (the fake is linear): all later ones are feasible
  for (const g of evaluated.slice(4)) assert.ok(metricsOf(g).accuracy >= 92.5 - 1e-9, `round 2+ proposed an infeasible genome ${g.join()}`);
  // the cheapest feasible genome: two layers at rank 0.25 and one at 0.5 (error 0.5, energy 54), by brute force
  const feasible = evaluated.map(metricsOf).filter((m) => m.accuracy >= 92.5 - 1e-9);
  assert.equal(Math.min(...feasible.map((m) => m['energy:x'])), 54);
});

// ---- end to end through the CLI ----

const PROBLEM = {
  model: 'fmnist-vgg',
  accuracy: { maxDropPp: 1, images: 200 },
  objectives: [{ metric: 'energy', on: 'rram-128' }, { metric: 'params' }],
  space: { layers: ['conv4', 'conv6', 'fc1'], decompositions: ['tucker2', 'svd'], ranks: [0.5, 0.25], prune: [0.5] },
  finetune: { images: 128, lr: 0.005 },
  calib: 32,
  limits: { candidates: 3 },
  seed: 3,
};
const problemFile = path.join(tmp, 'problem.json');
writeFileSync(problemFile, JSON.stringify(PROBLEM));

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const comparable = (r: CodesignResult) => r.candidates.map((c) => ({ id: c.id, strategy: c.strategy, plan: c.plan, metrics: c.metrics, feasible: c.feasible, onFront: c.onFront, modelHash: c.modelHash, layers: c.layers.map((l) => [l.layer, l.decision, l.reason]) }));

/** Starts the loop; sends `sig` `delayMs` after candidate `at` starts. Resolves with how it ended. */
function runAndKill(args: string[], at: number, delayMs: number, sig: 'SIGKILL' | 'SIGINT' = 'SIGKILL'): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let armed = false;
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (!armed && new RegExp(`^c${at} \\(`, 'm').test(err)) {
        armed = true;
        setTimeout(() => p.kill(sig), delayMs);
      }
    });
    // Ctrl-C ends the loop itself (exit 130, cancelled) after the step in progress
    p.on('exit', (code, signal) => resolve({ killed: sig === 'SIGKILL' ? signal === 'SIGKILL' : armed && code === 130, code, stderr: err }));
  });
}

test('resume: a run killed with SIGKILL mid-candidate twice and cancelled with Ctrl-C once ends as an uninterrupted run with the same seed', async () => {
  const storeA = path.join(tmp, 'a.sqlite');
  const a = await runCli(['codesign', problemFile, '--store', storeA, '-o', path.join(tmp, 'outA'), '--workers', '1']);
  assert.equal(a.code, 0, a.stderr);
  const resA = JSON.parse(readFileSync(path.join(tmp, 'outA', 'front.json'), 'utf8')) as CodesignResult;
  assert.equal(resA.candidates.length, 4, 'baseline + 3 candidates (the greedy descent has at least 3 moves here)');

  const storeB = path.join(tmp, 'b.sqlite');
  const outB = path.join(tmp, 'outB');
  // 1st: killed while evaluating c1 (fresh run), then resumed and killed during c2, then cancelled (SIGINT)
  // during c3 — each at a different point of the candidate (fine-tuning, evaluation, metrics)
  const first = await runAndKill(['codesign', problemFile, '--store', storeB, '-o', outB, '--workers', '1'], 1, 1500);
  assert.ok(first.killed, `the first run ended by itself (code ${first.code}):\n${first.stderr}`);
  for (const [at, delay, sig] of [
    [2, 300, 'SIGKILL'],
    [3, 2500, 'SIGINT'],
  ] as const) {
    const r = await runAndKill(['codesign', '--resume', '1', '--store', storeB, '-o', outB, '--workers', '1'], at, delay, sig);
    assert.ok(r.killed, `resume ended otherwise than by ${sig} during candidate ${at} (code ${r.code}):\n${r.stderr}`);
    if (sig === 'SIGINT') assert.match(r.stderr, /cancelled/);
    // the store is consistent after every kill: whole candidates, ordinals 0..n-1, nothing half-written
    const db = new Database(storeB, { readonly: true });
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    const ords = (db.prepare('SELECT ordinal FROM codesign_candidates WHERE run_id = 1 ORDER BY ordinal').all() as { ordinal: number }[]).map((x) => x.ordinal);
    db.close();
    assert.deepEqual(ords, [...ords.keys()], 'ordinals contiguous from 0');
    assert.ok(ords.length <= at, `candidate ${at} was in flight when killed, so at most ${at} are stored, found ${ords.length}`);
    assert.equal(existsSync(outB), false, 'no output folder before the run completes');
  }
  const done = await runCli(['codesign', '--resume', '1', '--store', storeB, '-o', outB, '--workers', '1']);
  assert.equal(done.code, 0, done.stderr);
  const resB = JSON.parse(readFileSync(path.join(outB, 'front.json'), 'utf8')) as CodesignResult;
  assert.deepEqual(comparable(resB), comparable(resA));
  assert.equal(resB.chosen, resA.chosen);
  const s = RunStore.open(storeB, { mustExist: true });
  const run = s.codesign().getRun(1)!;
  s.close();
  assert.equal(run.status, 'complete');
  // the chosen model was exported: ONNX, board blob, Schedule, Plan
  if (resB.chosen) for (const f of ['model.onnx', 'model.blob', 'schedule.json', 'plan.json', 'graph.json']) assert.ok(existsSync(path.join(outB, 'chosen', f)), f);
});

describe('bad input: a clear error, exit 1, the store as it was', () => {
  const store = path.join(tmp, 'bad.sqlite');
  test('setup: an existing store', () => {
    RunStore.open(store).close();
  });
  const cases: [string, string[], RegExp][] = [
    ['an impossible budget', ['--budget', 'arrays:rram-128<=1'], /budget arrays:rram-128 <= 1 is impossible: the cheapest plan in the search space \(.*\) still needs \d+/],
    ['a missing target', ['--objective', 'energy:rram-128', '--objective', 'latency:serial:/dev/tandem-no-such-port'], /\/dev\/tandem-no-such-port/],
    ['an unknown accelerator', ['--objective', 'energy:rram-999'], /rram-999/],
  ];
  for (const [what, flags, re] of cases)
    test(what, async () => {
      const before = sha(store);
      const r = await runCli(['codesign', problemFile, '--store', store, '-o', path.join(tmp, 'bad-out'), ...flags]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(sha(store), before);
      assert.equal(existsSync(path.join(tmp, 'bad-out')), false);
    });
  test('an unreadable store', async () => {
    const junk = path.join(tmp, 'junk.sqlite');
    writeFileSync(junk, 'this is not a database'.repeat(100));
    const before = sha(junk);
    const r = await runCli(['codesign', problemFile, '--store', junk]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junk\.sqlite is not a SQLite database or is corrupt/);
    assert.equal(sha(junk), before);
  });
  test('a problem file with an unknown field, and a resume of a run that does not exist', async () => {
    const f = path.join(tmp, 'typo.yaml');
    writeFileSync(f, 'model: fmnist-vgg\nobjectives:\n  - metric: params\nlimit:\n  candidates: 3\n');
    const r = await runCli(['codesign', f, '--store', store]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /typo\.yaml: field limit: expected one of the fields/);
    const q = await runCli(['codesign', '--resume', '42', '--store', store]);
    assert.equal(q.code, 1);
    assert.match(q.stderr, /--resume 42: no co-design run 42 in .*bad\.sqlite/);
  });
});
