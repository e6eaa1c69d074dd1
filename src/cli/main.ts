#!/usr/bin/env node
/**
 * The `dropout-lab` command line: `demo`, `train` and `compare`. Every failure prints one line naming
 * the problem and the fix and exits non-zero; `--verbose` adds the stack. Exit codes, one scheme for
 * every command: 0 success, 1 a runtime failure (data, disk, diverged training, a bug), 2 a usage
 * error (whether commander or our own validation catches it), 130/143 stopped by SIGINT/SIGTERM.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ArgumentError, DropoutLabError, InterruptedError } from '../errors.js';
import { runDemo } from './demo.js';
import { labCommand } from './lab.js';
import { integerAtLeast, integerIn, pathFlag } from './options.js';
import { BACKEND_NAMES, defaultThreads, type BackendName } from '../backend/select.js';
import { availableParallelism } from 'node:os';
import { runModels, type RunSpec } from './run.js';
import type { RunConfig } from '../run/config.js';
import { MODEL_NAMES, type ModelName } from '../run/models.js';
import { optionOf } from '../run/options.js';
import { addRunOptions, flagParser, runsFromFlags } from './runOptions.js';
import { runCompareSeeds } from './experiments.js';
import { registerMc } from './mc.js';
import { registerSweep } from './sweep.js';
import { registerExperiment } from './experiment.js';
import { registerReport } from './report.js';
import { registerWorker } from './worker.js';
import { addQueueOptions, type QueueFlags } from './queueOptions.js';
import { packageVersion } from './version.js';

/** The flags of `train` and `compare`: the run's options (named as RunConfig's fields) and the command's. */
interface TrainFlags extends QueueFlags, Partial<Record<keyof RunConfig, unknown>> {
  models?: ModelName[];
  dataDir?: string;
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

/** The run's options of `surface` (from the option table), then the command's own. */
function addTrainingOptions(cmd: Command, surface: 'train' | 'compare'): Command {
  return addRunOptions(cmd, surface)
    .option(
      '--data-dir <dir>',
      'folder with the four Fashion-MNIST IDX files (else $DROPOUT_LAB_DATA, cache, system, download)',
      pathFlag('--data-dir'),
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

/** The spec of `train`/`compare`: one resolved run per model (`train`: the --model flag's). */
function toSpec(
  command: 'train' | 'compare',
  models: readonly ModelName[] | undefined,
  f: TrainFlags,
): RunSpec {
  return {
    command,
    configs: runsFromFlags(f, models === undefined ? [{}] : models.map((model) => ({ model }))),
    dataDir: f.dataDir,
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

/** A commander parser for `--models a,b`: registry names, each once. */
function modelList(value: string): ModelName[] {
  const names = value.split(',').map((v) => v.trim());
  const parse = flagParser(optionOf('model'));
  const models = names.map((n) => parse(n) as ModelName);
  if (new Set(models).size !== models.length) {
    throw new InvalidArgumentError(`--models lists a model twice ('${value}'); name each once.`);
  }
  return models;
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
    'train',
  ).action(async (f: TrainFlags) => {
    await runModels(toSpec('train', undefined, f), print);
  });

  addTrainingOptions(
    addQueueOptions(program.command('compare'), 'with --seeds: run the seeds')
      .description('the dropout MLP and the plain MLP with the same seed and hyperparameters, side by side')
      .option(
        '--models <list>',
        `comma-separated models to compare, each with the same seed and settings (${MODEL_NAMES.join(', ')})`,
        modelList,
        ['dropout-mlp', 'mlp'],
      )
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
    'compare',
  ).action(async (f: TrainFlags) => {
    const models = f.models ?? ['dropout-mlp', 'mlp'];
    if (f.seeds === undefined) {
      await runModels(toSpec('compare', models, f), print);
      return;
    }
    // Every run of every model and seed, resolved before the pool starts.
    const first = f.seed === undefined ? 0 : (f.seed as number);
    const seeds = Array.from({ length: f.seeds }, (_, i) => first + i);
    await runCompareSeeds(
      {
        ...f,
        configs: runsFromFlags(
          f,
          models.flatMap((model) => seeds.map((seed) => ({ model, seed }))),
        ),
        models,
        seeds: f.seeds,
        ...(f.out === undefined ? {} : { out: f.out }),
        ...(f.runsDir === undefined ? {} : { runsDir: f.runsDir }),
      },
      print,
    );
  });
  registerSweep(program, print);
  registerMc(program, print);
  registerExperiment(program, print);
  registerReport(program, print);
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
