// Export dispatcher: writes a Graph as ONNX (one file), tfjs (a folder) or a Tandem model folder.
// Every writer is atomic: a failed export leaves nothing at outPath.
import { saveGraph } from '../ir/serialize.js';
import type { Graph } from '../ir/types.js';
import { ModelFormatError } from '../import/common.js';
import { importModel } from '../import/index.js';
import { exportOnnx } from './onnx.js';
import { exportTfjs } from './tfjs.js';

export type ExportFormat = 'onnx' | 'tfjs' | 'tandem';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['onnx', 'tfjs', 'tandem'];

export async function exportModel(graph: Graph, format: ExportFormat, outPath: string): Promise<void> {
  switch (format) {
    case 'onnx':
      return exportOnnx(graph, outPath);
    case 'tfjs':
      return exportTfjs(graph, outPath);
    case 'tandem':
      return saveGraph(outPath, graph);
    default:
      throw new ModelFormatError(`${outPath}: unknown export format '${String(format)}' (expected ${EXPORT_FORMATS.join(', ')})`);
  }
}

/** Import `input` (any supported format) and export it as `format` to `outPath`. */
export async function convertModel(input: string, format: ExportFormat, outPath: string): Promise<Graph> {
  const graph = await importModel(input);
  await exportModel(graph, format, outPath);
  return graph;
}

export { exportOnnx, exportOnnxBytes } from './onnx.js';
export { exportTfjs, exportTfjsFiles } from './tfjs.js';
