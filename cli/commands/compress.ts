// `tandem compress <model>`: low-rank compression (SVD / Tucker-2 / CP) with automatic ranks,
// optional Two-Pass recovery, multi-stage (MUSCO) re-compression and fine-tuning. Each completed stage
// is written to the output folder atomically, so a cancel keeps the last completed stage.
import { resolveModel } from '../../compiler/models/registry.js';
import { compressGraph, type CompressConfig, type Order, type StageResult } from '../../compiler/passes/compress/compress.js';
import { finetune } from '../../compiler/passes/compress/finetune.js';
import { type CompressionReport, compressionReport } from '../../compiler/passes/compress/report.js';
import { chooseRanks, type Method, parseRankRule } from '../../compiler/passes/decompose/ranks.js';
import { checkDecomposition } from '../../compiler/passes/decompose/decompose.js';
import { layerForm } from '../../compiler/passes/decompose/layers.js';
import { num, table } from '../table.js';
import type { DataOptions } from './data.js';
import { qualityText, startModelRun, writeModelDir } from './model-run.js';

export interface CompressFlags extends DataOptions {
  method: Method;
  ranks: string;
  out: string;
  layers?: string;
  twoPass?: boolean;
  refit?: boolean;
  iterative?: boolean;
  order?: Order;
  stages?: number;
  finetune?: number;
  minRank?: number;
  calib?: number;
  seed?: number;
  lr?: number;
  workers?: number;
  trainLimit?: number;
  evalLimit?: number;
  cpIter?: number;
  json?: boolean;
}

function reportTable(r: CompressionReport): string {
  const rows = r.layers.map((l) => [
    l.layer,
    l.kind,
    l.ranks.join('x'),
    num(l.paramsBefore),
    num(l.paramsAfter),
    num(l.macsBefore),
    num(l.macsAfter),
    l.kernelError?.toFixed(4) ?? '',
    l.refitError?.toFixed(4) ?? '',
    l.reason,
  ]);
  const lines = [
    table(['layer', 'kind', 'ranks', 'params', '-> after', 'MACs', '-> after', 'kernel err', 'refit err', 'why'], rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l']),
    ...r.skipped.map((s) => `left alone: ${s.layer} (${s.reason})`),
    `network: params ${num(r.before.params)} -> ${num(r.after.params)} (${r.paramsReduction.toFixed(2)}x, ${(100 * (1 - 1 / r.paramsReduction)).toFixed(1)}% fewer), MACs ${num(r.before.macs)} -> ${num(r.after.macs)} (${r.macsReduction.toFixed(2)}x, ${(100 * (1 - 1 / r.macsReduction)).toFixed(1)}% fewer)`,
    `quality: ${qualityText(r.before.quality)} -> ${qualityText(r.after.quality)}`,
    `reproduce: ${r.command}`,
  ];
  return lines.join('\n') + '\n';
}

export async function compressCommand(model: string, f: CompressFlags): Promise<void> {
  const m = await resolveModel(model);
  const rule = parseRankRule(f.ranks);
  const seed = f.seed ?? 1;
  const layers = f.layers ? f.layers.split(',').map((s) => s.trim()) : undefined;
  const cfg: CompressConfig = {
    method: f.method,
    rule,
    ...(layers ? { layers } : {}),
    ...(f.minRank !== undefined ? { minRank: f.minRank } : {}),
    twoPass: !!f.twoPass,
    refit: !!f.refit,
    iterative: !!f.iterative,
    order: f.order ?? 'in-out',
    stages: f.stages ?? 1,
    finetuneEpochs: f.finetune ?? 0,
    seed,
    ...(f.cpIter !== undefined ? { cpMaxIter: f.cpIter } : {}),
  };
  // Check the request against the graph before loading data or doing any work.
  if (layers) for (const l of layers) layerForm(m.graph, l);
  if (rule.kind !== 'budget') {
    for (const c of chooseRanks(m.graph, cfg.method, rule, { layers, minRank: cfg.minRank }).chosen) checkDecomposition(m.graph, c.layer, c.kind, c.ranks);
  }

  const command = ['tandem compress', model, `--method ${f.method}`, `--ranks ${f.ranks}`, layers ? `--layers ${layers.join(',')}` : '', f.twoPass ? '--two-pass' : '', f.refit ? '--refit' : '', f.iterative ? '--iterative' : '', f.twoPass || f.refit ? `--order ${cfg.order}` : '', `--stages ${cfg.stages}`, `--finetune ${cfg.finetuneEpochs}`, f.minRank !== undefined ? `--min-rank ${f.minRank}` : '', `--calib ${f.calib ?? 256}`, f.trainLimit ? `--train-limit ${f.trainLimit}` : '', f.lr ? `--lr ${f.lr}` : '', f.evalLimit ? `--eval-limit ${f.evalLimit}` : '', f.cpIter !== undefined ? `--cp-iter ${f.cpIter}` : '', `--seed ${seed}`, `-o ${f.out}`]
    .filter(Boolean)
    .join(' ');
  const run = await startModelRun(m, f);
  const { data, calib, evalGraph, baseQuality, signal, log } = run;
  let lastReport: CompressionReport | undefined;
  const stagesDone: StageResult[] = [];
  const result = await compressGraph(m.graph, cfg, {
    calib,
    finetune:
      cfg.finetuneEpochs > 0
        ? (g, frozen, epochs, s) => finetune(g, { task: m.task, train: data.train, val: data.val, epochs, seed: s, frozen, lr: f.lr, workers: f.workers, signal, onProgress: run.progress })
        : undefined,
    evaluate: evalGraph,
    onStage: async (s) => {
      stagesDone.push(s);
      lastReport = compressionReport(m.graph, s.graph, s.plan, stagesDone, { command, baseQuality });
      const meta = { ...(m.graph.meta ?? {}), compression: { command, seed, plan: s.plan, stage: s.stage }, test: s.quality };
      await writeModelDir(f.out, { ...s.graph, meta }, { 'plan.json': JSON.stringify(s.plan, null, 1) + '\n', 'report.json': JSON.stringify(lastReport, null, 1) + '\n', 'report.txt': reportTable(lastReport) });
      log(`stage ${s.stage} saved to ${f.out}: MACs ${num(s.macs)}, params ${num(s.params)}, ${qualityText(s.quality)} (${s.seconds.toFixed(1)} s)`);
    },
    signal,
    onProgress: run.progress,
    log,
  });
  run.stop();
  if (!lastReport) throw new Error(`${model}: nothing to compress with --method ${f.method} --ranks ${f.ranks} (every layer was left alone); nothing written`);
  void result;
  process.stdout.write(f.json ? JSON.stringify(lastReport) + '\n' : reportTable(lastReport));
}
