/**
 * The berth CLI: finds the command, parses its options, runs it, and keeps
 * the output contract (one JSON result on stdout, logs on stderr).
 */
import { createLogger, type LogFormat, type LogLevel } from '../common/log';
import { commandHelp, parseCommandArgs, stringOption, type Command } from './command';
import { composeCommand } from './commands/compose';
import { containerCommand } from './commands/container';
import { logsCommand, runUserCommandsCommand, setUpCommand } from './commands/devcontainer-setup';
import { downCommand, execCommand, listCommand, stopCommand } from './commands/devcontainer-verbs';
import { engineCommand } from './commands/engine';
import { featuresCommand } from './commands/features';
import { imagesCommand } from './commands/images';
import { buildCommand } from './commands/build';
import { pullCommand } from './commands/pull';
import { pushCommand, tagCommand } from './commands/push';
import { listConfigurationsCommand } from './commands/list-configurations';
import { portForwardCommand } from './commands/port-forward';
import { readConfigurationCommand } from './commands/read-configuration';
import { serveCommand } from './commands/serve';
import { sshCommand } from './commands/ssh';
import { sshConfigCommand } from './commands/ssh-config';
import { templatesCommand } from './commands/templates';
import { tokenCommand } from './commands/token';
import { upCommand } from './commands/up';
import { errorResult, jsonLine } from './output';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly signal: AbortSignal;
  readonly version: string;
}

export function allCommands(): readonly Command[] {
  return [readConfigurationCommand, listConfigurationsCommand, templatesCommand, engineCommand, pullCommand, buildCommand, pushCommand, tagCommand, imagesCommand, containerCommand, upCommand, featuresCommand, execCommand, runUserCommandsCommand, setUpCommand, logsCommand, stopCommand, downCommand, listCommand, sshCommand, sshConfigCommand, portForwardCommand, serveCommand, tokenCommand, composeCommand];
}

function globalHelp(commands: readonly Command[]): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(22)} ${c.summary}`);
  return `Berth: dev containers on your own runtime.\n\nUsage: berth <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun 'berth <command> --help' for a command's options.\n`;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const commands = allCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stderr(target ? commandHelp(target) : globalHelp(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${io.version}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stdout(jsonLine({ outcome: 'error', code: 'invalid_argument', message: `unknown command "${name}"; run 'berth --help'` }));
    io.stderr(`berth: unknown command "${name}"; run 'berth --help'\n`);
    return 2;
  }
  let results = 0;
  try {
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values['help'] === true) {
      io.stderr(commandHelp(command));
      return 0;
    }
    const logger = createLogger({
      level: stringOption(values, 'log-level') as LogLevel,
      format: stringOption(values, 'log-format') as LogFormat,
      write: io.stderr,
    });
    return await command.run(values, positionals, {
      cwd: io.cwd,
      env: io.env,
      logger,
      signal: io.signal,
      stderr: io.stderr,
      result: (value) => {
        results++;
        if (results > 1) throw new Error(`command ${command.name} wrote more than one result`);
        io.stdout(jsonLine(value));
      },
    });
  } catch (err) {
    const result = errorResult(err);
    if (results === 0) io.stdout(jsonLine(result));
    io.stderr(`error: ${result.message}\n`);
    return 1;
  }
}
