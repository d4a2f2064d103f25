// `tandem export <model> --format onnx|tfjs|tandem --out PATH`.
import { exportModel } from '../../compiler/export/index.js';
import { resolveModel } from '../../compiler/models/registry.js';

export async function exportCommand(model: string, f: { format: 'onnx' | 'tfjs' | 'tandem'; out: string; json?: boolean }): Promise<void> {
  const { graph } = await resolveModel(model);
  await exportModel(graph, f.format, f.out);
  process.stdout.write(f.json ? JSON.stringify({ model: graph.name, format: f.format, out: f.out }) + '\n' : `wrote ${f.format} model ${f.out}\n`);
}
