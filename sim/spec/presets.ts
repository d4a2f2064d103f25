// The preset accelerators. Every number's source (paper, or repository + file + constant) and every
// assumption is listed in docs/accelerators.md, one table per preset; the short comments here only
// name the source so that a reader of this file can find the row.
//
//   ideal-int8    exact reference: no noise, a wide ADC; per-event costs copied from rram-128.
//   rram-128      DNN+NeuroSim V1.3 (RRAM, 22 nm) defaults; peripheral costs from ISAAC.
//   pcm-256       IBM aihwkit InferenceRPUConfig + PCMLikeNoiseModel; costs from IBM HERMES (14 nm PCM).
//   sram-cim-256  charge-domain SRAM macro after Jia et al., JSSC 2020 (65 nm, bit-serial, 8-b ADCs).
import type { AcceleratorSpec } from './types.js';

// ---------------------------------------------------------------------------------------------
// Shared digital-periphery numbers (docs/accelerators.md, "Common component sources").
// ISAAC (Shafiee et al., ISCA 2016, 32 nm) as transcribed, with derivations, in
// Accelergy-Project/hwcomponents-library hwcomponents_library/library/isaac.py.
const ISAAC = {
  /** 1-b DAC: 4 mW / (128·8 DACs · 1.2e7 conversions/s), without isaac.py's 128/100 utilisation factor. */
  dacPj: 4e-3 / (128 * 8 * 1.2e7) * 1e12, // 0.3255
  /** 170 µm² / (128·8) per 1-b DAC. */
  dacUm2: 170 / (128 * 8), // 0.166
  /** Shift-and-add (16 b): 0.021 pJ, 60 µm². */
  shiftAddPj: 0.021,
  shiftAddUm2: 60,
  /** 5-b ADC row of isaac.py's Saberi-scaled table: 0.99 pJ, 476.91 µm² (used for area only). */
  adc5Um2: 476.91,
  /** 8-b ADC: 16 mW / (1.2·8 GS/s) = 1.67 pJ, 9600 µm² / 8 = 1200 µm². */
  adc8Pj: 1.666666667,
  adc8Um2: 1200,
  /** 64 KB eDRAM tile buffer, 256-b port: 20.45 pJ per access, 83 000 µm². */
  bufferPjPerByte: 20.45 / 32, // 0.639
  bufferUm2PerKiB: 83000 / 64, // 1296.9
  bufferKiB: 64,
  /** Router (256-b flit): 20.74 pJ per transfer. */
  interconnectPjPerByte: 20.74 / 32, // 0.648
};

/** Aladdin 32-b integer adder, 40 nm: 0.21 pJ per add, 278 µm² (hwcomponents-library aladdin.py). */
const ALADDIN_ADD = { pj: 0.21, um2: 278 };

// ---------------------------------------------------------------------------------------------
// rram-128: DNN+NeuroSim V1.3, Inference_pytorch/NeuroSIM/Param.cpp (technode 22, wireWidth 40).
const NEUROSIM = {
  ronOhm: 6e3, // resistanceOn
  roffOhm: 6e3 * 150, // resistanceOff
  readVoltageV: 0.5, // readVoltage
  readPulseNs: 10, // readPulseWidth = 10e-9
  /** Rho 4.03e-8 Ω·m, AR 1.9, width 40 nm; a column wire crosses one 1T1R cell height, 4F = 160 nm,
   * per row (Param.cpp's wireResistanceRow = unit resistance × heightInFeatureSize1T1R·F). */
  colWireOhmPerCell: (4.03e-8 / (40e-9 * 40e-9 * 1.9)) * (4 * 40e-9), // 2.121
  /** 1T1R cell 4F × 12F (heightInFeatureSize1T1R, widthInFeatureSize1T1R), F = featuresize 40 nm. */
  cellUm2: 4 * 0.04 * (12 * 0.04), // 0.0768
  /** MultilevelSenseAmp.cpp GetColumnPower, 22 nm LP, current mode: 1.7 µW·(levelOutput − 1), for 1 ns. */
  adcPj: 1.7e-6 * (32 - 1) * 1e-9 * 1e12, // 0.0527
  /** MultilevelSenseAmp.cpp GetColumnLatency: 1 ns at technode ≤ 22 nm. */
  adcNs: 1,
  /** Param.cpp writeVoltage (V1.3) and writePulseWidth (V2.1), one pulse at the mid-range conductance. */
  writeVoltageV: 2,
  writePulseNs: 50,
  clockMhz: 1000, // clkFreq = 1e9
};
const rramGMaxUs = 1e6 / NEUROSIM.ronOhm; // 166.67
const rramGMinUs = 1e6 / NEUROSIM.roffOhm; // 1.111
const rramCellWritePj = NEUROSIM.writeVoltageV ** 2 * ((rramGMaxUs + rramGMinUs) / 2) * 1e-6 * NEUROSIM.writePulseNs * 1e-9 * 1e12; // 16.8

const rramEnergy: AcceleratorSpec['energy'] = {
  adcPjPerConversion: NEUROSIM.adcPj,
  dacPjPerRowCycle: ISAAC.dacPj,
  shiftAddPjPerOp: ISAAC.shiftAddPj,
  bufferPjPerByte: ISAAC.bufferPjPerByte,
  interconnectPjPerByte: ISAAC.interconnectPjPerByte,
  digitalPjPerOp: ALADDIN_ADD.pj,
  cellWritePjPerCell: rramCellWritePj,
};

const rramLatency: AcceleratorSpec['latency'] = {
  arrayReadNs: NEUROSIM.readPulseNs,
  adcNsPerConversion: NEUROSIM.adcNs,
  rowWriteNs: NEUROSIM.writePulseNs,
  bufferBytesPerNs: 32, // 256-b eDRAM port (ISAAC) at 1 GHz: assumption
  interconnectBytesPerNs: 32, // 256-b router flit at 1 GHz: assumption
};

const RRAM_DIGITAL_LANES = 64; // assumption

const RRAM_128: AcceleratorSpec = {
  name: 'rram-128',
  description: 'NeuroSim-like 1T1R RRAM, 22 nm: 128x128 arrays, 2-b cells (4 per 8-b weight), offset + reference column, bit-serial inputs, 5-b ADC per 8 columns',
  crossbar: {
    rows: 128,
    cols: 128,
    cellBits: 2,
    gMinUs: rramGMinUs,
    gMaxUs: rramGMaxUs,
    readVoltageV: NEUROSIM.readVoltageV,
    // 1T1R, inputs on the word lines (transistor gates): no cell current flows along a row
    rowWireResistanceOhm: 0,
    colWireResistanceOhm: NEUROSIM.colWireOhmPerCell,
    inputDrive: 'gate', // SubArray.cpp conventionalParallel: the input bit switches the word line (capRow2·vdd²)
  },
  weights: { bits: 8, cellsPerWeight: 4, signed: 'offset' },
  input: { dacBits: 1 },
  adc: {
    bits: 5, // levelOutput = 32
    perArray: 128 / 8, // numColMuxed = 8
    range: 'calibrated',
    calibrationPercentile: 100, // wage_quantizer.LinearQuantizeOut: full scale = observed min..max
    offsetLsb: 0,
    gainError: 0,
    inlLsb: 0,
  },
  architecture: {
    arraysPerTile: 16, // Chip.cpp: tile >= 4·numRowSubArray, PE = tile/2: 2x2 PEs of 2x2 subarrays
    tiles: 16, // assumption: holds fmnist-vgg (~150 arrays) with room to duplicate
    inputBufferKiB: ISAAC.bufferKiB,
    outputBufferKiB: 4, // assumption: 16 arrays x 31 columns x 4-B partial sums, double-buffered
    depthwise: 'auto',
    duplicate: false, // Param.cpp pipeline = false (layer by layer)
  },
  digital: { opsPerCycle: RRAM_DIGITAL_LANES, clockMhz: NEUROSIM.clockMhz },
  devices: {
    // Wan et al., Nature 2022, as fitted in aihwkit ReRamWan2022NoiseModel (t = 1 s): RMS over the four
    // 2-b levels of the 40 µS-referenced polynomial, 1.53 µS / 40 µS.
    programmingNoise: { model: 'gaussian', stdFractionOfRange: 0.038 },
    // aihwkit reram.py: "short-term read noise (about 1%)", w_noise ~ 0.01.
    readNoise: { model: 'gaussian', stdFractionOfRange: 0.01 },
    drift: { model: 'none' }, // NeuroSim retention t = 0, v = 0 (inference.py defaults)
    driftCompensation: false,
    // Chen et al., IEEE TC 2015 (4-Mb HfO2 test chip): SA1 9.04 %, SA0 1.75 %; scaled down 10x (assumption).
    stuckOnRate: 0.00904,
    stuckOffRate: 0.00175,
  },
  energy: rramEnergy,
  area: {
    arrayUm2: 128 * 128 * NEUROSIM.cellUm2 + 128 * ISAAC.dacUm2, // 1279.5
    adcUm2: ISAAC.adc5Um2,
    shiftAddUm2PerArray: (128 / 8) * ISAAC.shiftAddUm2, // one shift-add per ADC, as NeuroSim's SubArray
    bufferUm2PerKiB: ISAAC.bufferUm2PerKiB,
    digitalUm2: RRAM_DIGITAL_LANES * ALADDIN_ADD.um2,
  },
  latency: rramLatency,
};

// ---------------------------------------------------------------------------------------------
// ideal-int8: exact arithmetic; per-event costs copied from rram-128 so the two compare on accuracy.
const IDEAL_INT8: AcceleratorSpec = {
  name: 'ideal-int8',
  description: 'Exact reference: 256x256 arrays, 4-b cells, differential, bit-serial, 13-b ADC at full range, no noise/drift/faults/IR drop (rram-128 per-event costs)',
  crossbar: {
    rows: 256,
    cols: 256,
    cellBits: 4,
    gMinUs: rramGMinUs,
    gMaxUs: rramGMaxUs,
    readVoltageV: NEUROSIM.readVoltageV,
    rowWireResistanceOhm: 0,
    colWireResistanceOhm: 0,
    inputDrive: 'voltage', // no wire resistance: either drive gives the same (ideal) currents
  },
  weights: { bits: 8, cellsPerWeight: 2, signed: 'differential' },
  input: { dacBits: 1 },
  adc: {
    bits: 13, // ceil(log2(256·15)) + 1 sign: every differential column sum of a block is exact
    perArray: 16, // same column-mux ratio as rram-128 (8)
    range: 'max',
    offsetLsb: 0,
    gainError: 0,
    inlLsb: 0,
  },
  architecture: { ...RRAM_128.architecture },
  digital: { ...RRAM_128.digital },
  devices: {
    programmingNoise: { model: 'none' },
    readNoise: { model: 'none' },
    drift: { model: 'none' },
    driftCompensation: false,
    stuckOnRate: 0,
    stuckOffRate: 0,
  },
  energy: { ...rramEnergy },
  area: {
    ...RRAM_128.area,
    arrayUm2: 256 * 256 * NEUROSIM.cellUm2 + 256 * ISAAC.dacUm2, // rram-128's cell and driver, 256x256
  },
  latency: { ...rramLatency },
};

// ---------------------------------------------------------------------------------------------
// pcm-256: aihwkit (IBM/aihwkit) inference defaults and PCMLikeNoiseModel; HERMES chip numbers:
// Le Gallo et al., Nature Electronics 2023 (64 cores, 63.1 TOPS and 9.76 TOPS/W, one-phase, 8-b I/O);
// Khaddam-Aljameh et al., JSSC 2022 (HERMES core: 256 CCO ADCs, 10.5 TOPS/W, 1.59 TOPS/mm², 1 GHz).
const HERMES = {
  /** One-phase MVM time per core: 64 cores · 2·256·256 ops / 63.1 TOPS. */
  mvmNs: (64 * 2 * 256 * 256) / 63.1e12 * 1e9, // 132.9
  /** Core energy per 256x256 MVM: 2·256·256 ops / 10.5 TOPS/W. */
  mvmPj: (2 * 256 * 256) / 10.5e12 * 1e12, // 12 483
  /** Core area: (2·256·256 ops / mvmNs) / 1.59 TOPS/mm². */
  coreUm2: ((2 * 256 * 256) / ((64 * 2 * 256 * 256) / 63.1e12)) / 1.59e12 * 1e6, // 620 087
};
/** Cell energy the simulator adds per MVM for a typical layer (assumption: half the rows active, the
 * active device of a pair at 5 µS, 0.4 V, 128 ns); the rest of the core energy is split 2:1 ADC:drivers. */
const pcmCellPj = 256 * 256 * 0.5 * 0.4 ** 2 * 5e-6 * 128e-9 * 1e12; // 3355
const pcmPeripheryPj = HERMES.mvmPj - pcmCellPj; // 9128
const PCM_ADC_UM2 = 4 * 100; // 4 µm pitch (JSSC 2022) x 100 µm height (assumption)
const PCM_DIGITAL_LANES = 256; // assumption: one lane per ADC output, as the per-core LDPU

const PCM_256: AcceleratorSpec = {
  name: 'pcm-256',
  description: 'aihwkit/HERMES-like PCM, 14 nm: 256x256 differential weights (512 columns), 7-b analog cells, 8-b PWM inputs, 9-b ADC per column pair, PCM noise and drift',
  crossbar: {
    rows: 256,
    cols: 512, // 256 weight columns, each a G+/G- pair (one ADC per pair)
    cellBits: 7,
    gMinUs: 0, // SinglePairConductanceConverter g_min default
    gMaxUs: 25, // SinglePairConductanceConverter g_max default
    readVoltageV: 0.4, // IOParametersIRDropT.ir_drop_v_read = 0.4005
    rowWireResistanceOhm: 0, // assumption: aihwkit's IR-drop model has no input-wire term
    colWireResistanceOhm: 0.15, // IOParametersIRDropT.ir_drop_rs, along the column (InferenceRPUConfig default ir_drop = 0)
    inputDrive: 'voltage', // aihwkit IRDropT: inputs are voltages on the rows (ir_drop_v_read), PWM in HERMES
  },
  weights: { bits: 8, cellsPerWeight: 1, signed: 'differential' },
  input: { dacBits: 8 }, // IOParameters.inp_res = 1/(2^7 - 2): 7 b + sign, one 8-b code per cycle
  adc: {
    bits: 9, // IOParameters.out_res = 1/(2^9 - 2)
    perArray: 256, // 256 ADCs per core (JSSC 2022)
    range: 'fixed',
    fixedFullScaleFraction: 12 / 256, // IOParameters.out_bound = 12 of a 256-row maximum of 256
    offsetLsb: 0,
    gainError: 0,
    inlLsb: 0,
  },
  architecture: {
    arraysPerTile: 1, // one crossbar per core
    tiles: 64, // 64 cores (Nature Electronics 2023)
    inputBufferKiB: 16, // assumption
    outputBufferKiB: 2, // assumption
    depthwise: 'auto',
    duplicate: false,
  },
  digital: { opsPerCycle: PCM_DIGITAL_LANES, clockMhz: 1000 }, // 1 GHz main clock (JSSC 2022)
  devices: {
    programmingNoise: { model: 'pcm', coefficientsUs: [0.26348, 1.965, -1.1731], scale: 1 }, // PCMLikeNoiseModel prog_coeff
    readNoise: { model: 'pcm', tReadS: 250e-9, scale: 1 }, // t_read = 250e-9, read_noise_scale = 1
    drift: { model: 'pcm', t0S: 20 }, // t_0 = 20
    driftCompensation: true, // InferenceRPUConfig.drift_compensation = GlobalDriftCompensation
    stuckOnRate: 0,
    stuckOffRate: 0,
  },
  energy: {
    adcPjPerConversion: (pcmPeripheryPj * 2) / 3 / 256, // 23.8
    dacPjPerRowCycle: pcmPeripheryPj / 3 / 256, // 11.9
    shiftAddPjPerOp: ISAAC.shiftAddPj,
    bufferPjPerByte: ISAAC.bufferPjPerByte,
    interconnectPjPerByte: ISAAC.interconnectPjPerByte,
    digitalPjPerOp: ALADDIN_ADD.pj,
    cellWritePjPerCell: 50, // assumption (order of magnitude of iterative PCM programming)
  },
  area: {
    arrayUm2: HERMES.coreUm2 - 256 * PCM_ADC_UM2, // core minus its ADCs (PWM drivers and LDPU included)
    adcUm2: PCM_ADC_UM2,
    shiftAddUm2PerArray: 0, // in arrayUm2 (LDPU)
    bufferUm2PerKiB: ISAAC.bufferUm2PerKiB,
    digitalUm2: PCM_DIGITAL_LANES * ALADDIN_ADD.um2,
  },
  latency: {
    arrayReadNs: 128, // PWM window of a 7-b magnitude at 1 ns per LSB (1 GHz): assumption
    adcNsPerConversion: HERMES.mvmNs - 128, // the rest of the 133 ns MVM
    rowWriteNs: 20000, // assumption: ~20 program-and-verify iterations of ~1 µs
    bufferBytesPerNs: 32, // assumption
    interconnectBytesPerNs: 32, // assumption
  },
};

// ---------------------------------------------------------------------------------------------
// sram-cim-256: charge-redistribution (M-BC capacitor) SRAM CIM after Jia et al., JSSC 2020
// (65 nm, 590-Kb CIMA = 2304 x 256 bits, bit-serial inputs, 1-b cells, 192 1b-TOPS/W and
// 0.60 1b-TOPS/mm² at 1.2 V). Component numbers in hwcomponents-library jia.py (cycle 540 ns).
const JIA = {
  vdd: 1.2,
  /** 192 1b-TOPS/W: energy of one 2304-row column for one input bit, 2·2304 ops. */
  columnPj: (2 * 2304) / 192e12 * 1e12, // 24
  cycleNs: 540, // jia.py global_cycle_period
  shiftAddPj: 2.25, // jia.py JiaShiftAdd, 8 b, 5000 µm²
  shiftAddUm2: 5000,
  datapathPj: 2.4, // jia.py JiaDatapath.process (quantize + activation of one output), 10 535 µm²
  datapathUm2: 10535,
};
/** Per (row, column) and input bit: the column energy less one 8-b conversion (ISAAC's 1.67 pJ). */
const sramCellFj = ((JIA.columnPj - ISAAC.adc8Pj) / 2304) * 1e3; // 9.69 fJ
/** Area of one 256x256 block with its 256 ADCs: (2·256·256 ops / 540 ns) / 0.60 TOPS/mm². */
const sramBlockUm2 = ((2 * 256 * 256) / (JIA.cycleNs * 1e-9)) / 0.6e12 * 1e6; // 404 543
const SRAM_DIGITAL_LANES = 32; // assumption

const SRAM_CIM_256: AcceleratorSpec = {
  name: 'sram-cim-256',
  description: 'Charge-domain SRAM CIM after Jia et al. JSSC 2020, 65 nm: 256x256 1-b cells, two\'s-complement bit slices, bit-serial inputs, 8-b ADC per column',
  crossbar: {
    rows: 256,
    cols: 256,
    cellBits: 1,
    gMinUs: 0,
    // No resistive read path: a nominal conductance that makes V²·G·t negligible (0.06 fJ per cell-cycle);
    // the capacitor charge-sharing energy is charged per active row in dacPjPerRowCycle.
    gMaxUs: 0.001,
    readVoltageV: JIA.vdd,
    rowWireResistanceOhm: 0, // charge domain: no static current, no IR drop
    colWireResistanceOhm: 0,
    inputDrive: 'voltage', // no wire resistance: either drive gives the same currents
  },
  weights: { bits: 8, cellsPerWeight: 8, signed: 'twos-complement' },
  input: { dacBits: 1 }, // bit-parallel/bit-serial (BPBS) inputs
  adc: {
    bits: 8,
    perArray: 256, // one ADC per column
    range: 'max', // fixed references spanning the full column swing
    offsetLsb: 0,
    gainError: 0,
    inlLsb: 0,
  },
  architecture: {
    arraysPerTile: 9, // one 2304 x 256 CIMA = 9 blocks of 256 rows
    tiles: 8, // assumption: holds fmnist-vgg (~66 arrays)
    inputBufferKiB: 16, // assumption
    outputBufferKiB: 4, // assumption
    depthwise: 'auto',
    duplicate: false,
  },
  digital: { opsPerCycle: SRAM_DIGITAL_LANES, clockMhz: 100 }, // assumption
  devices: {
    // Capacitor mismatch (static): 4.5 % of an LSB at a column (MC2-RAM, 65 nm Monte Carlo) spread over
    // 256 cells of ~1 LSB each: 0.045 / 16 (assumption-laden conversion, docs/accelerators.md).
    programmingNoise: { model: 'gaussian', stdFractionOfRange: 0.003 },
    // kT/C of a 256 fF column (1 fF per cell, assumption) at 1.2 V / 256 per LSB: 0.027 LSB, / sqrt(256).
    readNoise: { model: 'gaussian', stdFractionOfRange: 0.0017 },
    drift: { model: 'none' },
    driftCompensation: false,
    stuckOnRate: 0,
    stuckOffRate: 0,
  },
  energy: {
    adcPjPerConversion: ISAAC.adc8Pj,
    dacPjPerRowCycle: (sramCellFj * 256) / 1e3, // 2.48: one active row across 256 columns
    shiftAddPjPerOp: JIA.shiftAddPj,
    bufferPjPerByte: ISAAC.bufferPjPerByte,
    interconnectPjPerByte: ISAAC.interconnectPjPerByte,
    digitalPjPerOp: JIA.datapathPj,
    cellWritePjPerCell: 0.05, // assumption: a 65 nm SRAM bit write
  },
  area: {
    arrayUm2: sramBlockUm2 - 256 * ISAAC.adc8Um2, // 97 343 µm², ~1.49 µm² per bit cell
    adcUm2: ISAAC.adc8Um2,
    shiftAddUm2PerArray: JIA.shiftAddUm2,
    bufferUm2PerKiB: ISAAC.bufferUm2PerKiB,
    digitalUm2: SRAM_DIGITAL_LANES * JIA.datapathUm2,
  },
  latency: {
    arrayReadNs: 40, // assumption: the 540 ns cycle split 40 ns charge sharing + 500 ns conversion
    adcNsPerConversion: JIA.cycleNs - 40,
    rowWriteNs: 10, // assumption: one SRAM row write per 100 MHz cycle
    bufferBytesPerNs: 32, // assumption
    interconnectBytesPerNs: 32, // assumption
  },
};

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** The preset accelerators by name (frozen: `loadSpec` hands out copies). */
export const PRESETS: Readonly<Record<string, AcceleratorSpec>> = deepFreeze({
  'ideal-int8': IDEAL_INT8,
  'rram-128': RRAM_128,
  'pcm-256': PCM_256,
  'sram-cim-256': SRAM_CIM_256,
});

/** Preset names, in a fixed order (ideal first). */
export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
