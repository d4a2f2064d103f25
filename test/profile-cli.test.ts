// `tandem profile` on the host target (the integer executor in-process) and its errors; the QEMU board path
// of the same code is covered end to end by board-e2e.test.ts through the serial Target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers.js';

test('tandem profile --target host --json: one row per layer, wall-clock total samples', async () => {
  const r = await runCli(['profile', 'fmnist-vgg', '--target', 'host', '--images', '2', '--repeats', '2', '--warmup', '0', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { rows: { layer: string }[]; total: { unit: string; summary: { n: number; min: number } }; target: { kind: string } };
  assert.equal(j.target.kind, 'host');
  assert.equal(j.rows.length, 22);
  assert.equal(j.total.unit, 's');
  assert.equal(j.total.summary.n, 4);
  assert.ok(j.total.summary.min > 0);
});

test('tandem profile names a serial port that does not exist, and a bad --target', async () => {
  const a = await runCli(['profile', 'fmnist-vgg', '--target', 'serial:/dev/tandem-no-such-port']);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /serial port \/dev\/tandem-no-such-port does not exist/);
  const b = await runCli(['profile', 'fmnist-vgg', '--target', 'usb']);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /--target usb: expected qemu, host, serial:<port> .*, adb:<serial> .*, sim:<accelerator>.* or predictor:<file>/);
});
