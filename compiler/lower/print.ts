// The Schedule's canonical text form, in Timeloop-like mapping directives (target / type / factors),
// and its utilisation figures. The JSON form is the Schedule object itself (JSON.stringify).
import { columnsPerWeight } from '../../sim/spec/types.js';
import type { Schedule } from './schedule.js';

export interface LayerUtilisation {
  readonly layer: string;
  readonly arrays: number;
  /** Weight cells / cells of the arrays the layer occupies. */
  readonly cells: number;
  /** Rows and columns the blocks use / rows and columns of those arrays. */
  readonly rows: number;
  readonly cols: number;
}

export interface Utilisation {
  readonly layers: readonly LayerUtilisation[];
  /** Per array (index = array; the fullest round), cells used / cells. */
  readonly arrays: readonly number[];
  /** All weight cells / cells of all arrays in use. */
  readonly total: number;
}

export function utilisation(s: Schedule): Utilisation {
  const { rows: R, cols: C } = s.spec.crossbar;
  const layers: LayerUtilisation[] = [];
  for (const l of s.layers) {
    if (l.where !== 'crossbar') continue;
    const bs = s.blocks.filter((b) => b.layer === l.layer);
    const arrays = new Set(bs.map((b) => `${b.round}/${b.array}`)).size;
    const cells = bs.reduce((a, b) => a + b.physicalRows * b.physicalCols, 0);
    layers.push({
      layer: l.layer,
      arrays,
      cells: cells / (arrays * R * C),
      rows: bs.reduce((a, b) => a + b.physicalRows, 0) / (arrays * R),
      cols: bs.reduce((a, b) => a + b.physicalCols, 0) / (arrays * C),
    });
  }
  const perArray = new Map<string, number>();
  for (const b of s.blocks) perArray.set(`${b.round}/${b.array}`, (perArray.get(`${b.round}/${b.array}`) ?? 0) + b.physicalRows * b.physicalCols);
  const arrays = new Array<number>(s.arraysUsed).fill(0);
  for (const [k, cells] of perArray) {
    const a = Number(k.split('/')[1]);
    arrays[a] = Math.max(arrays[a], cells / (R * C));
  }
  const used = [...perArray.values()];
  return { layers, arrays, total: used.reduce((a, c) => a + c, 0) / Math.max(1, used.length * R * C) };
}

const fmtNum = (x: number) => String(Number(x.toPrecision(6)));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The canonical text: header, then per layer its mapping directives, blocks and steps. */
export function printSchedule(s: Schedule): string {
  const sp = s.spec;
  const x = sp.crossbar;
  const out: string[] = [];
  out.push(`# tandem schedule v${s.version}: ${s.model.name} (${s.model.hash}) on ${sp.name}`);
  out.push(`architecture:`);
  out.push(`  crossbar: ${x.rows}x${x.cols} cells, ${x.cellBits} bit/cell, G ${x.gMinUs}..${x.gMaxUs} uS`);
  out.push(`  weights: ${sp.weights.bits} bit in ${sp.weights.cellsPerWeight} cells, ${sp.weights.signed} (${columnsPerWeight(sp)} columns per weight)`);
  out.push(`  input: ${sp.input.dacBits === 1 ? 'bit-serial (1-bit DAC)' : `${sp.input.dacBits}-bit DAC`}`);
  out.push(`  adc: ${sp.adc.bits} bit, ${sp.adc.perArray} per array, range ${sp.adc.range}`);
  out.push(`  arrays: ${sp.architecture.tiles} tiles x ${sp.architecture.arraysPerTile} = ${s.arraysAvailable}; used ${s.arraysUsed}; rounds ${s.rounds}`);
  for (const n of s.notes) out.push(`# ${n}`);
  const steps = new Map(s.steps.map((st) => [st.id, st]));
  const emitted = new Set<string>();
  const emit = (id: string) => {
    const st = steps.get(id)!;
    emitted.add(id);
    const deps = st.deps.length ? `  after ${st.deps.join(', ')}` : '';
    switch (st.kind) {
      case 'program':
        return `  step ${st.id}: program round ${st.round} ${st.perInference ? 'every inference' : 'once'}: ${st.blocks.length} blocks, ${st.cells} cells, ${st.rowsWritten} row writes${deps}`;
      case 'mvm':
        return `  step ${st.id}: mvm block ${st.block} vectors=${st.vectors} cycles=${st.inputCycles} rows=${st.activeRows} conversions=${st.conversions} adcs=${st.adcs}x${st.columnsPerAdc} G=${fmtNum(st.cellConductanceUs)}uS activity=${fmtNum(st.inputActivity)}${deps}`;
      case 'accumulate':
        return `  step ${st.id}: accumulate adds=${st.adds} requantize=${st.requantizations}${deps}`;
      case 'digital':
        return `  step ${st.id}: digital ${st.op} ops=${st.ops} bytes=${st.bytes}${deps}`;
    }
  };
  for (const l of s.layers) {
    out.push(`layer ${l.layer}: ${l.op}${l.origin !== l.layer ? ` (origin ${l.origin})` : ''} on ${l.where}${l.reason ? ` # ${l.reason}` : ''}`);
    const mine = s.steps.filter((st) => 'layer' in st && st.layer === l.layer);
    for (const p of s.steps) {
      if (p.kind === 'program' && !emitted.has(p.id) && mine.some((m) => m.deps.includes(p.id))) out.push(emit(p.id));
    }
    if (l.where === 'crossbar') {
      const adc = l.adc!;
      out.push(`  - target: crossbar`);
      out.push(`    type: spatial`);
      out.push(`    factors: K=${l.rows} N=${l.cols} digits=${sp.weights.cellsPerWeight} replicas=${l.replicas} arrays=${l.arrays}`);
      out.push(`  - target: input`);
      out.push(`    type: temporal`);
      out.push(`    factors: vectors=${l.vectors} cycles=${l.inputCycles} bits=${l.inputBits}`);
      out.push(`  - target: adc`);
      out.push(`    type: conversion`);
      const list = (xs: readonly number[]) => (xs.every((v) => v === xs[0]) ? fmtNum(xs[0]) : `[${xs.map(fmtNum).join(',')}]`);
      out.push(`    factors: bits=${adc.bits} ${adc.signed ? 'signed' : 'unsigned'} fullScale=${list(adc.fullScale)}${adc.center ? ` center=${list(adc.center)}` : ''} step=${list(adc.step)} maxSum=${adc.maxSum}`);
      for (const b of s.blocks.filter((bb) => bb.layer === l.layer)) {
        out.push(`  block ${b.id}: rows [${b.rows[0]}, ${b.rows[1]}) cols [${b.cols[0]}, ${b.cols[1]})${b.diagonal ? ' diagonal' : ''} -> array ${b.array} (tile ${Math.floor(b.array / sp.architecture.arraysPerTile)}) at (${b.rowOffset}, ${b.colOffset}) ${b.physicalRows}x${b.physicalCols} round ${b.round}`);
      }
    }
    for (const st of mine) out.push(emit(st.id));
  }
  const u = utilisation(s);
  out.push(`utilisation: ${pct(u.total)} of the cells of the ${s.arraysUsed} arrays in use`);
  return out.join('\n') + '\n';
}

/** One row per crossbar layer: arrays, cell / row / column utilisation. */
export function utilisationTable(s: Schedule): string[][] {
  const u = utilisation(s);
  return [['layer', 'arrays', 'cells', 'rows', 'cols'], ...u.layers.map((l) => [l.layer, String(l.arrays), pct(l.cells), pct(l.rows), pct(l.cols)]), ['total', String(s.arraysUsed), pct(u.total), '', '']];
}
