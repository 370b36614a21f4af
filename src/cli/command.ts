/** Command definitions, argument rules and the errors commands return. */
import type { Cli } from './cli';
import { FlagDef, FlagValues } from './flags';

export const BIN = 'berth';

/** A command result carrying an exit status; an empty message prints nothing. */
export class StatusError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'StatusError';
  }
}

export type ArgsRule =
  | { kind: 'any' }
  | { kind: 'none' }
  | { kind: 'min'; n: number }
  | { kind: 'max'; n: number }
  | { kind: 'exact'; n: number }
  | { kind: 'range'; min: number; max: number };

export interface CommandSpec {
  name: string;
  /** Usage after the parent path, e.g. "ps [OPTIONS]". */
  use: string;
  short: string;
  /** Other names under the same parent (cobra Aliases), e.g. ls → ["ps", "list"]. */
  aliases?: string[];
  /** The "Aliases:" help line, as command paths without the binary name. */
  aliasPaths?: string[];
  flags?: FlagDef[];
  /** false: flags stop at the first positional (run, create). */
  interspersed?: boolean;
  args?: ArgsRule;
  run?: (cli: Cli, flags: FlagValues, args: string[]) => Promise<number | void>;
  subcommands?: CommandSpec[];
  /** Shown in the root help's "Common Commands" block, in this order. */
  topOrder?: number;
  hidden?: boolean;
}

export function pluralize(word: string, n: number): string {
  return n === 1 ? word : `${word}s`;
}

/** Cobra-style argument validation; messages match docker/cli's cli/required.go. */
export function checkArgs(rule: ArgsRule | undefined, path: string, useLine: string, args: string[]): void {
  const r = rule ?? { kind: 'any' };
  const tail = (verb: string) => `\n\nUsage:  ${useLine}\n\n${verb} '${path} --help' for more information`;
  switch (r.kind) {
    case 'any':
      return;
    case 'none':
      if (args.length === 0) return;
      throw new StatusError(`${BIN}: '${path}' accepts no arguments${tail('Run')}`, 1);
    case 'min':
      if (args.length >= r.n) return;
      throw new StatusError(`${BIN}: '${path}' requires at least ${r.n} ${pluralize('argument', r.n)}${tail('See')}`, 1);
    case 'max':
      if (args.length <= r.n) return;
      // docker/cli prints "SRun" here (sic).
      throw new StatusError(`${BIN}: '${path}' requires at most ${r.n} ${pluralize('argument', r.n)}${tail('SRun')}`, 1);
    case 'exact':
      if (args.length === r.n) return;
      throw new StatusError(`${BIN}: '${path}' requires ${r.n} ${pluralize('argument', r.n)}${tail('Run')}`, 1);
    case 'range':
      if (args.length >= r.min && args.length <= r.max) return;
      throw new StatusError(
        `${BIN}: '${path}' requires at least ${r.min} and at most ${r.max} ${pluralize('argument', r.max)}${tail('Run')}`,
        1,
      );
  }
}

/** docker's withHelp(): "docker: <err>\n\nRun 'docker run --help' for more information". */
export function withHelp(message: string, command: string): string {
  return `${BIN}: ${message}\n\nRun '${BIN} ${command} --help' for more information`;
}
