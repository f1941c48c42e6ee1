/**
 * The shape of a CLI command: its options (parsed with node:util parseArgs),
 * its help, and a thin run() that calls into the libraries.
 */
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  readonly description: string;
  readonly valueName?: string;
  readonly choices?: readonly string[];
  readonly default?: string | boolean;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface CommandContext {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Writes the command's one result to stdout. */
  readonly result: (value: unknown) => void;
  readonly stderr: (text: string) => void;
}

export type ParsedOptions = Readonly<Record<string, string | boolean | string[] | boolean[] | undefined>>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: OptionSpecs;
  readonly allowPositionals?: boolean;
  /** False to accept any option (commands that only say "not yet"). */
  readonly strict?: boolean;
  run(options: ParsedOptions, positionals: readonly string[], ctx: CommandContext): Promise<number>;
}

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h', description: 'Show help for this command.' },
  'log-format': { type: 'string', valueName: 'text|json', choices: ['text', 'json'], default: 'text', description: 'Format of the log on stderr.' },
  'log-level': {
    type: 'string',
    valueName: 'LEVEL',
    choices: ['trace', 'debug', 'info', 'warn', 'error'],
    default: 'info',
    description: 'Least severe log level written to stderr.',
  },
};

export function parseCommandArgs(command: Command, args: readonly string[]): { values: ParsedOptions; positionals: string[] } {
  const all = { ...COMMON_OPTIONS, ...command.options };
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(all)) {
    options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: command.allowPositionals ?? false, strict: command.strict ?? true });
  } catch (err) {
    throw new BerthError('invalid_argument', `${(err as Error).message.replace(/\. To specify.*$/s, '')}\nRun 'berth ${command.name} --help' for usage.`, {
      cause: err,
    });
  }
  const values: Record<string, string | boolean | string[] | boolean[] | undefined> = {};
  for (const [name, spec] of Object.entries(all)) {
    const v = parsed.values[name] as string | boolean | string[] | boolean[] | undefined;
    values[name] = v ?? spec.default;
    if (spec.choices && typeof values[name] === 'string' && !spec.choices.includes(values[name])) {
      throw new BerthError('invalid_argument', `--${name} must be one of ${spec.choices.join(', ')} (got "${values[name]}")`);
    }
  }
  return { values, positionals: parsed.positionals };
}

export function commandHelp(command: Command): string {
  const all = { ...command.options, ...COMMON_OPTIONS };
  const rows = Object.entries(all).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    const dflt = spec.default !== undefined && spec.type === 'string' ? ` (default: ${String(spec.default)})` : '';
    const many = spec.multiple ? ' (repeatable)' : '';
    return `  ${flag.padEnd(38)} ${spec.description}${dflt}${many}`;
  });
  return `${command.summary}\n\nUsage: berth ${command.usage}\n\nOptions:\n${rows.join('\n')}\n`;
}

export function stringOption(values: ParsedOptions, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function stringList(values: ParsedOptions, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}
