/**
 * A task's terminal: its command line run by the container's shell (`sh -c`)
 * with a PTY from the agent, in the task's cwd with its env; the exit code
 * closes the terminal and is the task's. Terminating the task hangs up the
 * PTY (SIGHUP in the container).
 */
import type * as vscode from 'vscode';
import type { ClientChannel } from 'ssh2';
import type { AgentConnection } from '../agent/agent-connection';
import { ChannelPty, type PtyWindow } from '../terminals/channel-pty';

/** Exit codes of a shell for a command killed by a signal (128 + its number). */
const SIGNALS: Readonly<Record<string, number>> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, TERM: 15 };

export interface TaskRun {
  readonly commandLine: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

export class TaskPty extends ChannelPty {
  protected readonly what = 'run the task';

  constructor(
    private readonly connection: AgentConnection,
    private readonly run: TaskRun,
  ) {
    super();
  }

  override open(dims: vscode.TerminalDimensions | undefined): void {
    this.write.fire(`\x1b[2m> Executing task in the container (${this.run.cwd}): ${this.run.commandLine} <\x1b[0m\r\n\r\n`);
    super.open(dims);
  }

  protected openChannel(window: PtyWindow): Promise<ClientChannel> {
    return this.connection.execPty(this.run.commandLine, window, { cwd: this.run.cwd, env: this.run.env });
  }

  protected override exitCode(code: number | null, signal?: string): number {
    return code ?? 128 + (SIGNALS[signal ?? ''] ?? 15);
  }
}
