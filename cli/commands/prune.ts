// `tandem prune <model>`: structured channel pruning to a params/MACs target (SEEDS §3, §4), with optional
// sparsity training, one-shot or iterative schedules and fine-tuning. Each completed step is written
// to the output folder atomically, so a cancel keeps the last completed step.
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Graph } from '../../compiler/ir/types.js';
import { resolveModel } from '../../compiler/models/registry.js';
import { finetune } from '../../compiler/passes/compress/finetune.js';
import type { FoldRecord } from '../../compiler/passes/prune/apply.js';
import { CRITERIA, type Criterion } from '../../compiler/passes/prune/importance.js';
import { checkPruneConfig, type PruneConfig, pruneModel } from '../../compiler/passes/prune/prune.js';
import { type Latency, type PruneReport, pruneReport } from '../../compiler/passes/prune/report.js';
import { formatTarget, parsePruneTarget } from '../../compiler/passes/prune/select.js';
import type { SslGroups } from '../../compiler/passes/prune/sparsity.js';
import type { Quality } from '../../compiler/train/evaluate.js';
import { formatLayerValues, parseLayerValues } from '../../compiler/util/layer-values.js';
import { hostLatency } from '../../hw-targets/host/latency.js';
import { num, table } from '../table.js';
import type { DataOptions } from './data.js';
import { qualityText, startModelRun, writeModelDir } from './model-run.js';

export interface PruneFlags extends DataOptions {
  criterion: Criterion;
  target?: string;
  keep?: string;
  threshold?: number;
  out: string;
  steps?: number;
  sparsity?: number;
  lambda?: number;
  sslGroups?: string;
  finetune?: number;
  minChannels?: number;
  dropout?: 'scale' | 'keep';
  latencyRuns?: number;
  seed?: number;
  lr?: number;
  distill?: number;
  temperature?: number;
  workers?: number;
  trainLimit?: number;
  evalLimit?: number;
  json?: boolean;
}

const SSL_GROUPS = ['filter', 'channel', 'shape', 'depth'] as const;

function parseSslGroups(spec: string): SslGroups {
  const out: Record<string, boolean> = {};
  for (const g of spec.split(',').map((s) => s.trim())) {
    if (!(SSL_GROUPS as readonly string[]).includes(g)) throw new Error(`--ssl-groups: '${g}' is not one of ${SSL_GROUPS.join(', ')}`);
    out[g] = true;
  }
  return out;
}

function reportTable(r: PruneReport): string {
  const rows = r.layers.map((l) => [l.layer, `${l.channelsBefore} -> ${l.channelsAfter}`, num(l.paramsBefore), num(l.paramsAfter), num(l.macsBefore), num(l.macsAfter), l.reason]);
  const pct = (red: number) => `${(100 * (1 - 1 / red)).toFixed(1)}% fewer`;
  const inexact = r.folds.filter((f) => !f.exact);
  const lat = r.latency;
  return (
    [
      table(['layer', 'channels', 'params', '-> after', 'MACs', '-> after', 'why'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'l']),
      `network: params ${num(r.before.params)} -> ${num(r.after.params)} (${pct(r.paramsReduction)}), MACs ${num(r.before.macs)} -> ${num(r.after.macs)} (${pct(r.macsReduction)})`,
      `quality: ${qualityText(r.before.quality)} -> ${qualityText(r.after.quality)}`,
      lat ? `host latency (${lat.backend}, batch ${lat.batch}, median of ${lat.runs}): ${lat.beforeMs.toFixed(2)} ms -> ${lat.afterMs.toFixed(2)} ms = ${lat.speedup.toFixed(2)}x faster, vs ${r.macsReduction.toFixed(2)}x fewer MACs` : '',
      inexact.length ? `removed channels folded approximately (zero-padded borders or non-constant channels) into: ${inexact.map((f) => f.consumer).join(', ')}` : '',
      `reproduce: ${r.command}`,
    ]
      .filter(Boolean)
      .join('\n') + '\n'
  );
}

export async function pruneCommand(model: string, f: PruneFlags): Promise<void> {
  const m = await resolveModel(model);
  const target = f.target !== undefined ? parsePruneTarget(f.target) : undefined;
  const keep = f.keep !== undefined ? parseLayerValues('--keep', f.keep, (v) => (v > 0 && v <= 1 ? undefined : 'the kept share must be in (0, 1]')) : undefined;
  if (!(CRITERIA as readonly string[]).includes(f.criterion)) throw new Error(`--criterion ${f.criterion}: expected one of ${CRITERIA.join(', ')}`);
  const seed = f.seed ?? 1;
  const steps = f.steps ?? 1;
  const sparsity = f.sparsity ?? 0;
  const lambda = f.lambda ?? 1e-4;
  const sslGroups = f.sslGroups ? parseSslGroups(f.sslGroups) : undefined;
  const cfg: PruneConfig = { criterion: f.criterion, target, keep, threshold: f.threshold, steps, sparsityEpochs: sparsity, lambda, sslGroups, finetuneEpochs: f.finetune ?? 0, minChannels: f.minChannels, dropout: f.dropout, seed };
  // Check the request against the graph before loading data or doing any work.
  checkPruneConfig(m.graph, cfg);
  const temperature = f.temperature ?? 4;
  if (f.distill !== undefined && !(f.distill > 0 && f.distill <= 1)) throw new Error(`--distill ${f.distill}: expected a weight alpha in (0, 1]`);
  if (!(temperature > 0)) throw new Error(`--temperature ${temperature}: expected a number > 0`);
  if (f.distill !== undefined && m.task !== 'classification') throw new Error(`--distill: ${model} is a ${m.task} model; distillation needs a classifier`);
  const distill = f.distill !== undefined ? { teacher: m.graph, alpha: f.distill, temperature } : undefined;

  const command = [
    'tandem prune',
    model,
    `--criterion ${f.criterion}`,
    target ? `--target ${formatTarget(target)}` : keep ? `--keep ${formatLayerValues(keep)}` : `--threshold ${f.threshold ?? 0.5}`,
    `--steps ${steps}`,
    sparsity > 0 ? `--sparsity ${sparsity} --lambda ${lambda}` : '',
    f.sslGroups ? `--ssl-groups ${f.sslGroups}` : '',
    `--finetune ${f.finetune ?? 0}`,
    f.minChannels ? `--min-channels ${f.minChannels}` : '',
    cfg.finetuneEpochs > 0 ? `--dropout ${f.dropout ?? 'scale'}` : '',
    f.trainLimit ? `--train-limit ${f.trainLimit}` : '',
    f.lr ? `--lr ${f.lr}` : '',
    distill ? `--distill ${distill.alpha} --temperature ${temperature}` : '',
    f.evalLimit ? `--eval-limit ${f.evalLimit}` : '',
    `--seed ${seed}`,
    `-o ${f.out}`,
  ]
    .filter(Boolean)
    .join(' ');
  const run = await startModelRun(m, f);
  const latencyRuns = f.latencyRuns ?? 30;
  const latencyOf = (g: Graph) => hostLatency(g, run.calib.x, 1, latencyRuns);
  const baseLatency = latencyRuns > 0 ? await latencyOf(m.graph) : undefined;
  // every training call (sparsity, each step's fine-tuning) checkpoints into its own folder, so that
  // re-running the same command resumes an interrupted run; removed when the run completes
  const checkpoints = `${f.out}.ckpt`;
  let trainCall = 0;
  const folds: FoldRecord[] = [];
  const done: { step: number; params: number; macs: number; quality?: Quality }[] = [];
  let last: PruneReport | undefined;
  await pruneModel(
    m.graph,
    cfg,
    {
      train: (g, epochs, s, regularizer) =>
        // distillation only in fine-tuning (sparsity training runs the teacher itself)
        finetune(g, { task: m.task, train: run.data.train, val: run.data.val, epochs, seed: s, regularizer, distill: regularizer ? undefined : distill, lr: f.lr, workers: f.workers, checkpointDir: path.join(checkpoints, String(trainCall++)), signal: run.signal, onProgress: run.progress }),
      onStep: async (s) => {
        folds.push(...s.folds);
        const quality = await run.evalGraph(s.graph);
        done.push({ step: s.step, params: s.params, macs: s.macs, quality });
        let latency: Latency | undefined;
        if (baseLatency) {
          const a = await latencyOf(s.graph);
          latency = { batch: 1, runs: latencyRuns, beforeMs: baseLatency.medianMs, afterMs: a.medianMs, speedup: baseLatency.medianMs / a.medianMs, backend: a.backend };
        }
        last = pruneReport(m.graph, s.graph, s.plan, { command, criterion: f.criterion, baseQuality: run.baseQuality, quality, folds, steps: done, latency });
        const meta = { ...(m.graph.meta ?? {}), pruning: { command, seed, plan: s.plan, step: s.step }, test: quality };
        await writeModelDir(f.out, { ...s.graph, meta }, { 'plan.json': JSON.stringify(s.plan, null, 1) + '\n', 'report.json': JSON.stringify(last, null, 1) + '\n', 'report.txt': reportTable(last) });
        run.log(`step ${s.step} saved to ${f.out}: params ${num(s.params)}, MACs ${num(s.macs)}, ${qualityText(quality)}`);
      },
      signal: run.signal,
      log: run.log,
    },
  );
  run.stop();
  rmSync(checkpoints, { recursive: true, force: true });
  process.stdout.write(f.json ? JSON.stringify(last) + '\n' : reportTable(last!));
}
