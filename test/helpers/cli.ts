/**
 * The built command line (dist/cli/main.js) as the CLI tests (test/cli/) run it: a child process with
 * its stdout, stderr and exit code captured, a kill timer, and a kill in `finally`, so a test that
 * fails or hangs never leaves a CLI (or its workers) running. `npm test` builds dist/ first; run by
 * path, a CLI test needs `npm run build` after a change to src/ (a stale dist/ is refused, not used).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The built CLI, as `npm run compare` and the `dropout-lab` command run it. */
export const CLI_MAIN = join(ROOT, 'dist', 'cli', 'main.js');

/** What a finished CLI left: its exit code (128 + n when killed by signal n, as a shell reports it). */
export interface CliResult {
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How to run the CLI. */
export interface CliOptions {
  readonly cwd?: string;
  /** Added to the test's environment; DROPOUT_LAB_DATA is cleared unless given here. */
  readonly env?: Readonly<Record<string, string>>;
  /** The kill timer of runCli: SIGKILL after this many ms and reject (default 300 s). */
  readonly timeoutMs?: number;
  /** Sees all of stdout so far on every chunk, to send a signal at the right moment. */
  readonly onStdout?: (all: string, kill: (signal: NodeJS.Signals) => void) => void;
  /** Sees all of stderr so far on every chunk. */
  readonly onStderr?: (all: string, kill: (signal: NodeJS.Signals) => void) => void;
}

/** A CLI started in the background: its output so far, its end, and a kill that is safe to repeat. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr as one text, chunk by chunk in the order they arrived (as a terminal shows them). */
  output(): string;
  readonly exited: Promise<CliResult>;
  /** Sends `signal` (SIGKILL by default) unless the process has already exited. */
  kill(signal?: NodeJS.Signals): void;
}

const DEFAULT_TIMEOUT_MS = 300_000;

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let t = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

let checkedBuild = false;

/** Throws when dist/cli/main.js is missing or older than src/: the test would run yesterday's CLI. */
function assertBuilt(): void {
  if (checkedBuild) return;
  let built: number;
  try {
    built = statSync(CLI_MAIN).mtimeMs;
  } catch {
    throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` before the CLI tests (npm test does).`);
  }
  if (newest(join(ROOT, 'src')) > built) {
    throw new Error('dist/ is older than src/: run `npm run build` before the CLI tests (npm test does).');
  }
  checkedBuild = true;
}

/** Starts `dropout-lab ARGS` from dist/; the caller kills it in `finally` (runCli does this for you). */
export function startCli(args: readonly string[], opts: CliOptions = {}): CliProcess {
  assertBuilt();
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, DROPOUT_LAB_DATA: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  const kill = (signal: NodeJS.Signals = 'SIGKILL'): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    output += d.toString();
    opts.onStdout?.(stdout, kill);
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    output += d.toString();
    opts.onStderr?.(stderr, kill);
  });
  // 'close' waits for every holder of the pipes, so a CLI's worker processes have ended too.
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), signal, stdout, stderr }),
    );
  });
  return { child, stdout: () => stdout, stderr: () => stderr, output: () => output, exited, kill };
}

/**
 * Runs `dropout-lab ARGS` to the end and resolves with its exit code and output. Past `timeoutMs` the
 * CLI is killed and the promise rejects with the output so far; it is killed in `finally` either way.
 */
export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const p = startCli(args, opts);
  const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `dropout-lab ${args.join(' ')} did not exit within ${ms / 1000} s (killed)\n` +
              `stdout: ${p.stdout().slice(-2000)}\nstderr: ${p.stderr().slice(-2000)}`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([p.exited, timedOut]);
  } finally {
    clearTimeout(timer);
    p.kill('SIGKILL');
  }
}
