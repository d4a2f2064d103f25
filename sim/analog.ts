// The analog device model: what each block's cells really hold when the inference runs, and a
// non-ideal ADC. Per block (one array) and Monte-Carlo seed:
//   1. target conductances: level d -> Gmin + d·ΔG, ΔG = (Gmax − Gmin)/(2^cellBits − 1); differential
//      pairs get a + and a − cell; the other schemes get, per row, a reference cell per digit (the
//      reference columns: that digit of the offset, or Gmin for two's complement) whose current is
//      subtracted from every column of that digit;
//   2. programming: stuck-at cells, then programming noise (sim/devices/programming.ts);
//   3. drift to the inference time t after programming, per-device ν (sim/devices/drift.ts);
//   4. IR drop on the block's physical layout, reference columns included: the wire network solved
//      exactly for linear cells as effective conductances (sim/devices/ir-drop.ts); with gate-driven
//      inputs (crossbar.inputDrive 'gate') a mean field at the block's input activity (its MvmStep's);
//   5. effective signed levels the column sums see: (G⁺ − G⁻)/ΔG, or (G − G_ref)/ΔG;
//   6. read noise: per-cell variance at t, resampled at every read as the column sum's Gaussian noise;
//   7. global drift compensation (aihwkit): the block's outputs are scaled digitally by Σ|levels at
//      programming| / Σ|levels at t|.
// The ADC applies its offset, gain error and INL (sim/devices/adc.ts) at the layer's full scale.
// Not modelled here: leakage of the unused cells of a depthwise (diagonal) block, the correlation of
// the shared reference column's read noise across columns (taken as independent), DAC non-linearity.
import type { LayerMapping, Schedule, WeightBlock } from '../compiler/lower/schedule.js';
import { Rng } from '../compiler/util/rng.js';
import type { BlockCells } from './crossbar.js';
import { DEFAULT_INPUT_ACTIVITY } from './cost/activity.js';
import { adcFromSpec, applyDrift, globalDriftFactor, irDropEffectiveConductances, programConductances, readNoiseStdUs, sampleDriftNu, type WireResistance } from './devices/index.js';
import type { DeviceModel } from './simulate.js';
import type { AcceleratorSpec } from './spec/types.js';
import type { WeightDigits } from './weight-digits.js';

export interface AnalogOptions {
  /** Monte-Carlo seed: programming, drift exponents, stuck cells, read noise. */
  readonly seed: number;
  /** Seconds between programming and inference (drift, read noise). */
  readonly timeS: number;
  /** Overrides the spec's drift compensation. */
  readonly driftCompensation?: boolean;
  /** Per block id, the mean input activity (scheduleInputActivity): gate drive's IR-drop mean field.
   * A block without one gets DEFAULT_INPUT_ACTIVITY, as an unmeasured schedule does. */
  readonly inputActivity?: ReadonlyMap<string, number>;
}

/** Block id -> its MvmStep's input activity. */
export function scheduleInputActivity(s: Schedule): Map<string, number> {
  return new Map(s.steps.flatMap((st) => (st.kind === 'mvm' ? [[st.block, st.inputActivity] as const] : [])));
}

/** FNV-1a of a string mixed with a seed: independent, stable streams per block. */
export function mixSeed(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Programmed {
  /** Conductance at inference time and right after programming (µS). */
  now: Float32Array;
  initial: Float32Array;
}

export function analogDevices(spec: AcceleratorSpec, o: AnalogOptions): DeviceModel {
  const x = spec.crossbar;
  const dev = spec.devices;
  const dG = (x.gMaxUs - x.gMinUs) / (2 ** x.cellBits - 1);
  const t0 = dev.drift.model === 'none' ? 1 : dev.drift.t0S;
  const compensate = (o.driftCompensation ?? dev.driftCompensation) && dev.drift.model !== 'none';
  const noise = new Rng(mixSeed(o.seed, 'read noise'));

  /** Programs `targets` (µS) and lets them drift to the inference time. */
  const program = (targets: Float32Array, rng: Rng): Programmed => {
    const { gUs, stuck } = programConductances(targets, x, dev, rng);
    if (dev.drift.model === 'none') return { now: gUs, initial: gUs };
    const nu = sampleDriftNu(targets, dev.drift, x.gMaxUs, rng, stuck);
    return { now: applyDrift(gUs, nu, o.timeS, t0), initial: gUs };
  };

  return {
    cells(layer: LayerMapping, block: WeightBlock, digits: WeightDigits): BlockCells {
      const rng = new Rng(mixSeed(o.seed, block.id));
      const [k0, k1] = block.rows;
      const [n0, n1] = block.cols;
      const Kb = k1 - k0;
      const Nb = n1 - n0;
      const S = digits.slices;
      const N = layer.cols;
      const size = Kb * S * Nb;
      // targets in the levels' layout [k][s][n]
      const target = (planes: readonly Uint8Array[]) => {
        const t = new Float32Array(size);
        for (let k = 0; k < Kb; k++) for (let s = 0; s < S; s++) for (let n = 0; n < Nb; n++) t[(k * S + s) * Nb + n] = x.gMinUs + dG * planes[s][(k0 + k) * N + n0 + n];
        return t;
      };
      const plus = program(target(digits.plus), rng);
      const minus = digits.minus ? program(target(digits.minus), rng) : undefined;
      const ref = minus ? undefined : program(Float32Array.from({ length: Kb * S }, (_, i) => x.gMinUs + dG * digits.reference[i % S]), rng);
      // read noise follows the cells' own conductance; the outputs see them through the wires
      const programmed = { plus: plus.initial, minus: minus?.initial, ref: ref?.initial };
      const wires: WireResistance = { rowOhm: x.rowWireResistanceOhm, colOhm: x.colWireResistanceOhm };
      if ((wires.rowOhm > 0 || wires.colOhm > 0) && !block.diagonal) {
        const layout = blockLayout(Kb, S, Nb, !!minus, !!ref);
        const solve = x.inputDrive === 'gate' ? { gateActivity: o.inputActivity?.get(block.id) ?? DEFAULT_INPUT_ACTIVITY } : {};
        const dropped = (when: 'now' | 'initial') => layout.unpack(irDropEffectiveConductances(layout.pack(plus[when], minus?.[when], ref?.[when]), Kb, layout.cols, wires, solve));
        const now = dropped('now');
        // without drift the two are the same cells: one solve
        const initial = plus.initial === plus.now ? now : dropped('initial');
        for (const [when, d] of [['now', now], ['initial', initial]] as const) {
          plus[when] = d.plus;
          if (minus) minus[when] = d.minus!;
          if (ref) ref[when] = d.ref!;
        }
      }
      const levelsOf = (p: Float32Array, m: Float32Array | undefined, r: Float32Array | undefined) => {
        const out = new Float32Array(size);
        for (let i = 0; i < size; i++) out[i] = (p[i] - (m ? m[i] : r![Math.floor(i / Nb)])) / dG;
        return out;
      };
      const levels = levelsOf(plus.now, minus?.now, ref?.now);
      let readVariance: Float32Array | undefined;
      if (dev.readNoise.model !== 'none') {
        const tRead = o.timeS + (dev.drift.model === 'none' ? 0 : t0);
        const sp = readNoiseStdUs(plus.now, dev.readNoise, x, tRead, undefined, programmed.plus);
        const sm = minus ? readNoiseStdUs(minus.now, dev.readNoise, x, tRead, undefined, programmed.minus) : undefined;
        const sr = ref ? readNoiseStdUs(ref.now, dev.readNoise, x, tRead, undefined, programmed.ref) : undefined;
        readVariance = new Float32Array(size);
        for (let i = 0; i < size; i++) {
          const other = sm ? sm[i] : sr![Math.floor(i / Nb)];
          readVariance[i] = (sp[i] * sp[i] + other * other) / (dG * dG);
        }
      }
      const uniformReadVariance = readVariance && dev.readNoise.model === 'gaussian' ? readVariance[0] : undefined;
      const gain = compensate ? globalDriftFactor(levelsOf(plus.initial, minus?.initial, ref?.initial), levels) : 1;
      return { levels, readVariance, uniformReadVariance, gain };
    },
    adc: (layer: LayerMapping, slice: number) => adcFromSpec(spec.adc, layer.adc!.fullScale[slice], layer.adc!.signed, layer.adc!.center?.[slice]),
    normals: () => noise.fork(),
    lossless: () => false,
  };
}

interface Cells {
  plus: Float32Array;
  minus?: Float32Array;
  ref?: Float32Array;
}

/**
 * A block's physical layout (Kb rows × cols): weight column n's digits s on adjacent columns (a
 * differential pair: + then −), then the offset scheme's reference column per digit at the far end
 * of the rows (the position is an assumption; it matters only with row-wire resistance). `pack`
 * gathers the cells from the levels' layout [k][s][n] (references [k][s]), `unpack` scatters back.
 */
export function blockLayout(Kb: number, S: number, Nb: number, pairs: boolean, reference: boolean) {
  const per = pairs ? 2 : 1;
  const cols = Nb * S * per + (reference ? S : 0);
  const at = (k: number, s: number, n: number, m: number) => k * cols + (n * S + s) * per + m;
  const refAt = (k: number, s: number) => k * cols + Nb * S * per + s;
  return {
    cols,
    pack(plus: Float32Array, minus?: Float32Array, ref?: Float32Array): Float32Array {
      const g = new Float32Array(Kb * cols);
      for (let k = 0; k < Kb; k++) {
        for (let s = 0; s < S; s++) {
          for (let n = 0; n < Nb; n++) {
            g[at(k, s, n, 0)] = plus[(k * S + s) * Nb + n];
            if (minus) g[at(k, s, n, 1)] = minus[(k * S + s) * Nb + n];
          }
          if (ref) g[refAt(k, s)] = ref[k * S + s];
        }
      }
      return g;
    },
    unpack(g: Float32Array): Cells {
      const plus = new Float32Array(Kb * S * Nb);
      const minus = pairs ? new Float32Array(Kb * S * Nb) : undefined;
      const ref = reference ? new Float32Array(Kb * S) : undefined;
      for (let k = 0; k < Kb; k++) {
        for (let s = 0; s < S; s++) {
          for (let n = 0; n < Nb; n++) {
            plus[(k * S + s) * Nb + n] = g[at(k, s, n, 0)];
            if (minus) minus[(k * S + s) * Nb + n] = g[at(k, s, n, 1)];
          }
          if (ref) ref[k * S + s] = g[refAt(k, s)];
        }
      }
      return { plus, minus, ref };
    },
  };
}
