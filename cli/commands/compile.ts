// `tandem compile <model> --accel <preset|spec file> -o <dir>`: lower a quantized model onto a CIM
// accelerator. Writes schedule.txt (Timeloop-like), schedule.json, the compiled graph (graph.json +
// weights.bin, so `tandem simulate <dir>` runs exactly it), report.json and report.txt (utilisation, cost).
import { printSchedule, utilisation, utilisationTable } from '../../compiler/lower/print.js';
import type { Schedule } from '../../compiler/lower/schedule.js';
import { costOf, type CostReport, ENERGY_COMPONENTS } from '../../sim/cost/model.js';
import { cliProgress, interruptSignal } from '../progress.js';
import { num, table } from '../table.js';
import { type AccelFlags, prepare } from './accel.js';
import { writeModelDir } from './model-run.js';

export interface CompileFlags extends AccelFlags {
  readonly out: string;
}

const fmt = (x: number, d = 3) => (x >= 1e4 || (x !== 0 && x < 1e-2) ? x.toExponential(d - 1) : x.toFixed(d));

/** Latency / energy / area lines and the per-layer cost table. */
export function costText(c: CostReport): string {
  const rows = c.layers.filter((l) => l.timeNs > 0).map((l) => [l.layer, num(l.macs), fmt(l.timeNs / 1e3), fmt(Object.values(l.energyPj).reduce((a, b) => a + b, 0) / 1e3), ...ENERGY_COMPONENTS.map((k) => fmt(l.energyPj[k] / 1e3))]);
  return [
    table(['layer', 'MACs', 'time us', 'energy nJ', ...ENERGY_COMPONENTS.map((k) => `${k} nJ`)], rows, ['l', 'r', 'r', 'r', ...ENERGY_COMPONENTS.map(() => 'r' as const)]),
    `latency ${fmt(c.latencyNs / 1e3)} us/inference (pipeline interval ${fmt(c.intervalNs / 1e3)} us), energy ${fmt(c.energyPerInferencePj / 1e6)} uJ/inference, area ${fmt(c.areaMm2)} mm2`,
    `${fmt(c.tops)} TOPS, ${fmt(c.topsPerW)} TOPS/W, ${fmt(c.topsPerMm2)} TOPS/mm2 (2 ops per MAC, ${num(c.macs)} MACs)${c.setup.energyPj ? `; programming once: ${fmt(c.setup.timeNs / 1e3)} us, ${fmt(c.setup.energyPj / 1e6)} uJ` : ''}`,
  ].join('\n');
}

export function compileText(s: Schedule, c: CostReport, notes: readonly string[], command: string): string {
  const u = utilisationTable(s);
  return [
    `${s.model.name} on ${s.spec.name}: ${s.arraysUsed} of ${s.arraysAvailable} arrays, ${s.rounds} programming round(s)`,
    ...notes.map((n) => `note: ${n}`),
    ...s.notes.map((n) => `note: ${n}`),
    table(u[0], u.slice(1), ['l', 'r', 'r', 'r', 'r']),
    costText(c),
    `reproduce: ${command}`,
  ].join('\n') + '\n';
}

export async function compileCommand(model: string, f: CompileFlags): Promise<void> {
  const progress = cliProgress({ quiet: !!f.json });
  const signal = interruptSignal();
  const p = await prepare(model, f, progress.update, signal);
  const cost = costOf(p.schedule);
  const command = ['tandem compile', model, `--accel ${f.accel}`, ...(f.set ?? []).map((s) => `--set ${s}`), f.calib ? `--calib ${f.calib}` : '', `-o ${f.out}`].filter(Boolean).join(' ');
  const report = { model: p.schedule.model, accelerator: p.spec.name, command, notes: [...p.notes, ...p.schedule.notes], utilisation: utilisation(p.schedule), cost };
  const text = compileText(p.schedule, cost, p.notes, command);
  await writeModelDir(
    f.out,
    p.graph,
    {
      'schedule.json': JSON.stringify(p.schedule) + '\n',
      'schedule.txt': printSchedule(p.schedule),
      'report.json': JSON.stringify(report, null, 1) + '\n',
      'report.txt': text,
    },
    { onnx: false },
  );
  progress.stop();
  process.stdout.write(f.json ? JSON.stringify(report) + '\n' : text);
}
