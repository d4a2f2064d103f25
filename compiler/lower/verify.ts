// The Schedule verifier, separate from the lowering so that hand-edited or loaded schedules are checked
// the same way: every weight element mapped exactly once per replica, blocks inside their arrays and
// not overlapping, ADC counts respected, mvm steps' conductance and input activity in range, step
// dependencies known and acyclic, one mapping per node.
import { columnsPerWeight, weightColumns } from '../../sim/spec/types.js';
import type { Graph } from '../ir/types.js';
import type { Schedule, WeightBlock } from './schedule.js';

export class ScheduleError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid schedule: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`}`);
    this.name = 'ScheduleError';
  }
}

/** Every problem found (empty when the schedule is valid). */
export function scheduleProblems(s: Schedule, graph?: Graph): string[] {
  const e: string[] = [];
  const spec = s.spec;
  const cpw = columnsPerWeight(spec);
  const blockById = new Map<string, WeightBlock>();
  for (const b of s.blocks) {
    if (blockById.has(b.id)) e.push(`block ${b.id}: id used twice`);
    blockById.set(b.id, b);
  }

  // layers: one per graph node, in order
  if (graph) {
    const ids = graph.nodes.map((n) => n.id);
    const mapped = s.layers.map((l) => l.layer);
    for (const id of ids) if (!mapped.includes(id)) e.push(`layer ${id}: in the graph but not in the schedule`);
    for (const id of mapped) if (!ids.includes(id)) e.push(`layer ${id}: in the schedule but not in the graph`);
  }

  // coverage: each weight element of each replica in exactly one block
  for (const l of s.layers) {
    const mine = s.blocks.filter((b) => b.layer === l.layer);
    if (l.where === 'digital') {
      if (mine.length) e.push(`layer ${l.layer}: runs on the digital unit but has ${mine.length} crossbar blocks`);
      continue;
    }
    for (let r = 0; r < l.replicas; r++) {
      const rep = mine.filter((b) => b.replica === r);
      const diagonal = rep.some((b) => b.diagonal);
      const rows = diagonal ? 1 : l.rows; // diagonal blocks always hold all taps of their columns
      const count = new Uint8Array(rows * l.cols);
      const owner = new Map<number, string>();
      for (const b of rep) {
        if (b.rows[0] < 0 || b.rows[1] > l.rows || b.cols[0] < 0 || b.cols[1] > l.cols || b.rows[0] >= b.rows[1] || b.cols[0] >= b.cols[1]) {
          e.push(`block ${b.id}: rows [${b.rows}) × cols [${b.cols}) outside layer ${l.layer}'s ${l.rows} × ${l.cols} matrix`);
          continue;
        }
        if (b.diagonal && (b.rows[0] !== 0 || b.rows[1] !== l.rows)) e.push(`block ${b.id}: a diagonal block must hold all ${l.rows} taps, holds [${b.rows})`);
        const [r0, r1] = diagonal ? [0, 1] : b.rows;
        for (let i = r0; i < r1; i++) {
          for (let j = b.cols[0]; j < b.cols[1]; j++) {
            const k = i * l.cols + j;
            if (count[k]++ === 1) e.push(`layer ${l.layer} replica ${r}: weight (row ${i}, col ${j}) mapped twice (blocks ${owner.get(k)} and ${b.id})`);
            owner.set(k, b.id);
          }
        }
      }
      const missing = count.reduce((a, c) => a + (c === 0 ? 1 : 0), 0);
      if (missing) {
        const first = count.indexOf(0);
        e.push(`layer ${l.layer} replica ${r}: ${missing} weights not mapped (first: row ${Math.floor(first / l.cols)}, col ${first % l.cols})`);
      }
    }
    const extra = mine.filter((b) => b.replica >= l.replicas || b.replica < 0);
    for (const b of extra) e.push(`block ${b.id}: replica ${b.replica} but layer ${l.layer} has ${l.replicas} replicas`);
  }

  // physical placement: inside the array, no overlap within a round
  const taps = new Map(s.layers.map((l) => [l.layer, l.rows]));
  for (const b of s.blocks) {
    const wRows = b.diagonal ? (b.cols[1] - b.cols[0]) * (taps.get(b.layer) ?? 0) : b.rows[1] - b.rows[0];
    const wCols = (b.cols[1] - b.cols[0]) * cpw;
    if (b.physicalRows !== wRows || b.physicalCols !== wCols) e.push(`block ${b.id}: physical size ${b.physicalRows}×${b.physicalCols}, its weights need ${wRows}×${wCols}`);
    if (b.array < 0 || b.array >= s.arraysAvailable || !Number.isInteger(b.array)) e.push(`block ${b.id}: array ${b.array} does not exist (0..${s.arraysAvailable - 1})`);
    if (b.rowOffset < 0 || b.rowOffset + b.physicalRows > spec.crossbar.rows) e.push(`block ${b.id}: rows ${b.rowOffset}..${b.rowOffset + b.physicalRows} exceed the array's ${spec.crossbar.rows} rows (over capacity)`);
    if (b.colOffset < 0 || b.colOffset + b.physicalCols > weightColumns(spec)) e.push(`block ${b.id}: columns ${b.colOffset}..${b.colOffset + b.physicalCols} exceed the array's ${weightColumns(spec)} weight columns (over capacity)`);
    if (b.round < 0 || b.round >= s.rounds) e.push(`block ${b.id}: round ${b.round} but the schedule has ${s.rounds}`);
  }
  const byArray = new Map<string, WeightBlock[]>();
  for (const b of s.blocks) byArray.set(`${b.round}/${b.array}`, [...(byArray.get(`${b.round}/${b.array}`) ?? []), b]);
  for (const bs of byArray.values()) {
    for (let i = 0; i < bs.length; i++) {
      for (let j = i + 1; j < bs.length; j++) {
        const [a, b] = [bs[i], bs[j]];
        const overlap = a.rowOffset < b.rowOffset + b.physicalRows && b.rowOffset < a.rowOffset + a.physicalRows && a.colOffset < b.colOffset + b.physicalCols && b.colOffset < a.colOffset + a.physicalCols;
        if (overlap) e.push(`blocks ${a.id} and ${b.id} overlap on array ${a.array} (round ${a.round})`);
      }
    }
  }

  // steps: unique ids, known deps, no cycles; one mvm per block, ADCs respected
  const stepIds = new Set<string>();
  for (const st of s.steps) {
    if (stepIds.has(st.id)) e.push(`step ${st.id}: id used twice`);
    stepIds.add(st.id);
  }
  for (const st of s.steps) for (const d of st.deps) if (!stepIds.has(d)) e.push(`step ${st.id}: depends on unknown step ${d}`);
  const cycle = findCycle(s);
  if (cycle) e.push(`steps form a dependency cycle: ${cycle.join(' -> ')}`);
  const mvmOf = new Map<string, number>();
  for (const st of s.steps) {
    if (st.kind !== 'mvm') continue;
    const b = blockById.get(st.block);
    if (!b) {
      e.push(`step ${st.id}: block ${st.block} does not exist`);
      continue;
    }
    mvmOf.set(st.block, (mvmOf.get(st.block) ?? 0) + 1);
    const conversions = (b.cols[1] - b.cols[0]) * spec.weights.cellsPerWeight;
    if (st.conversions !== conversions) e.push(`step ${st.id}: ${st.conversions} conversions per cycle, block ${b.id} needs ${conversions}`);
    if (st.adcs > spec.adc.perArray) e.push(`step ${st.id}: uses ${st.adcs} ADCs, an array has ${spec.adc.perArray} (adc.perArray)`);
    if (st.adcs < 1 || st.adcs * st.columnsPerAdc < conversions) e.push(`step ${st.id}: ${st.adcs} ADCs × ${st.columnsPerAdc} columns each cannot convert ${conversions} columns`);
    // read by the cost model (cell read energy) and the analog model (gate drive's IR drop)
    if (!(Number.isFinite(st.cellConductanceUs) && st.cellConductanceUs >= 0)) e.push(`step ${st.id}: cellConductanceUs = ${st.cellConductanceUs}, expected a finite number >= 0 (µS)`);
    if (!(Number.isFinite(st.inputActivity) && st.inputActivity >= 0 && st.inputActivity <= 1)) e.push(`step ${st.id}: inputActivity = ${st.inputActivity}, expected a number in [0, 1]`);
    const prog = s.steps.find((p) => p.kind === 'program' && p.round === b.round);
    if (prog && !st.deps.includes(prog.id)) e.push(`step ${st.id}: does not wait for ${prog.id}, which programs its block`);
  }
  for (const b of s.blocks) {
    const n = mvmOf.get(b.id) ?? 0;
    if (n !== 1) e.push(`block ${b.id}: ${n} mvm steps (expected exactly 1)`);
  }
  return e;
}

/** Throws a ScheduleError listing every problem. */
export function verifySchedule(s: Schedule, graph?: Graph): void {
  const problems = scheduleProblems(s, graph);
  if (problems.length) throw new ScheduleError(problems);
}

/** A dependency cycle among the steps (ids, first repeated at the end), or undefined. */
function findCycle(s: Schedule): string[] | undefined {
  const deps = new Map(s.steps.map((st) => [st.id, st.deps]));
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 2 || !deps.has(id)) return undefined;
    if (state.get(id) === 1) return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 1);
    stack.push(id);
    for (const d of deps.get(id)!) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const st of s.steps) {
    const c = visit(st.id);
    if (c) return c;
  }
  return undefined;
}
