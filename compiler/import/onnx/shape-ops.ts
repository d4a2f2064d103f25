// Constant folding for the shape arithmetic exporters emit in front of a Reshape, e.g. PyTorch's
// `x.view(x.size(0), -1)` = Shape -> Gather -> Unsqueeze -> Concat -> Reshape. Only integer
// constants flow here; the batch dim of a Shape is -1 (the Reshape reads its first dim as the batch).
import type { Ctx, OnnxNode } from './context.js';
import type { Const } from './read.js';

function ints(c: Ctx, n: OnnxNode, i: number): Const & { kind: 'int' } {
  const k = c.consts.get(n.inputs[i]);
  if (!k || k.kind !== 'int') throw c.error(n, `needs a constant integer input ${i}; Tandem folds shape arithmetic only on constants`);
  return k;
}

const set = (c: Ctx, n: OnnxNode, dims: number[], data: number[]) => c.consts.set(n.outputs[0], { kind: 'int', dims, data });

export function shape(c: Ctx, n: OnnxNode): void {
  const x = c.act(n, 0);
  const full = [-1, ...c.onnxDims(x)];
  const r = full.length;
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = norm(n.attrs.int('start', 0));
  const end = norm(n.attrs.int('end', r));
  const data = full.slice(start, end);
  set(c, n, [data.length], data);
}

export function gather(c: Ctx, n: OnnxNode): void {
  const k = ints(c, n, 0);
  const idx = ints(c, n, 1);
  if (k.dims.length !== 1 || n.attrs.int('axis', 0) !== 0) throw c.error(n, `gathers from a ${k.dims.length}-D constant; Tandem folds 1-D shape vectors only`);
  const data = idx.data.map((i) => k.data[i < 0 ? i + k.data.length : i]);
  set(c, n, [...idx.dims], data);
}

/** Unsqueeze/Squeeze of a shape vector or scalar: only the dims change. */
export function unsqueeze(c: Ctx, n: OnnxNode): void {
  const k = ints(c, n, 0);
  const axes = n.attrs.ints('axes') ?? (n.inputs[1] ? ints(c, n, 1).data : [0]);
  const dims = [...k.dims];
  const r = dims.length + axes.length;
  for (const a of [...axes].map((v) => (v < 0 ? v + r : v)).sort((p, q) => p - q)) dims.splice(a, 0, 1);
  set(c, n, dims, [...k.data]);
}

export function squeeze(c: Ctx, n: OnnxNode): void {
  const v = c.values.get(n.inputs[0]);
  if (v) {
    // Squeeze of a pooled [N, C, 1, 1] activation (TF-style exports after GlobalAveragePool) is [N, C].
    const axes = n.attrs.ints('axes') ?? (n.inputs[1] ? ints(c, n, 1).data : [2, 3]);
    const spatial = [...axes].map((a) => (a < 0 ? a + 4 : a)).sort();
    if (v.layout.kind !== 'pooled' || spatial.join() !== '2,3') throw c.error(n, `squeezes an activation; Tandem supports only Squeeze of the 1x1 spatial dims after a global pool`);
    c.bind(n.outputs[0], { id: v.id, layout: { kind: 'exact' } });
    return;
  }
  const k = ints(c, n, 0);
  set(c, n, k.data.length === 1 ? [] : [k.data.length], [...k.data]);
}

export function cast(c: Ctx, n: OnnxNode): void {
  const k = c.consts.get(n.inputs[0]);
  if (!k) throw c.error(n, `casts an activation; Tandem folds Cast on constants only`);
  c.consts.set(n.outputs[0], k);
}

/** Concat of constants (shape vectors); activations go to the regular concat. */
export function concatConsts(c: Ctx, n: OnnxNode): boolean {
  if (!n.inputs.every((i) => c.consts.has(i))) return false;
  const parts = n.inputs.map((_, i) => ints(c, n, i));
  const data = parts.flatMap((p) => [...p.data]);
  set(c, n, [data.length], data);
  return true;
}
