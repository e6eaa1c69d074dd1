#!/usr/bin/env node
/**
 * The `dropout-lab` command line: `demo`, `train` and `compare`. Every failure prints one line naming
 * the problem and the fix and exits non-zero; `--verbose` adds the stack. Exit codes, one scheme for
 * every command: 0 success, 1 a runtime failure (data, disk, diverged training, a bug), 2 a usage
 * error (whether commander or our own validation catches it), 130/143 stopped by SIGINT/SIGTERM.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ArgumentError, DropoutLabError, InterruptedError } from '../errors.js';
import { BOOK_HPARAMS } from '../models/dropoutMlp.js';
import { runDemo } from './demo.js';
import { labCommand } from './lab.js';
import { integerAtLeast, integerIn, numberIn, pathFlag, positiveNumber } from './options.js';
import { BACKEND_NAMES, defaultThreads, type BackendName } from '../backend/select.js';
import { availableParallelism } from 'node:os';
import { MODEL_NAMES, runModels, type ModelName, type RunSpec } from './run.js';
import { runCompareSeeds } from './experiments.js';
import { registerMc } from './mc.js';
import { registerSweep } from './sweep.js';
import { registerWorker } from './worker.js';
import { addQueueOptions, type QueueFlags } from './queueOptions.js';
import { packageVersion } from './version.js';

interface TrainFlags extends QueueFlags {
  model: ModelName;
  epochs: number;
  batchSize: number;
  lr: number;
  numHiddens1: number;
  numHiddens2: number;
  dropout1: number;
  dropout2: number;
  seed: number;
  dataDir?: string;
  trainLimit?: number;
  valLimit?: number;
  out?: string;
  json: boolean;
  verbose: boolean;
  backend: BackendName;
  threads: number;
  seeds?: number;
  runsDir?: string;
  workers: number;
  checkpointEvery?: number;
  resume?: string;
  saveWeights?: string;
  initWeights?: string;
}

const print = (line: string): void => {
  process.stdout.write(line + '\n');
};

function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option(
      '--epochs <n>',
      'passes over the training set',
      integerAtLeast('--epochs', 1, 'e.g. --epochs 10'),
      10,
    )
    .option(
      '--batch-size <n>',
      'examples per minibatch',
      integerAtLeast('--batch-size', 1, 'e.g. --batch-size 256'),
      256,
    )
    .option('--lr <x>', 'learning rate', positiveNumber('--lr', 'e.g. --lr 0.1'), BOOK_HPARAMS.lr)
    .option(
      '--num-hiddens1 <n>',
      'units in hidden layer 1',
      integerAtLeast('--num-hiddens1', 1, 'e.g. 256'),
      256,
    )
    .option(
      '--num-hiddens2 <n>',
      'units in hidden layer 2',
      integerAtLeast('--num-hiddens2', 1, 'e.g. 256'),
      256,
    )
    .option(
      '--dropout1 <p>',
      'dropout probability after hidden layer 1',
      numberIn('--dropout1', 0, 1, 'e.g. 0.5'),
      0.5,
    )
    .option(
      '--dropout2 <p>',
      'dropout probability after hidden layer 2',
      numberIn('--dropout2', 0, 1, 'e.g. 0.5'),
      0.5,
    )
    .option(
      '--seed <n>',
      'random seed (same seed ⇒ identical run)',
      integerAtLeast('--seed', 0, 'e.g. --seed 0'),
      0,
    )
    .option(
      '--data-dir <dir>',
      'folder with the four Fashion-MNIST IDX files (else $DROPOUT_LAB_DATA, cache, system, download)',
      pathFlag('--data-dir'),
    )
    .option(
      '--train-limit <n>',
      'use only the first N training examples',
      integerAtLeast('--train-limit', 1, 'e.g. 6000'),
    )
    .option(
      '--val-limit <n>',
      'use only the first N validation examples',
      integerAtLeast('--val-limit', 1, 'e.g. 2000'),
    )
    .option('--out <dir>', 'write config.json, metrics.jsonl and curves.svg/png here', pathFlag('--out'))
    .addOption(new Option('--backend <name>', 'compute backend').choices(BACKEND_NAMES).default('wasm'))
    .option(
      '--threads <n>',
      `threads for the wasm backend (1 to ${availableParallelism()}, the available cores; default up to 8)`,
      integerIn('--threads', 1, availableParallelism()),
      defaultThreads(availableParallelism()),
    )
    .option(
      '--checkpoint-every <n>',
      'save a checkpoint every N epochs to <out>/checkpoints (or back into the --resume dir)',
      integerAtLeast('--checkpoint-every', 1, 'e.g. --checkpoint-every 1'),
    )
    .option(
      '--resume <dir>',
      'continue the run checkpointed in DIR (an --out dir or its checkpoints/ folder)',
      pathFlag('--resume'),
    )
    .option('--json', 'print JSON lines instead of text (no progress bar)', false)
    .option('--verbose', 'print stack traces on errors', false);
}

function toSpec(command: 'train' | 'compare', models: readonly ModelName[], f: TrainFlags): RunSpec {
  return {
    command,
    models,
    epochs: f.epochs,
    batchSize: f.batchSize,
    lr: f.lr,
    numHiddens1: f.numHiddens1,
    numHiddens2: f.numHiddens2,
    dropout1: f.dropout1,
    dropout2: f.dropout2,
    seed: f.seed,
    dataDir: f.dataDir,
    trainLimit: f.trainLimit,
    valLimit: f.valLimit,
    out: f.out,
    json: f.json,
    backend: f.backend,
    threads: f.threads,
    checkpointEvery: f.checkpointEvery,
    resume: f.resume,
    saveWeights: f.saveWeights,
    initWeights: f.initWeights,
  };
}

/** A commander parser for a FILE.safetensors path. */
const safetensorsPath =
  (flag: string) =>
  (value: string): string => {
    if (!value.endsWith('.safetensors')) {
      throw new InvalidArgumentError(
        `${flag} needs a .safetensors file, got '${value}'; e.g. ${flag} weights.safetensors.`,
      );
    }
    return value;
  };

/** Builds the command-line program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('dropout-lab')
    .description('Inverted dropout done right: the d2l dropout MLPs on Fashion-MNIST, in TypeScript.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showSuggestionAfterError(true)
    .exitOverride()
    // Set before adding subcommands: they copy these settings when created.
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) =>
        write(
          `dropout-lab: ${s
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()}\n`,
        ),
    });

  program
    .command('demo')
    .description("the deck's quick check: X = arange(16).reshape(2, 8) through dropout p = 0, 0.5, 1")
    .option('--seed <n>', 'random seed', integerAtLeast('--seed', 0, 'e.g. --seed 0'), 0)
    .option('--json', 'print one JSON object', false)
    .option('--verbose', 'print stack traces on errors', false)
    .action((f: { seed: number; json: boolean }) => print(runDemo(f.seed, f.json)));

  addTrainingOptions(
    program
      .command('train')
      .description('train one model on Fashion-MNIST (the book: 10 epochs, batch 256, lr 0.1)')
      .addOption(new Option('--model <name>', 'which model').choices(MODEL_NAMES).default('dropout-mlp'))
      .option(
        '--save-weights <file>',
        "after training, write the weights as safetensors (PyTorch's state_dict names)",
        safetensorsPath('--save-weights'),
      )
      .option(
        '--init-weights <file>',
        'start from these safetensors weights (e.g. saved from PyTorch)',
        safetensorsPath('--init-weights'),
      ),
  ).action(async (f: TrainFlags) => {
    await runModels(toSpec('train', [f.model], f), print);
  });

  addTrainingOptions(
    addQueueOptions(program.command('compare'), 'with --seeds: run the seeds')
      .description('the dropout MLP and the plain MLP with the same seed and hyperparameters, side by side')
      .option(
        '--seeds <n>',
        'run N seeds (seed, seed+1, …) in worker processes and report mean ± std; finished runs are reused',
        integerAtLeast('--seeds', 1, 'e.g. --seeds 3'),
      )
      .option(
        '--runs-dir <dir>',
        'with --seeds: per-run JSONL files (default <out>/runs)',
        pathFlag('--runs-dir'),
      )
      .option(
        '--workers <n>',
        'with --seeds: parallel worker processes, one core each (default: the available cores)',
        integerAtLeast('--workers', 1, 'e.g. 2'),
        availableParallelism(),
      ),
  ).action(async (f: TrainFlags) => {
    if (f.seeds === undefined) {
      await runModels(toSpec('compare', ['dropout-mlp', 'mlp'], f), print);
      return;
    }
    await runCompareSeeds(
      {
        ...f,
        seeds: f.seeds,
        ...(f.out === undefined ? {} : { out: f.out }),
        ...(f.runsDir === undefined ? {} : { runsDir: f.runsDir }),
      },
      print,
    );
  });
  registerSweep(program, print);
  registerMc(program, print);
  registerWorker(program);
  labCommand(program);
  return program;
}

/** Commander's codes that are not failures: help and version requested. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/** Exit code of a failure: 2 usage, 130/143 interrupted, 1 anything else (see the file comment). */
export function exitCodeOf(e: unknown): number {
  if (e instanceof CommanderError) return COMMANDER_SUCCESS.has(e.code) ? 0 : 2;
  if (e instanceof InterruptedError) return e.exitCode;
  if (e instanceof ArgumentError) return 2;
  return 1;
}

/** Runs the CLI on `argv`; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" with exit code 0 in commander's model; the rest are usage errors.
      return exitCodeOf(e);
    }
    if (e instanceof DropoutLabError) {
      process.stderr.write(`dropout-lab: ${e.message}\n`);
    } else {
      const message = e instanceof Error ? e.message : String(e);
      process.stderr.write(
        `dropout-lab: unexpected error: ${message}${verbose ? '' : ' (run with --verbose for details)'}\n`,
      );
    }
    if (verbose && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    return exitCodeOf(e);
  }
}

// `dropout-lab train --json | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
