// `tandem latency measure --target qemu` end to end on the real QEMU board (Cortex-M4, -icount shift=0): the
// first variants of population seed 1 are PTQ-quantized, uploaded and timed per layer; their ticks must add up
// to the board's total (the layer hook costs a few ticks per layer) and match the committed dataset
// bench/latency/qemu.json, measured the same way (ticks are deterministic under -icount: equal with the same
// firmware build; the tolerance covers another compiler version building the firmware).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readDataset } from '../hw-targets/predictor/dataset.js';
import { skipQemu } from './board-helpers.js';
import { runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-latency-board-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const committed = fileURLToPath(new URL('../../bench/latency/qemu.json', import.meta.url));

test('latency measure on the QEMU board: per-layer ticks add up and match the committed dataset', { skip: skipQemu }, async () => {
  const t0 = performance.now();
  const out = join(dir, 'q.json');
  const r = await runCli(['latency', 'measure', '--target', 'qemu', '--variants', '2', '--seed', '1', '-o', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const ds = readDataset(out);
  assert.equal(ds.unit, 'cycles');
  assert.equal(ds.clockHz, 25_000_000);
  assert.match(ds.target.name, /qemu-mps2-an386/);
  assert.deepEqual(
    ds.variants.map((v) => v.id),
    ['vgg-0', 'resnet-1'],
  );
  for (const v of ds.variants) {
    assert.ok(v.blobBytes! > 0 && v.blobBytes! <= 160_000);
    const sum = v.layers.reduce((a, l) => a + l.t, 0);
    const gap = v.total - sum;
    assert.ok(gap >= 0 && gap <= 10 * v.layers.length, `${v.id}: total ${v.total}, layers ${sum}`);
    for (const l of v.layers) if (l.op === 'conv2d' || l.op === 'dense') assert.ok(l.t > 0, `${v.id} ${l.node}: ${l.t} ticks`);
  }
  if (existsSync(committed)) {
    const ref = readDataset(committed);
    for (const v of ds.variants) {
      const w = ref.variants.find((x) => x.id === v.id)!;
      assert.deepEqual(
        v.layers.map((l) => l.f),
        w.layers.map((l) => l.f),
        `${v.id}: the variant generator changed: re-measure bench/latency/qemu.json`,
      );
      const rel = Math.abs(v.total - w.total) / w.total;
      assert.ok(rel < 0.05, `${v.id}: ${v.total} ticks now, ${w.total} in ${committed}: the runtime changed? re-measure the dataset`);
    }
  }
  console.log(`latency board test ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
