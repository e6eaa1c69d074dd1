/**
 * The run's options on the command line, derived from the option table (src/run/options.ts): each
 * row becomes a commander flag with the table's help, default and parser, and the parsed flags
 * become a RunConfig. A hyperparameter added to the table appears here without an edit.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { RunConfig } from '../run/config.js';
import { resolveRuns, type ResolvedRuns } from '../run/resolve.js';
import { optionsFor, parseOption, RUN_OPTIONS, type RunOption, type Surface } from '../run/options.js';

/** A commander parser for one table row: one line naming the flag and the fix. */
export function flagParser(o: RunOption): (value: string) => number | string {
  return (value) => {
    const parsed = parseOption(o, value);
    if (!parsed.ok) throw new InvalidArgumentError(parsed.error);
    return parsed.value;
  };
}

/**
 * The help text of a row, with its default. Commander is not given the defaults: an unset flag stays
 * undefined, so that a model's own defaults (and AdamW's) can fill it, and an explicit flag wins.
 */
function helpOf(o: RunOption): string {
  const shown = o.kind !== 'choice' && o.zeroMeans !== undefined ? o.zeroMeans : JSON.stringify(o.default);
  return `${o.help} (default: ${shown})`;
}

/** Adds the table's options of `surface` to `cmd`, in table order. */
export function addRunOptions(cmd: Command, surface: Exclude<Surface, 'sweep' | 'lab'>): Command {
  for (const o of optionsFor(surface)) {
    const opt = new Option(`${o.flag} <${o.kind === 'choice' ? 'name' : 'x'}>`, helpOf(o));
    if (o.kind === 'choice') opt.choices(o.choices);
    else opt.argParser(flagParser(o));
    cmd.addOption(opt);
  }
  return cmd;
}

/** The table's fields the flags set explicitly. */
export function givenFromFlags(flags: object): Partial<RunConfig> {
  const out: Record<string, unknown> = {};
  for (const o of RUN_OPTIONS) {
    const v = (flags as Readonly<Record<string, unknown>>)[o.key];
    if (v !== undefined) out[o.key] = v;
  }
  return out as Partial<RunConfig>;
}

/**
 * The runs a command's flags ask for, resolved before any work (src/run/resolve.ts): the flags given,
 * overridden per run by `runs` (the models of `compare`, its seeds). A flag that does nothing for
 * every run is refused in one line, or noted on stderr where its table row says 'warn'.
 */
export function runsFromFlags(flags: object, runs: readonly Partial<RunConfig>[] = [{}]): RunConfig[] {
  return printNotes(resolveRuns(givenFromFlags(flags), runs));
}

/** Writes a resolution's notes to stderr (never stdout: `--json` output stays JSON); returns its configs. */
export function printNotes(resolved: ResolvedRuns): RunConfig[] {
  for (const n of resolved.notes) process.stderr.write(`dropout-lab: ${n}\n`);
  return [...resolved.configs];
}
