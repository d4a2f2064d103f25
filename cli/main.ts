#!/usr/bin/env node
// The `tandem` command line. Every command: --json for machines, one clear line and exit 1 on error.
import { createRequire } from 'node:module';
import { Command, InvalidArgumentError, Option } from 'commander';
import { boardEmulateCommand, boardFlashCommand } from './commands/board.js';
import { type CodesignFlags, codesignCommand } from './commands/codesign.js';
import { compareFrontsCommand } from './commands/compare-fronts.js';
import { compileCommand } from './commands/compile.js';
import { compressCommand } from './commands/compress.js';
import { latencyFitCommand, latencyMeasureCommand } from './commands/latency.js';
import { profileCommand } from './commands/profile.js';
import { pruneCommand } from './commands/prune.js';
import { runsCommand, runsShowCommand } from './commands/runs.js';
import { simulateCommand } from './commands/simulate.js';
import { quantizeCommand } from './commands/quantize.js';
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

dataOpts(
  program
    .command('compress <model>')
    .description('low-rank compression (SVD / Tucker-2 / CP) with automatic ranks, Two-Pass, multi-stage, fine-tuning')
    .addOption(new Option('--method <m>', 'decomposition: tucker2 and cp apply to k×k convs (svd to dense and 1×1 convs)').choices(['svd', 'tucker2', 'cp']).makeOptionMandatory())
    .requiredOption('--ranks <rule>', 'evbmf | weakened:W | ratio:Nx (network MACs) | ratio:params=Nx | layer-ratio:Nx | budget:macs=F | budget:params=F | LAYER=R[xR],...')
    .requiredOption('-o, --out <dir>', 'output folder: graph.json + weights.bin, model.onnx, plan.json, report.json, report.txt')
    .option('--layers <ids>', 'only these layers (comma-separated original layer ids)')
    .option('--two-pass', 'Two-Pass: refit each decomposed layer to the original outputs, fine-tune the rest with it frozen')
    .option('--refit', 'refit each decomposed layer to the original outputs on calibration images, then fine-tune everything')
    .option('--iterative', 'with --two-pass: layer by layer (decompose, refit, fine-tune) in --order')
    .addOption(new Option('--order <o>', 'Two-Pass layer order').choices(['in-out', 'out-in', 'redundant']).default('in-out'))
    .option('--stages <n>', 'multi-stage (MUSCO): repeat choose ranks / re-compress / fine-tune n times', int('--stages'))
    .option('--finetune <epochs>', 'fine-tuning epochs per stage (fractions allowed; default 0)', float('--finetune'))
    .option('--min-rank <r>', 'evbmf/weakened: skip layers whose rank is below r (default 21)', int('--min-rank'))
    .option('--calib <n>', 'calibration images for sensitivity and refits (default 256)', int('--calib'))
    .option('--lr <x>', 'fine-tuning peak learning rate', float('--lr'))
    .option('--train-limit <n>', 'fine-tune on the first n training images only', int('--train-limit'))
    .option('--eval-limit <n>', 'evaluate on the first n test images only', int('--eval-limit'))
    .option('--cp-iter <n>', 'CP-ALS iterations (default 200)', int('--cp-iter'))
    .option('--seed <n>', 'seed for CP initialisation, fine-tuning order, augmentation (default 1)', int('--seed'))
    .option('--workers <n>', 'worker threads (0 = in-process; default one per core)', int('--workers'))
    .option('--json', 'machine-readable output'),
).action(compressCommand);

dataOpts(
  program
    .command('prune <model>')
    .description('structured channel pruning (dependency-aware, physically smaller) to a params/MACs target')
    .addOption(new Option('--criterion <c>', 'channel importance: filter norm, BN gamma (network slimming), variational mask, SSL group lasso').choices(['l1', 'l2', 'slim', 'vmask', 'ssl']).makeOptionMandatory())
    .option('--target <t>', 'fraction of the original that remains: params=F and/or macs=F, e.g. params=0.1,macs=0.3 (this or --keep is required, except for vmask)')
    .option('--keep <shares>', 'per layer instead of --target: share of each named layer\'s output channels kept, e.g. conv1=0.5,conv3=0.25 (the most important ones by --criterion)')
    .option('--threshold <p>', 'vmask without --target: prune channels whose learned dropout rate exceeds p (default 0.5)', float('--threshold'))
    .requiredOption('-o, --out <dir>', 'output folder: graph.json + weights.bin, model.onnx, plan.json, report.json, report.txt')
    .option('--steps <n>', 'iterative pruning in n steps (geometric towards the target; default 1 = one-shot)', int('--steps'))
    .option('--sparsity <epochs>', 'slim / ssl: sparsity-training epochs before pruning; vmask: mask-training epochs (default 0)', float('--sparsity'))
    .option('--lambda <x>', 'slim / ssl penalty strength, vmask KL weight (default 1e-4)', float('--lambda'))
    .option('--ssl-groups <list>', 'ssl groups: filter,channel,shape,depth (default filter,channel)')
    .option('--finetune <epochs>', 'fine-tuning epochs after each step (fractions allowed; default 0)', float('--finetune'))
    .option('--min-channels <n>', 'keep at least n channels in every group (default 1)', int('--min-channels'))
    .addOption(new Option('--dropout <mode>', 'fine-tuning dropout: scale each rate by sqrt(kept/original connections of the layer it feeds) (Han et al. 2015), or keep the rates').choices(['scale', 'keep']).default('scale'))
    .option('--latency-runs <n>', 'host latency: median of n single-image runs, before and after (default 30; 0 = skip)', int('--latency-runs'))
    .option('--lr <x>', 'fine-tuning / sparsity-training peak learning rate', float('--lr'))
    .option('--distill <alpha>', 'fine-tune with knowledge distillation from the unpruned model: loss (1-alpha)·CE + alpha·T²·KL (classification)', float('--distill'))
    .option('--temperature <T>', 'distillation temperature (default 4)', float('--temperature'))
    .option('--train-limit <n>', 'train on the first n training images only', int('--train-limit'))
    .option('--eval-limit <n>', 'evaluate on the first n test images only', int('--eval-limit'))
    .option('--seed <n>', 'seed for training order, augmentation and dropout (default 1)', int('--seed'))
    .option('--workers <n>', 'worker threads (0 = in-process; default one per core)', int('--workers'))
    .option('--json', 'machine-readable output'),
).action(pruneCommand);

dataOpts(
  program
    .command('quantize <model>')
    .description('integer quantization (PTQ or QAT) with the integer-only executor checked against the fake-quantized model; QAT on an already quantized model continues its training from its ranges (and, with --accel, the ADC ranges in its schedule.json)')
    .addOption(new Option('--mode <m>', 'post-training or quantization-aware training').choices(['ptq', 'qat']).makeOptionMandatory())
    .requiredOption('-o, --out <dir>', 'output folder: graph.json + weights.bin (quantized IR, docs/int8-semantics.md), report.json, report.txt')
    .option('--calib <n>', 'calibration images from the training split (default 256)', int('--calib'))
    .option('--weight-bits <b>', 'weight bits, 2..16 (default 8)', int('--weight-bits'))
    .option('--layer-bits <bits>', 'weight bits of single layers, overriding --weight-bits (mixed precision), e.g. conv1=4,dense1=6')
    .option('--activation-bits <b>', 'activation bits, 2..16 (default 8)', int('--activation-bits'))
    .addOption(new Option('--activations <s>', 'activation zero points').choices(['asymmetric', 'symmetric']).default('asymmetric'))
    .addOption(new Option('--calibration <c>', 'activation range per tensor').choices(['minmax', 'percentile', 'mse']).default('minmax'))
    .option('--percentile <p>', 'percentile calibration: kept share of each side (default 99.99)', float('--percentile'))
    .option('--epochs <e>', 'qat: fake-quantized training epochs (default 1; fractions allowed, except with --accel)', float('--epochs'))
    .option('--accel <name|file>', 'qat: train with this CIM accelerator in the forward pass (preset or JSON/YAML spec; ADC ranges calibrated on --calib images); the output also gets its schedule.json')
    .option('--set <path=value>', 'qat --accel: override one spec field, e.g. --set adc.bits=6 (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--cim-noise <parts>', "qat --accel: non-idealities sampled every step: 'none' (default, exact mode) or a list of cells (stuck-at, programming noise, drift), read, adc (offset, gain, INL), ir-drop")
    .option('--distill <alpha>', 'qat: knowledge distillation from the float model: loss (1-alpha)·CE + alpha·T²·KL', float('--distill'))
    .option('--temperature <T>', 'qat --distill: temperature (default 4)', float('--temperature'))
    .option('--teacher <model>', 'qat --distill: the float teacher (default: the input model; needed when the input is already quantized)')
    .option('--lr <x>', 'qat: peak learning rate (default 0.001)', float('--lr'))
    .option('--check <n>', 'run the integer executor on the first n test images (default: all evaluated ones; 0 = skip)', int('--check'))
    .option('--train-limit <n>', 'qat: train on the first n training images only', int('--train-limit'))
    .option('--eval-limit <n>', 'evaluate on the first n test images only', int('--eval-limit'))
    .option('--seed <n>', 'seed for calibration sampling and QAT (default 1)', int('--seed'))
    .option('--workers <n>', 'worker threads (0 = in-process; default one per core)', int('--workers'))
    .option('--json', 'machine-readable output'),
).action(quantizeCommand);

const collect = (v: string, prev: string[] = []) => [...prev, v];

dataOpts(
  program
    .command('compile <model>')
    .description('lower a quantized model (float ones get default PTQ first) onto a CIM accelerator: schedule, utilisation, cost')
    .requiredOption('--accel <name|file>', 'accelerator: preset (ideal-int8, rram-128, pcm-256, sram-cim-256) or a JSON/YAML spec file (docs/accelerators.md)')
    .option('--set <path=value>', 'override one spec field, e.g. --set adc.bits=6 (repeatable)', collect)
    .requiredOption('-o, --out <dir>', 'output folder: schedule.txt, schedule.json, graph.json + weights.bin, report.json, report.txt')
    .option('--calib <n>', 'training images for PTQ of a float model and ADC calibration (default 256)', int('--calib'))
    .option('--json', 'machine-readable output'),
).action(compileCommand);

dataOpts(
  program
    .command('simulate <model>')
    .description('run the test set on a simulated CIM accelerator (model, or a `tandem compile` folder): accuracy, per-layer error, latency, energy')
    .requiredOption('--accel <name|file>', 'accelerator preset or spec file (ignored for a compiled folder)')
    .option('--set <path=value>', 'override one spec field (repeatable)', collect)
    .addOption(new Option('--mode <m>', 'exact: ideal cells, the ADC only quantizes; analog: every non-ideality of the spec').choices(['exact', 'analog']).default('analog'))
    .option('--mc <n>', 'Monte-Carlo seeds (analog; default 1)', int('--mc'))
    .option('--seed <n>', 'first seed (default 1; seeds are seed..seed+mc-1)', int('--seed'))
    .option('--drift <times>', 'time from programming to inference, comma-separated for a curve: 0, 1s, 1h, 1d, 1w, 1mo, 1y (default 0)')
    .option('--no-drift-compensation', 'turn off global drift compensation (on where the spec has it)')
    .option('--limit <n>', 'only the first n test images', int('--limit'))
    .option('--batch <n>', 'images per batch (default 50)', int('--batch'))
    .option('--digits', 'compute every input cycle and weight digit even where the ADC is lossless')
    .option('--calib <n>', 'training images for PTQ of a float model and ADC calibration (default 256)', int('--calib'))
    .option('-o, --out <dir>', 'also write simulation.json and simulation.txt there')
    .option('--json', 'machine-readable output'),
).action(simulateCommand);

dataOpts(
  program
    .command('profile <model>')
    .description('time a quantized model per layer on a target (float models get default PTQ first): median, IQR, min of the board\'s own cycle counts (a phone: its ns clock)')
    .requiredOption('--target <t>', 'qemu (starts the emulated Cortex-M4 board), serial:<port> (a board running the Tandem firmware), adb:<serial> (an arm64 Android phone over adb: $TANDEM_ADB or adb on PATH), host (the integer executor in this process), sim:<accelerator>[:analog] (the CIM simulator; latency and energy from its cost model), predictor:<file>[#lut|flop-linear|forest] (a latency predictor from `tandem latency fit`)')
    .option('--images <n>', 'test images to run (default 1)', int('--images'))
    .option('--warmup <n>', 'untimed runs per image (default 1)', int('--warmup'))
    .option('--repeats <n>', 'timed runs per image (default 10)', int('--repeats'))
    .option('--calib <n>', 'training images for PTQ of a float model and, for sim, the ADC calibration (default 256)', int('--calib'))
    .option('--cpus <list>', 'adb: CPUs to pin the runner to with taskset, e.g. 4-7 or 0,2 (default: the CPUs with the highest cpuinfo_max_freq)')
    .option('--seed <n>', 'sim:<accelerator>:analog: Monte-Carlo seed of the device sample (default 1)', int('--seed'))
    .option('--store <path>', 'run store to record the run in (default $TANDEM_STORE, else ~/.cache/tandem/runs.sqlite)')
    .option('--no-store', 'do not record the run')
    .option('--json', 'machine-readable output'),
).action(profileCommand);

const latency = program.command('latency').description('latency datasets of network variants and the predictors fitted on them (docs/latency-predictors.md)');
dataOpts(
  latency
    .command('measure')
    .description('measure a seeded population of fmnist-vgg/fmnist-resnet variants (widths, kernels, pruning, low-rank) per layer on a target; writes a dataset (JSON, atomically; rewritten every 10 variants)')
    .requiredOption('--target <t>', 'qemu, serial:<port> or host')
    .requiredOption('-o, --out <file>', 'dataset file (JSON)')
    .option('--variants <n>', 'variants to measure (default 300)', int('--variants'))
    .option('--seed <n>', 'population seed (default 1)', int('--seed'))
    .option('--warmup <n>', 'untimed runs per variant (default 1)', int('--warmup'))
    .option('--repeats <n>', 'timed runs per variant (default 3 on a board: QEMU ticks are deterministic; 15 on host)', int('--repeats'))
    .addOption(new Option('--stat <s>', 'what is kept of the repeats (default median on a board, min on host: interference only adds time)').choices(['median', 'min']))
    .option('--calib <n>', 'training images for each variant\'s PTQ (default 16)', int('--calib'))
    .option('--max-blob <bytes>', 'boards: skip variants whose blob is larger (default 160000: the QEMU upload runs ~15 KB/s)', int('--max-blob'))
    .option('--resume', 'continue the dataset in --out (same seed and target) instead of starting again')
    .option('--store <path>', 'also record every variant\'s run in this run store (off by default)')
    .option('--json', 'machine-readable output'),
).action(latencyMeasureCommand);
latency
  .command('fit <dataset>')
  .description('fit latency predictors (per-layer lookup table, FLOP-linear with RANSAC, random forest) on a seeded split by variant; print the held-out table (share within ±10%/±5%, RMSE, R²)')
  .option('-o, --out <file>', 'write the fitted predictor (JSON), usable as --target predictor:<file>')
  .option('--seed <n>', 'split, RANSAC and forest seed (default 1)', int('--seed'))
  .option('--test <fraction>', 'share of variants held out (default 0.2)', float('--test'))
  .option('--trees <n>', 'random forest trees (default 40)', int('--trees'))
  .option('--json', 'machine-readable output')
  .action(latencyFitCommand);

dataOpts(
  program
    .command('codesign [problem]')
    .description('the co-design loop: search per-layer decompositions and pruning for a problem (JSON/YAML file and/or flags), evaluating each candidate (fine-tune, int8, accuracy, simulated/measured cost), recorded in the run store; writes the Pareto front (front.json, front.csv, report.html) and the chosen model')
    .option('-o, --out <dir>', 'output folder (default codesign-out)')
    .option('--store <path>', 'run store (default $TANDEM_STORE, else ~/.cache/tandem/runs.sqlite); models go to models/ beside it')
    .option('--resume <run>', 'continue a killed or cancelled run from the store', int('--resume'))
    .option('--model <m>', 'base model (built-in name or folder)')
    .option('--objective <metric>', 'an objective besides accuracy, repeatable: energy:<accel>, arrays:<accel>, latency:<target> (qemu, host, serial:<port>, predictor:<file>) or latency:sim:<accel>, params, macs', collect)
    .option('--budget <metric<=max>', 'a hard budget, repeatable, e.g. arrays:rram-128<=64, latency:qemu<=5 (ms), energy:rram-128<=2 (µJ)', collect)
    .addOption(new Option('--strategy <s>', 'search strategy').choices(['greedy', 'musco', 'nsga2']))
    .option('--cost <c>', "what a layer costs when allocating: macs, params, hardware (the first objective) or an objective's key")
    .option('--candidates <n>', 'candidates to evaluate besides the baseline', int('--candidates'))
    .option('--minutes <m>', 'time budget: no new candidate after this many minutes of profiling and evaluation', float('--minutes'))
    .option('--max-drop <pp>', 'allowed accuracy drop in percentage points (default 0.5)', float('--max-drop'))
    .option('--seed <n>', 'seed of everything random (default 1)', int('--seed'))
    .option('--workers <n>', 'training/evaluation worker threads', int('--workers'))
    .option('--json', 'machine-readable output'),
).action(async (file: string | undefined, f: CodesignFlags) => {
  await codesignCommand(file, f);
});

program
  .command('compare-fronts <a> <b>')
  .description("compare two co-design results (front.json) of one problem, e.g. MACs-only (a) against hardware-aware (b): per objective the best feasible value of each and B's change, the share of each front the other dominates, hypervolumes")
  .option('--json', 'machine-readable output')
  .action(compareFrontsCommand);

const storeOpt = '--store <path>';
const storeHelp = 'run store (default $TANDEM_STORE, else ~/.cache/tandem/runs.sqlite)';
const runs = program
  .command('runs')
  .description('list the runs in the run store (every completed `tandem profile`), oldest first; `runs show <id>` prints one')
  .option(storeOpt, storeHelp)
  .option('--model <m>', 'only this model: the name it was given, its graph name, or a prefix of its sha256 (>= 6 hex digits)')
  .option('--target <t>', 'only this target: --target as given (qemu, host, serial:<port>, adb:<serial>), target id or kind (e.g. adb), board id')
  .option('--limit <n>', 'only the newest n runs', int('--limit'))
  .option('--json', 'machine-readable output')
  .action(runsCommand);
runs
  .command('show <id>')
  .description("one stored run: its model, target, options and per-layer table (median, IQR, min)")
  .option(storeOpt, storeHelp)
  .option('--json', 'machine-readable output (the stored Report with every sample)')
  // `runs` itself takes --store/--json wherever they appear (commander's default): read both levels
  .action((id: string, _o: unknown, cmd: Command) => runsShowCommand(id, cmd.optsWithGlobals()));

const board = program.command('board').description('boards that run the Tandem firmware');
board
  .command('emulate')
  .description('start the QEMU mps2-an386 board (Cortex-M4) on a pty and keep it running until Ctrl-C')
  .option('--elf <file>', 'firmware ELF (default: build hw-targets/firmware/ports/qemu-mps2-an386)')
  .option('--no-icount', 'run QEMU without -icount shift=0 (cycle counts then follow the host\'s speed)')
  .option('--json', 'machine-readable output')
  .action(boardEmulateCommand);
board
  .command('flash')
  .description('build the firmware for a real board and flash it with the installed vendor tool (st-flash, else openocd); without one, print what to install and the command')
  .requiredOption('--board <name>', 'the board: nucleo-f446re')
  .option('--elf <file>', 'firmware ELF to flash (default: build hw-targets/firmware/ports/<board>)')
  .option('--dry-run', 'print the flash command without running it')
  .action(boardFlashCommand);

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
    .description('the app: Electron when installed, else the same UI in the browser from a loopback-only server; with --job, the main job on the embedded default without the UI (the co-design loop on fmnist-vgg with the rram-128 accelerator and the emulated board, ~10 minutes; writes ./tandem-start/report.html)')
    .option('--job', 'run the default co-design job in this terminal instead of opening the app')
    .option('--no-open', 'browser fallback: print the URL instead of opening the system browser')
    .option('--browser', 'use the browser fallback even when Electron is installed')
    .option('--port <n>', 'browser fallback: port on 127.0.0.1 (default: any free port)', int('--port'))
    .option('--workspace <dir>', 'app: where jobs and opened models are kept (default $TANDEM_WORKSPACE, else ~/.local/share/tandem)')
    .option('-o, --out <dir>', '--job: output folder (default tandem-start)')
    .option('--store <path>', 'run store (default $TANDEM_STORE, else ~/.cache/tandem/runs.sqlite)')
    .option('--candidates <n>', '--job: at most n candidates (default: the job\'s own)', int('--candidates'))
    .option('--minutes <m>', '--job: time budget in minutes (default: the job\'s own)', float('--minutes'))
    .option('--workers <n>', 'training/evaluation worker threads', int('--workers'))
    .option('--json', 'machine-readable output'),
).action(startCommand);

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as Error;
  const msg = err.name === 'CancelledError' || err.name === 'AbortError' ? `cancelled: ${err.message}` : err.message;
  process.stderr.write(`tandem: error: ${msg.split('\n').join('\n  ')}\n`);
  if (process.env.TANDEM_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(err.name === 'CancelledError' || err.name === 'AbortError' ? 130 : 1);
});
