// The Schedule (layer-schedule IR): what a CIM accelerator does for one inference of a quantized Graph,
// produced by lower.ts from the Graph and an AcceleratorSpec, checked by verify.ts, printed by print.ts,
// executed by sim/ and costed by sim/cost. docs/schedule.md describes it with an example.
//
//   - Every conv/dense on crossbars is a logical matrix of weight codes, K = kh·kw·cin rows (the kernel's
//     [kh, kw, cin, cout] order) × N = cout columns; a depthwise conv on crossbars is kh·kw × C, mapped
//     block-diagonally (each channel's taps on their own rows, feeding only its own column).
//   - The matrix is cut into blocks (row split: digital partial-sum accumulation; column split: across
//     arrays); each block sits on one array at a physical offset, with all the digits (cells) of each of
//     its weights on adjacent columns. `replica` > 0 blocks are copies for pipeline balance.
//   - Blocks are programmed in rounds: everything fits → one round, programmed once before inference;
//     otherwise the arrays are reprogrammed (a `program` step with its write cost) between rounds.
//   - Steps run in order; `deps` name the steps whose results a step reads.
import type { AcceleratorSpec } from '../../sim/spec/types.js';
import type { OpKind } from '../ir/types.js';

export interface WeightBlock {
  /** Unique, e.g. 'conv2/r1c0' or 'conv2/r1c0#1' for a replica. */
  readonly id: string;
  /** Node id of the layer. */
  readonly layer: string;
  readonly replica: number;
  /** Logical matrix rows [start, end) (for a diagonal block: the taps, always all of them). */
  readonly rows: readonly [number, number];
  /** Logical matrix columns [start, end) (output channels). */
  readonly cols: readonly [number, number];
  /** Depthwise block-diagonal: column c's taps occupy physical rows (c − cols[0])·taps + tap. */
  readonly diagonal: boolean;
  /** Global array index, tile = floor(array / arraysPerTile). */
  readonly array: number;
  /** Physical position of the block's first cell in the array. */
  readonly rowOffset: number;
  readonly colOffset: number;
  /** Physical rows and columns used. */
  readonly physicalRows: number;
  readonly physicalCols: number;
  /** Programming round (0 when everything fits). */
  readonly round: number;
}

/**
 * How a layer's ADCs read its column sums: one range per weight digit (the columns of a digit have their
 * own ADC reference; the digits' sums differ in spread), shared by every block and input cycle.
 */
export interface AdcSetting {
  readonly bits: number;
  /** Signed (differential pairs, offset with reference columns) or unsigned conversion. */
  readonly signed: boolean;
  /** Per digit: full scale in unit column-sum levels (one cell level × one input level). */
  readonly fullScale: readonly number[];
  /** Per digit: LSB in unit levels, fullScale / max code, never below 1 (finer codes carry no information). */
  readonly step: readonly number[];
  /** Largest |column sum| any block of the layer can produce (the 'max' full scale). */
  readonly maxSum: number;
  /** Per digit: the midpoint of the input range [center − fullScale, center + fullScale] (adc.center
   * 'calibrated'), a whole number of steps (so 0 converts to 0); absent = 0. */
  readonly center?: readonly number[];
}

export interface LayerMapping {
  /** Node id. */
  readonly layer: string;
  /** Original layer id (node origin), for reports. */
  readonly origin: string;
  readonly op: OpKind;
  /** crossbar: analog MVMs on arrays; digital: the digital unit. */
  readonly where: 'crossbar' | 'digital';
  /** Why a weighted layer is where it is (depthwise choice, grouped conv, ...). */
  readonly reason?: string;
  /** Logical matrix (crossbar layers). */
  readonly rows: number;
  readonly cols: number;
  /** Matrix-vector products per inference (output positions). */
  readonly vectors: number;
  /** Multiply-accumulates of the original layer per inference. */
  readonly macs: number;
  /** Input codes q enter as u = q − qmin (≥ 0) in `inputBits` bits, `inputCycles` DAC cycles. */
  readonly inputBits: number;
  readonly inputCycles: number;
  readonly adc?: AdcSetting;
  readonly replicas: number;
  /** Arrays holding this layer's blocks (replica 0..replicas−1), per round. */
  readonly arrays: number;
}

interface StepBase {
  readonly id: string;
  readonly deps: readonly string[];
}

/** (Re)program the blocks of a round onto their arrays. */
export interface ProgramStep extends StepBase {
  readonly kind: 'program';
  readonly round: number;
  /** Before the first inference only (one round), or every inference (reloads). */
  readonly perInference: boolean;
  readonly blocks: readonly string[];
  readonly cells: number;
  /** Array rows written (rows are written in parallel across arrays). */
  readonly rowsWritten: number;
}

/** One block's MVMs for all the vectors of an inference it serves. */
export interface MvmStep extends StepBase {
  readonly kind: 'mvm';
  readonly layer: string;
  readonly block: string;
  /** Vectors this block (replica) computes per inference. */
  readonly vectors: number;
  readonly inputCycles: number;
  /** ADC conversions per vector per input cycle (one per digit column, or pair). */
  readonly conversions: number;
  /** ADCs this block uses and the columns each one serves in turn. */
  readonly adcs: number;
  readonly columnsPerAdc: number;
  readonly activeRows: number;
  /** Σ G of the block's physical cells at their programmed levels (reference columns included), µS:
   * a row driven at full input draws its share of this (cost model, array read energy). */
  readonly cellConductanceUs: number;
  /** Mean input drive per row and cycle as a fraction of full scale (bit-serial: the density of 1
   * bits), from calibration inputs or a default (sim/cost/activity.ts). */
  readonly inputActivity: number;
}

/** Digital: shift-add of digits and cycles, row-block partial sums, corrections, bias, requantization. */
export interface AccumulateStep extends StepBase {
  readonly kind: 'accumulate';
  readonly layer: string;
  /** Integer additions (shift-adds included) and requantizations per inference. */
  readonly adds: number;
  readonly requantizations: number;
}

/** A non-crossbar op on the digital unit (pooling, activation, add, concat, depthwise, ...). */
export interface DigitalStep extends StepBase {
  readonly kind: 'digital';
  readonly layer: string;
  readonly op: OpKind;
  /** Integer operations per inference. */
  readonly ops: number;
  /** Activation bytes read and written. */
  readonly bytes: number;
}

export type Step = ProgramStep | MvmStep | AccumulateStep | DigitalStep;

export interface Schedule {
  readonly version: 1;
  /** The model's name and a content hash of its quantized graph (simulate checks it). */
  readonly model: { readonly name: string; readonly hash: string };
  readonly spec: AcceleratorSpec;
  /** Programming rounds (1 = the whole model fits). */
  readonly rounds: number;
  /** Arrays available (tiles × arrays per tile) and used (the most in any round). */
  readonly arraysAvailable: number;
  readonly arraysUsed: number;
  /** One per graph node, in graph order. */
  readonly layers: readonly LayerMapping[];
  readonly blocks: readonly WeightBlock[];
  readonly steps: readonly Step[];
  /** Notes from lowering (choices made, what did not fit). */
  readonly notes: readonly string[];
}
