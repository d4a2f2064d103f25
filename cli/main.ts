#!/usr/bin/env node
// The `tandem` command line. Every command: --json for machines, one clear line and exit 1 on error.
import { createRequire } from 'node:module';
import { Command, InvalidArgumentError, Option } from 'commander';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { infoCommand } from './commands/info.js';
import { inspectCommand } from './commands/inspect.js';
import { startCommand } from './commands/start.js';
import { trainCommand } from './commands/train.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${v}'`);
  return n;
};
const float = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${v}'`);
  return n;
};

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const program = new Command('tandem')
  .version(version)
  .description('Co-design compressed CNNs with the analog compute-in-memory hardware they run on.')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

const dataOpts = (c: Command) =>
  c
    .option('--data <dir>', 'Fashion-MNIST directory (else $TANDEM_DATA, /usr/share/datasets/fashion-mnist, cache)')
    .option('--no-download', 'never download Fashion-MNIST (by default it is fetched from the official source, verified, when not found)');

program
  .command('info')
  .description('versions, the compute backend in use and why, optional parts, data location')
  .option('--json', 'machine-readable output')
  .option('--data <dir>', 'Fashion-MNIST directory to check')
  .action(infoCommand);

program
  .command('inspect <model>')
  .description('per-layer table: op, shapes, params, MACs, activation memory (model: built-in name or path)')
  .option('--json', 'machine-readable output')
  .option('--ir', 'print the canonical IR text instead')
  .action(inspectCommand);

dataOpts(
  program
    .command('train <model>')
    .description("train a built-in architecture with its recipe (or a model file); resumes from checkpoints; Ctrl-C saves one")
    .option('--out <dir>', 'where to save the trained model (default out/<name>)')
    .option('--checkpoint <dir>', 'checkpoint directory (default <out>.ckpt)')
    .option('--from <model>', 'start from these weights instead of a fresh initialisation')
    .option('--epochs <n>', 'epochs', int('--epochs'))
    .option('--batch-size <n>', 'batch size', int('--batch-size'))
    .option('--lr <x>', 'peak learning rate', float('--lr'))
    .addOption(new Option('--optimizer <kind>', 'optimizer').choices(['sgd', 'adam']))
    .option('--seed <n>', 'seed for init, data order, augmentation and dropout', int('--seed'))
    .option('--train-limit <n>', 'use only the first n training images', int('--train-limit'))
    .option('--workers <n>', 'worker threads (0 = in-process; default one per core)', int('--workers'))
    .option('--json', 'machine-readable output'),
).action(trainCommand);

dataOpts(
  program
    .command('eval <model>')
    .description('test accuracy (classifiers) or PSNR/SSIM gain over the noisy input (denoisers)')
    .addOption(new Option('--split <name>', 'which split').choices(['test', 'val']).default('test'))
    .option('--limit <n>', 'evaluate only the first n images', int('--limit'))
    .option('--workers <n>', 'worker threads (0 = in-process)', int('--workers'))
    .option('--json', 'machine-readable output'),
).action(evalCommand);

program
  .command('export <model>')
  .description('write the model as ONNX, a tfjs LayersModel, or a Tandem model directory')
  .addOption(new Option('--format <fmt>', 'output format').choices(['onnx', 'tfjs', 'tandem']).makeOptionMandatory())
  .requiredOption('--out <path>', 'output file (onnx) or directory (tfjs, tandem)')
  .option('--json', 'machine-readable output')
  .action(exportCommand);

dataOpts(
  program
    .command('start')
    .description('the main job on the embedded default: inspect and evaluate fmnist-vgg')
    .option('--json', 'machine-readable output'),
).action(startCommand);

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as Error;
  const msg = err.name === 'CancelledError' || err.name === 'AbortError' ? `cancelled: ${err.message}` : err.message;
  process.stderr.write(`tandem: error: ${msg.split('\n').join('\n  ')}\n`);
  if (process.env.TANDEM_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(err.name === 'CancelledError' || err.name === 'AbortError' ? 130 : 1);
});
