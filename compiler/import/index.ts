// Model-format dispatcher: one entry per format with match()/open() (as Netron does); importModel
// picks the first format that recognizes the path (by name, folder contents, or first bytes).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { GRAPH_FILE, loadGraph } from '../ir/serialize.js';
import type { Graph } from '../ir/types.js';
import { ModelFormatError } from './common.js';
import { onnxFormat } from './onnx.js';
import { MODEL_JSON, tfjsFormat } from './tfjs.js';

export interface ModelFormat {
  readonly name: 'onnx' | 'tfjs' | 'tandem';
  /** `file` is a file path (folders are resolved to the file they hold); `head` its first bytes. */
  match(file: string, head: Uint8Array): boolean;
  open(file: string): Promise<Graph>;
}

/** A Tandem model folder (graph.json + weights.bin), named by its graph.json. */
export const tandemFormat: ModelFormat = {
  name: 'tandem',
  match: (file) => path.basename(file) === GRAPH_FILE,
  open: (file) => loadGraph(path.dirname(file)),
};

export const FORMATS: readonly ModelFormat[] = [tandemFormat, tfjsFormat, onnxFormat];

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

async function head(file: string): Promise<Uint8Array> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = new Uint8Array(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Which format `p` is in, and the file to open (a folder resolves to its graph.json or model.json). */
export async function detectFormat(p: string): Promise<{ format: ModelFormat; file: string }> {
  let stat;
  try {
    stat = await fs.stat(p);
  } catch {
    throw new ModelFormatError(`${p}: no such file or folder`);
  }
  let file = p;
  if (stat.isDirectory()) {
    const inside = [GRAPH_FILE, MODEL_JSON].map((f) => path.join(p, f));
    const found = [];
    for (const f of inside) if (await exists(f)) found.push(f);
    if (found.length === 0) throw new ModelFormatError(`${p}: folder holds neither ${GRAPH_FILE} (Tandem model) nor ${MODEL_JSON} (tfjs model)`);
    file = found[0];
  }
  const bytes = await head(file);
  const format = FORMATS.find((f) => f.match(file, bytes));
  if (!format) throw new ModelFormatError(`${p}: unknown model format (Tandem reads .onnx files, tfjs model.json and Tandem model folders)`);
  return { format, file };
}

/** Reads a model in any supported format into a verified Graph. */
export async function importModel(p: string): Promise<Graph> {
  const { format, file } = await detectFormat(p);
  return format.open(file);
}

export { ModelFormatError } from './common.js';
export { importOnnx, importOnnxBytes } from './onnx.js';
export { importTfjs } from './tfjs.js';
