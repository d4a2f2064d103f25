// The CIM simulator as a Target (hw-targets/targets/sim.ts): exact mode gives the integer executor's outputs
// bit for bit; the Report's rows are the cost model's per-layer latency and energy and add up to its totals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lower } from '../compiler/lower/lower.js';
import { HostTarget } from '../hw-targets/targets/host.js';
import { SimTarget } from '../hw-targets/targets/sim.js';
import { costOf } from '../sim/cost/model.js';
import { fashionImages } from './helpers.js';
import { quantizedVgg, TEST_SPEC } from './sim-helpers.js';

test('sim target, exact mode: outputs equal the host integer executor, rows add up to the cost model', async () => {
  const g = await quantizedVgg();
  const { x } = await fashionImages('test', 40);
  const host = new HostTarget();
  await host.load({ graph: g });
  const want = await host.run({ data: x, batch: 40 }, { warmup: 0, repeats: 1 });

  const sim = new SimTarget({ spec: TEST_SPEC });
  await assert.rejects(sim.load({ graph: g }), /no schedule and no calibration images/);
  sim.calibrate({ x: (await fashionImages('train', 16)).x, n: 16 });
  await sim.load({ graph: g });
  const got = await sim.run({ data: x, batch: 40 });
  assert.equal(got.outputs[0].length, 400);
  assert.deepEqual(got.outputs[0], want.outputs[0]);

  const cost = costOf(lower(g, TEST_SPEC));
  const r = got.report;
  assert.equal(r.executor, 'sim:test-ideal:exact');
  assert.equal(r.total!.latency!.samples[0], cost.latencyNs / 1e9);
  const rowSeconds = r.rows.reduce((a, row) => a + (row.latency?.samples[0] ?? 0), 0);
  // everything fits on chip (no per-inference reloads): layers in sequence are the whole latency
  assert.ok(Math.abs(rowSeconds - cost.latencyNs / 1e9) <= 1e-12 * rowSeconds, `${rowSeconds} vs ${cost.latencyNs / 1e9}`);
  const rowJoules = r.rows.reduce((a, row) => a + (row.energy?.joules ?? 0), 0);
  assert.ok(rowJoules > 0 && Math.abs(rowJoules - r.total!.energy!.joules) <= 1e-9 * rowJoules, `${rowJoules} vs ${r.total!.energy!.joules}`);
  const conv1 = r.rows.find((row) => row.layer === 'conv1')!;
  assert.equal(conv1.latency!.samples[0], cost.layers.find((l) => l.layer === 'conv1')!.timeNs / 1e9);
  assert.ok(conv1.energy!.breakdown!.adc > 0);
});

test('sim target: a schedule compiled for another model is refused on load', async () => {
  const g = await quantizedVgg();
  const other = { ...g, nodes: g.nodes.map((n) => (n.id === 'fc2' ? { ...n, quant: { ...n.quant!, outputZeroPoint: (n.quant!.outputZeroPoint ?? 0) + 1 } } : n)) };
  const sim = new SimTarget({ spec: TEST_SPEC });
  await assert.rejects(sim.load({ graph: other, schedule: lower(g, TEST_SPEC) }), /the schedule was compiled for model/);
});
