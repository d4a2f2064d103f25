// `node dist/bench/ui-graph-main.js [--runs N]`: the model graph view benchmark alone (bench/ui-graph.ts).
import { benchUiGraph, uiGraphBenchLines } from './ui-graph.js';

const at = process.argv.indexOf('--runs');
const r = await benchUiGraph(at > 0 ? { runs: Number(process.argv[at + 1]) } : {});
process.stdout.write(uiGraphBenchLines(r).join('\n') + '\n');
