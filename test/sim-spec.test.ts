// AcceleratorSpec validation: every preset is valid; bad specs fail with the field named; files (JSON,
// YAML) and --set overrides; and the compile / simulate commands end to end.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { PRESETS } from '../sim/spec/presets.js';
import { loadSpec, validateSpec } from '../sim/spec/validate.js';
import { runCli } from './helpers.js';

const clone = <T>(x: T): T => structuredClone(x);
const rram = () => clone(PRESETS['rram-128']) as unknown as Record<string, Record<string, unknown>>;

describe('accelerator spec', () => {
  it('the four presets validate; rram-128 (1T1R, NeuroSim) drives the gates, the others voltages', () => {
    assert.deepEqual(Object.keys(PRESETS).sort(), ['ideal-int8', 'pcm-256', 'rram-128', 'sram-cim-256']);
    for (const name of Object.keys(PRESETS)) assert.equal(loadSpec(name).name, name);
    assert.deepEqual(Object.fromEntries(Object.entries(PRESETS).map(([k, p]) => [k, p.crossbar.inputDrive])), { 'ideal-int8': 'voltage', 'rram-128': 'gate', 'pcm-256': 'voltage', 'sram-cim-256': 'voltage' });
  });

  it('bad specs: the error names the field and what was expected', () => {
    const bad = (edit: (s: Record<string, Record<string, unknown>>) => void) => {
      const s = rram();
      edit(s);
      return () => validateSpec(s, 'spec.json');
    };
    assert.throws(
      bad((s) => (s.crossbar.rows = -4)),
      { message: 'spec.json: crossbar.rows = -4: expected an integer >= 1 and <= 65536' },
    );
    assert.throws(
      bad((s) => (s.adc.bits = 0)),
      { message: 'spec.json: adc.bits = 0: expected an integer >= 1 and <= 24' },
    );
    assert.throws(
      bad((s) => (s.weights.cellsPerWeight = 3)),
      { message: 'spec.json: weights.cellsPerWeight = 3: 3 cells of 2 bits cannot hold a 8-bit weight plus its offset (offset); expected >= 4' },
    );
    assert.throws(
      bad((s) => (s.crossbar.rowz = 5)),
      { message: /crossbar\.rowz: unknown field \(known: rows, cols,/ },
    );
    assert.throws(
      bad((s) => delete s.latency.arrayReadNs),
      { message: 'spec.json: latency.arrayReadNs: missing' },
    );
    assert.throws(
      bad((s) => (s.devices.drift = { model: 'log' })),
      { message: "spec.json: devices.drift.model = 'log': expected one of none, power-law, pcm" },
    );
    assert.throws(
      bad((s) => (s.crossbar.gMaxUs = 0.5)),
      { message: 'spec.json: crossbar.gMaxUs = 0.5: expected > crossbar.gMinUs (1.1111111111111112)' },
    );
    // the wires: each resistance >= 0, and the old single field is gone (not silently ignored)
    assert.throws(
      bad((s) => (s.crossbar.colWireResistanceOhm = -0.5)),
      { message: 'spec.json: crossbar.colWireResistanceOhm = -0.5: expected a number >= 0' },
    );
    assert.throws(
      bad((s) => (s.crossbar.rowWireResistanceOhm = 'high')),
      { message: "spec.json: crossbar.rowWireResistanceOhm = 'high': expected a number >= 0" },
    );
    assert.throws(
      bad((s) => {
        delete s.crossbar.rowWireResistanceOhm;
        s.crossbar.wireResistanceOhm = 2;
      }),
      { message: /crossbar\.wireResistanceOhm: unknown field \(known: .*rowWireResistanceOhm, colWireResistanceOhm, inputDrive\)\n {2}crossbar\.rowWireResistanceOhm: missing/ },
    );
    // the input drive: an enum, and a gate-driven row (a word line) carries no cell current
    assert.throws(
      bad((s) => (s.crossbar.inputDrive = 'current')),
      { message: "spec.json: crossbar.inputDrive = 'current': expected one of voltage, gate" },
    );
    assert.throws(
      bad((s) => (s.crossbar.rowWireResistanceOhm = 2.12)),
      { message: "spec.json: crossbar.rowWireResistanceOhm = 2.12: expected 0 with crossbar.inputDrive 'gate' (the word lines drive transistor gates and carry no cell current)" },
    );
    assert.equal(loadSpec('rram-128', ['crossbar.inputDrive=voltage', 'crossbar.rowWireResistanceOhm=2.12']).crossbar.rowWireResistanceOhm, 2.12);
    // a centred ADC range is calibrated, and only signed column sums have one
    assert.throws(
      bad((s) => (s.adc.center = 'middle')),
      { message: "spec.json: adc.center = 'middle': expected one of zero, calibrated" },
    );
    assert.throws(
      bad((s) => Object.assign(s.adc, { center: 'calibrated', range: 'max' })),
      { message: "spec.json: adc.center = 'calibrated': expected adc.range 'calibrated' (the centre is calibrated with the full scale), not 'max'" },
    );
    assert.throws(
      () => loadSpec('sram-cim-256', ['adc.range=calibrated', 'adc.calibrationPercentile=99', 'adc.center=calibrated']),
      { message: /adc\.center = 'calibrated': expected signed column sums \(weights\.signed 'differential' or 'offset'\), not 'twos-complement'/ },
    );
    assert.equal(loadSpec('rram-128', ['adc.center=calibrated']).adc.center, 'calibrated');
    assert.throws(() => loadSpec('rram-256'), { message: "accelerator 'rram-256': unknown preset (known: ideal-int8, rram-128, pcm-256, sram-cim-256) and not a .json/.yaml file" });
  });

  it('JSON and YAML files and --set overrides', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tandem-spec-'));
    const json = path.join(dir, 'mine.json');
    writeFileSync(json, JSON.stringify({ ...PRESETS['rram-128'], name: 'mine' }));
    assert.equal(loadSpec(json, ['adc.bits=6']).adc.bits, 6);
    const yaml = path.join(dir, 'mine.yaml');
    writeFileSync(yaml, readFileSync(json, 'utf8')); // JSON is YAML
    assert.equal(loadSpec(yaml).name, 'mine');
    assert.throws(() => loadSpec('rram-128', ['adc.bits=0']), { message: "accelerator preset 'rram-128' with --set adc.bits=0: adc.bits = 0: expected an integer >= 1 and <= 24" });
    writeFileSync(json, '{ "name": ');
    assert.throws(() => loadSpec(json), { message: /mine\.json: not valid JSON/ });
  });
});

describe('tandem compile / simulate', () => {
  it('compile writes the schedule, text and report; simulate runs the compiled folder exactly', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tandem-compile-'));
    const out = path.join(dir, 'c');
    const r = await runCli(['compile', 'fmnist-vgg', '--accel', 'ideal-int8', '--calib', '32', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { accelerator: string; cost: { latencyNs: number; topsPerW: number }; notes: string[] };
    assert.equal(rep.accelerator, 'ideal-int8');
    assert.ok(rep.cost.latencyNs > 0 && rep.cost.topsPerW > 0);
    assert.match(rep.notes.join('\n'), /quantized first \(PTQ/);
    assert.match(readFileSync(path.join(out, 'schedule.txt'), 'utf8'), /layer conv6: conv2d on crossbar/);
    const s = await runCli(['simulate', out, '--accel', 'ideal-int8', '--mode', 'exact', '--limit', '20', '--json']);
    assert.equal(s.code, 0, s.stderr);
    const sim = JSON.parse(s.stdout) as { runs: { result: { accuracy: number[]; exactInt8Accuracy: number; layers: { vsExact: { sqnrDb: number }[] }[] } }[] };
    const res = sim.runs[0].result;
    assert.equal(res.accuracy[0], res.exactInt8Accuracy);
    assert.ok(res.layers.every((l) => l.vsExact[0].sqnrDb === Infinity || l.vsExact[0].sqnrDb === null), 'every layer exact');
  });

  it('a bad accelerator fails with one clear line and exit 1', async () => {
    const r = await runCli(['compile', 'fmnist-vgg', '--accel', 'rram-128', '--set', 'crossbar.cellBits=0', '-o', path.join(tmpdir(), 'never')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), "tandem: error: accelerator preset 'rram-128' with --set crossbar.cellBits=0: crossbar.cellBits = 0: expected an integer >= 1 and <= 8");
  });
});
