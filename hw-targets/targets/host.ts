// The host as a Target: Tandem's integer executor (compiler/passes/quantize/int8-executor.ts) in this process,
// one input at a time, timed with the wall clock (performance.now, seconds): the total per inference, and each
// node through the executor's onNodeTime hook (summed per original layer). The wall clock is noisy on a loaded
// machine: use warm-up and repeats, and read medians.
import type { Report } from '../../compiler/contracts/report.js';
import type { CompiledModel, RunInput, RunOptions, RunResult, Target, TargetDescription } from '../../compiler/contracts/target.js';
import type { Graph } from '../../compiler/ir/types.js';
import { integerLayers, runInt8 } from '../../compiler/passes/quantize/int8-executor.js';
import { type ProgressFn, throwIfAborted } from '../../compiler/util/progress.js';
import { layerRows } from './layer-rows.js';

const EXECUTOR = 'host:int8-executor';

export class HostTarget implements Target {
  private graph?: Graph;
  private layers?: ReturnType<typeof integerLayers>;

  constructor(private readonly o: { readonly onProgress?: ProgressFn } = {}) {}

  describe(): Promise<TargetDescription> {
    return Promise.resolve({
      id: 'host',
      kind: 'host',
      name: `Tandem integer executor in-process (Node ${process.version}, ${process.arch})`,
      runtime: 'int8-executor',
      capabilities: { perLayerTiming: true, dtypes: ['int8'] },
    });
  }

  load(model: CompiledModel): Promise<void> {
    // integerLayers throws, naming the node, for a graph that is not quantized
    this.layers = integerLayers(model.graph);
    this.graph = model.graph;
    return Promise.resolve();
  }

  run(input: RunInput, options: RunOptions = {}): Promise<RunResult> {
    const g = this.graph;
    if (!g) return Promise.reject(new Error('host target: no model loaded (call load() first)'));
    const per = g.inputs[0].shape.reduce((a, b) => a * b, 1);
    const warmup = options.warmup ?? 1;
    const repeats = options.repeats ?? 10;
    const samples: number[] = [];
    const perLayer = options.perLayer ?? true;
    const nodeSamples = new Map<string, number[]>(g.nodes.map((n) => [n.id, []]));
    const onNodeTime = (n: { id: string }, ms: number) => nodeSamples.get(n.id)!.push(ms / 1000);
    const outs: Float32Array[] = [];
    for (let i = 0; i < input.batch; i++) {
      const x = input.data.subarray(i * per, (i + 1) * per);
      const once = (timed = false) => runInt8(g, x, 1, { layers: this.layers, ...(timed && perLayer ? { onNodeTime } : {}) });
      for (let k = 0; k < warmup; k++) once();
      let last = once();
      for (let k = 0; k < repeats; k++) {
        throwIfAborted(options.signal);
        const t0 = performance.now();
        last = once(true);
        samples.push((performance.now() - t0) / 1000);
      }
      outs.push(last.outputs[0]);
      this.o.onProgress?.({ phase: 'run', done: i + 1, total: input.batch });
    }
    const out = new Float32Array(outs.reduce((a, o) => a + o.length, 0));
    let at = 0;
    for (const o of outs) out.set(o, (at += o.length) - o.length);
    const rows = layerRows(g, EXECUTOR, perLayer ? [...nodeSamples].map(([node, s]) => ({ node, samples: s })) : [], 's');
    const report: Report = { model: g.name, executor: EXECUTOR, createdAt: new Date().toISOString(), rows, total: { latency: { unit: 's', samples }, macs: rows.reduce((a, r) => a + (r.macs ?? 0), 0) } };
    return Promise.resolve({ outputs: [out], report });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
