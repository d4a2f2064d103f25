// Host latency of pruned models against the model they were pruned from, measured in the same run:
// SEEDS §3's warning that fewer MACs is not the same speed-up, in numbers. For each pruned model folder
// (tandem prune -o DIR) and batch size, three rounds of [original, pruned], each the median of 31 timed
// forward passes after warm-up; the table gives the medians over the rounds and the median of the
// per-round ratios, next to the MAC ratio from the IR.
// Usage: node dist/bench/prune-latency.js DIR [DIR ...] [--batches 1,32]
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allOf, classificationSet, loadFashionMnist } from '../compiler/data/index.js';
import { graphStats } from '../compiler/ir/graph.js';
import { resolveModel } from '../compiler/models/registry.js';
import { initBackend } from '../compiler/train/backend.js';
import { hostLatency } from '../hw-targets/host/latency.js';
import { median } from './stats.js';

const ROUNDS = 3;
const RUNS = 31;

export async function pruneLatencyMain(argv: readonly string[]): Promise<void> {
  const bi = argv.indexOf('--batches');
  const batches = bi >= 0 ? argv[bi + 1].split(',').map(Number) : [1, 32];
  const dirs = argv.filter((a, i) => !a.startsWith('--') && (bi < 0 || i !== bi + 1));
  if (!dirs.length) throw new Error('usage: prune-latency.js DIR [DIR ...] [--batches 1,32] (folders written by tandem prune -o)');
  const backend = await initBackend();
  const fm = await loadFashionMnist();
  const n = Math.max(...batches);
  const x = new Float32Array(n * 784);
  classificationSet(allOf(fm.test)).fill(Array.from({ length: n }, (_, i) => i), x, new Float32Array(n));
  const lines = [`host latency, ${backend.name}, median of ${RUNS} runs per round, ${ROUNDS} rounds [original, pruned] interleaved`, '  model                       batch   original ms   pruned ms   speed-up   MACs ratio'];
  for (const dir of dirs) {
    const pruned = await resolveModel(dir);
    const base = await resolveModel(pruned.graph.name);
    const macRatio = graphStats(base.graph).totalMacs / graphStats(pruned.graph).totalMacs;
    for (const b of batches) {
      const a: number[] = [];
      const p: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        a.push((await hostLatency(base.graph, x, b, RUNS)).medianMs);
        p.push((await hostLatency(pruned.graph, x, b, RUNS)).medianMs);
      }
      const ratio = median(a.map((v, i) => v / p[i]));
      lines.push(`  ${path.basename(dir).padEnd(26)} ${String(b).padStart(6)} ${median(a).toFixed(2).padStart(13)} ${median(p).toFixed(2).padStart(11)} ${ratio.toFixed(2).padStart(9)}x ${macRatio.toFixed(2).padStart(11)}x`);
      process.stderr.write(`${lines.at(-1)}\n`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await pruneLatencyMain(process.argv.slice(2));
