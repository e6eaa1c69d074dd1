/**
 * The run's options on the command line, derived from the option table (src/run/options.ts): each
 * row becomes a commander flag with the table's help, default and parser, and the parsed flags
 * become a RunConfig. A hyperparameter added to the table appears here without an edit.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { RunConfig } from '../run/config.js';
import {
  DEFAULT_CONFIG,
  optionsFor,
  parseOption,
  RUN_OPTIONS,
  type RunOption,
  type Surface,
} from '../run/options.js';

/** A commander parser for one table row: one line naming the flag and the fix. */
export function flagParser(o: RunOption): (value: string) => number | string {
  return (value) => {
    const parsed = parseOption(o, value);
    if (!parsed.ok) throw new InvalidArgumentError(parsed.error);
    return parsed.value;
  };
}

/** The help text of a row, with its default. */
function helpOf(o: RunOption): string {
  return o.kind !== 'choice' && o.zeroMeans !== undefined ? `${o.help} (default: ${o.zeroMeans})` : o.help;
}

/** Adds the table's options of `surface` to `cmd`, in table order. */
export function addRunOptions(cmd: Command, surface: Exclude<Surface, 'sweep' | 'lab'>): Command {
  for (const o of optionsFor(surface)) {
    const opt = new Option(`${o.flag} <${o.kind === 'choice' ? 'name' : 'x'}>`, helpOf(o));
    if (o.kind === 'choice') opt.choices(o.choices);
    else opt.argParser(flagParser(o));
    const zeroDefault = o.kind !== 'choice' && o.zeroMeans !== undefined;
    if (!zeroDefault) opt.default(o.default);
    cmd.addOption(opt);
  }
  return cmd;
}

/** The RunConfig of parsed flags: each table field from its flag, else its default. */
export function configFromFlags(flags: object): RunConfig {
  const out: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const o of RUN_OPTIONS) {
    const v = (flags as Readonly<Record<string, unknown>>)[o.key];
    if (v !== undefined) out[o.key] = v;
  }
  return out as unknown as RunConfig;
}
