// Built-in models addressable by name (`tandem eval fmnist-vgg`) as well as by path.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { loadGraph } from '../ir/serialize.js';
import type { Graph } from '../ir/types.js';
import { importModel } from '../import/index.js';
import { isReferenceName, REFERENCE_MODELS, type ReferenceName } from './reference.js';

/** The refs/ folder next to this installation's package.json (from dist/compiler/models/ or compiler/models/). */
export function refsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'refs');
    dir = path.dirname(dir);
  }
  throw new Error('cannot locate the package root (package.json) of this Tandem installation');
}

export type Task = 'classification' | 'denoising';

export interface ResolvedModel {
  readonly graph: Graph;
  /** Where it came from: a file/dir path. */
  readonly source: string;
  readonly task: Task;
  readonly reference?: ReferenceName;
}

/** Task from the model's meta, else from shapes: an output shaped like the input is an image-to-image model. */
export function taskOf(graph: Graph): Task {
  const t = graph.meta?.task;
  if (t === 'classification' || t === 'denoising') return t;
  return graph.outputs.length === 1 && graph.nodes.at(-1)?.op !== 'softmax' && graph.inputs[0]?.shape.length === 3 ? 'denoising' : 'classification';
}

/** A reference name loads refs/<name>/ (trained weights); anything else is a model path. */
export async function resolveModel(spec: string, opts: { allowUntrained?: boolean } = {}): Promise<ResolvedModel> {
  if (isReferenceName(spec)) {
    const dir = path.join(refsDir(), spec);
    if (!existsSync(path.join(dir, 'graph.json'))) {
      // Structure-only uses (inspect) can work from the architecture's fresh initialisation.
      if (opts.allowUntrained) return { graph: REFERENCE_MODELS[spec].build(), source: 'architecture (untrained)', task: REFERENCE_MODELS[spec].task, reference: spec };
      throw new Error(`${spec}: no trained weights in ${dir} (train them with \`tandem train ${spec} --out ${dir}\`)`);
    }
    const graph = await loadGraph(dir);
    return { graph, source: dir, task: REFERENCE_MODELS[spec].task, reference: spec };
  }
  if (!existsSync(spec)) {
    throw new Error(`${spec}: no such file or directory, and not a built-in model (built-in: ${Object.keys(REFERENCE_MODELS).join(', ')})`);
  }
  const graph = await importModel(spec);
  return { graph, source: spec, task: taskOf(graph) };
}
