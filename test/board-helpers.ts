// Shared by the board tests: the QEMU toolchain check, the firmware build, real blobs from quantized graphs.
import { execFileSync } from 'node:child_process';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { type Graph, OpKind } from '../compiler/ir/types.js';
import { DEFAULT_QUANTIZE, quantizeGraph } from '../compiler/passes/quantize/quantize.js';
import { Rng } from '../compiler/util/rng.js';
import { haveTool } from '../hw-targets/serial/flash.js';
import { firmwarePortDir } from '../hw-targets/serial/qemu.js';

export const haveSocat = haveTool('socat');
const noQemu = ['qemu-system-arm', 'arm-none-eabi-gcc', 'make'].filter((t) => !haveTool(t));
/** node:test skip value: the reason when QEMU or the Arm toolchain is missing. */
export const skipQemu: string | false = noQemu.length ? `missing ${noQemu.join(', ')}` : false;

/** Builds the QEMU port's firmware (make is incremental: a no-op when nothing changed). */
export function buildFirmware(): void {
  execFileSync('nice', ['-n', '19', 'make', '-s', '-C', firmwarePortDir()], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The value a blob outputs: the last node, or the input of a final softmax (docs/blob-format.md). */
export function outputValue(g: Graph): string {
  const last = g.nodes[g.nodes.length - 1];
  return last.op === OpKind.Softmax ? last.inputs[0] : last.id;
}

/**
 * A small real model, PTQ-quantized on random inputs: `layers` conv+relu pairs then a dense head, so a test
 * can ask for a layer table longer than one LAYER_TABLE frame.
 */
export function tinyQuantized(convs = 2, inputHw = 8): { graph: Graph; x: Float32Array; n: number } {
  const b = new GraphBuilder('tiny', 5);
  let v = b.input('image', [inputHw, inputHw, 1]);
  for (let i = 0; i < convs; i++) v = b.relu(b.conv2d(v, { id: `conv${i}`, filters: 4, kernel: 3, padding: 'same' }), { id: `relu${i}` });
  const d = b.dense(b.flatten(v, { id: 'flat' }), 10, { id: 'fc' });
  const f = b.build([b.softmax(d, { id: 'softmax' })]);
  const rng = new Rng(3);
  const n = 8;
  const x = Float32Array.from({ length: n * inputHw * inputHw }, () => rng.next());
  return { graph: quantizeGraph(f, { x, n }, DEFAULT_QUANTIZE).graph, x, n };
}
