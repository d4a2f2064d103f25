// Shared by the simulator tests: a small explicit accelerator spec and a PTQ-quantized fmnist-vgg.
import { resolveModel } from '../compiler/models/registry.js';
import type { Graph } from '../compiler/ir/types.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import type { AcceleratorSpec } from '../sim/spec/types.js';
import { fashionImages } from './helpers.js';

/** Ideal cells, a 16-bit ADC over the largest column sum: every configuration here is lossless. */
export const TEST_SPEC: AcceleratorSpec = {
  name: 'test-ideal',
  description: 'test spec: ideal cells, wide ADC',
  crossbar: { rows: 128, cols: 128, cellBits: 2, gMinUs: 1, gMaxUs: 100, readVoltageV: 0.2, rowWireResistanceOhm: 0, colWireResistanceOhm: 0, inputDrive: 'voltage' },
  weights: { bits: 8, cellsPerWeight: 4, signed: 'differential' },
  input: { dacBits: 1 },
  adc: { bits: 16, perArray: 16, range: 'max', offsetLsb: 0, gainError: 0, inlLsb: 0 },
  architecture: { arraysPerTile: 16, tiles: 16, inputBufferKiB: 16, outputBufferKiB: 16, depthwise: 'auto', duplicate: true },
  digital: { opsPerCycle: 64, clockMhz: 500 },
  devices: { programmingNoise: { model: 'none' }, readNoise: { model: 'none' }, drift: { model: 'none' }, driftCompensation: false, stuckOnRate: 0, stuckOffRate: 0 },
  energy: { adcPjPerConversion: 2, dacPjPerRowCycle: 0.05, shiftAddPjPerOp: 0.03, bufferPjPerByte: 0.5, interconnectPjPerByte: 1, digitalPjPerOp: 0.2, cellWritePjPerCell: 10 },
  area: { arrayUm2: 1000, adcUm2: 300, shiftAddUm2PerArray: 200, bufferUm2PerKiB: 500, digitalUm2: 20000 },
  latency: { arrayReadNs: 10, adcNsPerConversion: 1.5, rowWriteNs: 100, bufferBytesPerNs: 16, interconnectBytesPerNs: 8 },
};

/** TEST_SPEC with crossbar rows = cols = size, `cellBits` bits per cell and the fewest cells that hold a weight. */
export function specWith(size: number, cellBits: number, signed: AcceleratorSpec['weights']['signed'] = 'differential', dacBits = 1): AcceleratorSpec {
  const need = signed === 'differential' ? Math.ceil(7 / cellBits) : signed === 'offset' ? Math.ceil(8 / cellBits) : Math.ceil(7 / cellBits) + 1;
  return { ...TEST_SPEC, crossbar: { ...TEST_SPEC.crossbar, rows: size, cols: size, cellBits }, weights: { ...TEST_SPEC.weights, cellsPerWeight: need, signed }, input: { dacBits } };
}

let vgg: Promise<Graph> | undefined;
/** fmnist-vgg, PTQ int8 on 64 training images (cached per test file). */
export function quantizedVgg(): Promise<Graph> {
  vgg ??= (async () => {
    const { graph } = await resolveModel('fmnist-vgg');
    const calib = await fashionImages('train', 64);
    return quantizeGraph(graph, { x: calib.x, n: 64 }, DEFAULT_QUANTIZE).graph;
  })();
  return vgg;
}
