// `tandem inspect <model>`: per-layer op, shapes, params, MACs and activation memory.
import { graphStats, printGraph } from '../../compiler/ir/index.js';
import { resolveModel } from '../../compiler/models/registry.js';
import { num, table } from '../table.js';

export async function inspectCommand(model: string, o: { json?: boolean; ir?: boolean }): Promise<void> {
  const { graph, source } = await resolveModel(model, { allowUntrained: true });
  if (o.ir) {
    process.stdout.write(printGraph(graph));
    return;
  }
  const s = graphStats(graph);
  if (o.json) {
    process.stdout.write(
      JSON.stringify(
        {
          model: graph.name,
          source,
          inputs: graph.inputs,
          outputs: graph.outputs,
          layers: s.nodes,
          totals: { params: s.totalParams, macs: s.totalMacs, activationBytes: s.totalActivationBytes, peakActivationBytes: s.peakActivationBytes },
        },
        null,
        1,
      ) + '\n',
    );
    return;
  }
  const sh = (x: readonly number[]) => `[${x.join('x')}]`;
  const rows = s.nodes.map((n) => [n.id, n.op, n.inputShapes.map(sh).join(' + '), sh(n.outputShape), num(n.params), num(n.macs), num(n.activationBytes)]);
  rows.push(['total', '', '', '', num(s.totalParams), num(s.totalMacs), num(s.totalActivationBytes)]);
  process.stdout.write(`${graph.name} (${source})\n`);
  process.stdout.write(table(['layer', 'op', 'input', 'output', 'params', 'MACs', 'act bytes'], rows, ['l', 'l', 'l', 'l', 'r', 'r', 'r']) + '\n');
  process.stdout.write(`peak live activations per sample: ${num(s.peakActivationBytes)} bytes\n`);
}
