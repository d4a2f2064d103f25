// AcceleratorSpec: the analog compute-in-memory accelerator a model is compiled for and simulated on.
// A JSON document with the unit in every field name that has one (Us = microsiemens, Ns = nanoseconds,
// Pj = picojoules, Um2 = square micrometres, ...). Validated by validateSpec (spec/validate.ts); the
// presets (spec/presets.ts) cite their sources in docs/accelerators.md.
//
// The arithmetic the spec describes (docs/cim.md has the full model):
//   - A conv/dense is a matrix of integer weight codes, K = kh·kw·cin rows × N = cout columns.
//   - Each weight code is stored in `weights.cellsPerWeight` cells of `crossbar.cellBits` bits each
//     (its digits, least significant first), on adjacent physical columns. Signed weights:
//       differential:    w = w⁺ − w⁻, each of |w|'s digits on a pair of columns, the pair's currents
//                        subtracted before the ADC (one conversion per pair);
//       offset:          w + 2^(bits−1) − 1 ≥ 0 stored; per array, one reference column per digit holds
//                        that digit of the offset 2^(bits−1) − 1, and its current is subtracted from
//                        each column of the same digit before the ADC (NeuroSim's dummy column), so
//                        the ADC sees signed sums as with differential pairs;
//       twos-complement: the bits' two's-complement digits; the top digit counts negative in the
//                        digital shift-add (SRAM bit-cell macros).
//   - Inputs are integer codes applied `input.dacBits` bits per cycle (1 = bit-serial).
//   - Each (input cycle, weight digit) column sum over the rows of one array block is digitised by an
//     ADC and shifted-and-added digitally; partial sums of row blocks on different arrays are added
//     digitally.

export type SignedWeightScheme = 'differential' | 'offset' | 'twos-complement';
/** max: full scale = the largest column sum the block can produce; calibrated: per layer, from the
 * column sums observed on calibration inputs; fixed: `fixedFullScaleFraction` of the max. */
export type AdcRangePolicy = 'max' | 'calibrated' | 'fixed';
/** How inputs reach the cells (IR drop, sim/devices/ir-drop.ts). voltage: every row driven, an inactive
 * row at 0 V (its cells still load the column); gate: 1T1R word lines switch the access transistors, an
 * inactive row's cells are open (the row wire then carries no cell current: rowWireResistanceOhm 0). */
export type InputDrive = 'voltage' | 'gate';
/** Where depthwise convolutions run: the digital unit, block-diagonal on crossbars, or the cheaper. */
export type DepthwiseMapping = 'digital' | 'crossbar' | 'auto';

export interface CrossbarSpec {
  readonly rows: number;
  readonly cols: number;
  /** Bits per cell: 2^cellBits evenly spaced conductance levels from gMinUs to gMaxUs. */
  readonly cellBits: number;
  readonly gMinUs: number;
  readonly gMaxUs: number;
  /** Read voltage of an active row (cell read energy = V²·G·t). */
  readonly readVoltageV: number;
  /** IR drop (sim/devices/ir-drop.ts): wire resistance per cell along a row (input) wire and along a
   * column (output) wire; 0 = ideal. A row wire that only drives transistor gates carries no cell
   * current and counts as 0. */
  readonly rowWireResistanceOhm: number;
  readonly colWireResistanceOhm: number;
  /** With 'gate' the simulator's G_eff is a mean field at the layer's input activity (not exact). */
  readonly inputDrive: InputDrive;
}

export interface WeightMappingSpec {
  /** Weight code bits (narrow symmetric range ±(2^(bits−1) − 1)); must equal the model's weight bits. */
  readonly bits: number;
  /** Cells (digits) per weight; must hold the magnitude (differential) or the whole code (others). */
  readonly cellsPerWeight: number;
  readonly signed: SignedWeightScheme;
}

export interface InputSpec {
  /** Input bits applied per cycle: 1 = bit-serial, k = a k-bit DAC. */
  readonly dacBits: number;
}

export interface AdcSpec {
  readonly bits: number;
  /** ADCs per crossbar array; columns per ADC (the column-mux ratio) = ceil(conversion columns / perArray). */
  readonly perArray: number;
  readonly range: AdcRangePolicy;
  /** For range 'fixed': full scale as a fraction of the largest possible column sum, in (0, 1]. */
  readonly fixedFullScaleFraction?: number;
  /** For range 'calibrated': the percentile of |column sums| taken as full scale, in (0, 100]. */
  readonly calibrationPercentile?: number;
  /**
   * Where a signed ADC's input range is centred: 'zero' ([−FS, FS], the default) or 'calibrated' (range
   * 'calibrated' only): per layer and digit on the midpoint c of the calibrated column sums, [c − FS, c + FS],
   * both ends at the (100 − p)/2 percentiles — a reference offset subtracted before conversion and added
   * back in the shift-add. The offset scheme's column sums are one-sided (a digit minus its reference
   * digit), so a zero-centred range leaves half of the codes unused.
   */
  readonly center?: 'zero' | 'calibrated';
  /** Static offset, in LSB. */
  readonly offsetLsb: number;
  /** Gain error, relative (0.01 = the transfer slope is 1% high). */
  readonly gainError: number;
  /** Peak integral non-linearity, in LSB (a smooth bow over the range, zero at both ends). */
  readonly inlLsb: number;
}

export interface ArchitectureSpec {
  readonly arraysPerTile: number;
  readonly tiles: number;
  /** Per tile: input and output buffers (activations in, partial sums out). */
  readonly inputBufferKiB: number;
  readonly outputBufferKiB: number;
  readonly depthwise: DepthwiseMapping;
  /** Copy the weights of the slowest layers onto spare arrays (pipeline balance). */
  readonly duplicate: boolean;
}

export interface DigitalSpec {
  /** Integer operations per cycle of the digital unit (pooling, activation, requantization, add, depthwise). */
  readonly opsPerCycle: number;
  readonly clockMhz: number;
}

export type ProgrammingNoiseSpec =
  | { readonly model: 'none' }
  /** Gaussian, std a fraction of (Gmax − Gmin), the same for every level. */
  | { readonly model: 'gaussian'; readonly stdFractionOfRange: number }
  /** aihwkit's PCM polynomial: std(µS) = max(c0 + c1·g + c2·g², 0), g = G_target / Gmax. */
  | { readonly model: 'pcm'; readonly coefficientsUs: readonly [number, number, number]; readonly scale: number };

export type ReadNoiseSpec =
  | { readonly model: 'none' }
  /** Gaussian per cell and read, std a fraction of (Gmax − Gmin). */
  | { readonly model: 'gaussian'; readonly stdFractionOfRange: number }
  /** aihwkit PCM 1/f read noise: std = G·min(0.0088/(G_prog/Gmax)^0.65, 0.2)·sqrt(ln((t + tRead)/(2·tRead)))·scale. */
  | { readonly model: 'pcm'; readonly tReadS: number; readonly scale: number };

export type DriftSpec =
  | { readonly model: 'none' }
  /** G(t) = G0·((t + t0)/t0)^(−ν), ν ~ N(nuMean, nuStd) per device. */
  | { readonly model: 'power-law'; readonly nuMean: number; readonly nuStd: number; readonly t0S: number }
  /** As power-law with aihwkit's conductance-dependent ν mean and spread for PCM. */
  | { readonly model: 'pcm'; readonly t0S: number };

export interface DeviceSpec {
  readonly programmingNoise: ProgrammingNoiseSpec;
  readonly readNoise: ReadNoiseSpec;
  readonly drift: DriftSpec;
  /** Global drift compensation (aihwkit): outputs rescaled by a reference read at programming time. */
  readonly driftCompensation: boolean;
  /** Fraction of cells stuck at Gmax (on) / at Gmin (off). */
  readonly stuckOnRate: number;
  readonly stuckOffRate: number;
}

/** Energy per event, picojoules (cell reads follow from V²·G·t). */
export interface EnergySpec {
  readonly adcPjPerConversion: number;
  /** Per active row and input cycle (DAC / wordline driver). */
  readonly dacPjPerRowCycle: number;
  readonly shiftAddPjPerOp: number;
  readonly bufferPjPerByte: number;
  readonly interconnectPjPerByte: number;
  readonly digitalPjPerOp: number;
  /** Programming one cell (reloads). */
  readonly cellWritePjPerCell: number;
}

export interface AreaSpec {
  /** One crossbar array with its drivers, excluding ADCs. */
  readonly arrayUm2: number;
  readonly adcUm2: number;
  readonly shiftAddUm2PerArray: number;
  readonly bufferUm2PerKiB: number;
  readonly digitalUm2: number;
}

export interface LatencySpec {
  /** One input cycle on an array: wordlines driven, bitlines settled (before conversion). */
  readonly arrayReadNs: number;
  readonly adcNsPerConversion: number;
  /** Programming one row of an array (reloads). */
  readonly rowWriteNs: number;
  /** Buffer / interconnect bandwidth per tile. */
  readonly bufferBytesPerNs: number;
  readonly interconnectBytesPerNs: number;
}

export interface AcceleratorSpec {
  readonly name: string;
  readonly description: string;
  readonly crossbar: CrossbarSpec;
  readonly weights: WeightMappingSpec;
  readonly input: InputSpec;
  readonly adc: AdcSpec;
  readonly architecture: ArchitectureSpec;
  readonly digital: DigitalSpec;
  readonly devices: DeviceSpec;
  readonly energy: EnergySpec;
  readonly area: AreaSpec;
  readonly latency: LatencySpec;
}

/** Physical columns one weight column occupies (its digits, doubled for differential pairs). */
export function columnsPerWeight(s: AcceleratorSpec): number {
  return s.weights.cellsPerWeight * (s.weights.signed === 'differential' ? 2 : 1);
}

/** ADC conversions per weight column per input cycle (a differential pair is one conversion). */
export function conversionsPerWeight(s: AcceleratorSpec): number {
  return s.weights.cellsPerWeight;
}

/** Columns of an array that hold weights (offset keeps a reference column per digit). */
export function weightColumns(s: AcceleratorSpec): number {
  return s.crossbar.cols - (s.weights.signed === 'offset' ? s.weights.cellsPerWeight : 0);
}

/** Signed column sums (before the ADC): differential pairs and offset with reference columns. */
export const signedSums = (s: AcceleratorSpec): boolean => s.weights.signed !== 'twos-complement';

/** Cells one weight needs: its magnitude's digits (differential), the offset code's (offset), or the
 * low bits' digits plus a sign cell (two's complement). */
export function cellsNeeded(w: Pick<WeightMappingSpec, 'bits' | 'signed'>, cellBits: number): number {
  if (w.signed === 'differential') return Math.ceil((w.bits - 1) / cellBits);
  if (w.signed === 'offset') return Math.ceil(w.bits / cellBits);
  return Math.ceil((w.bits - 1) / cellBits) + 1;
}
