/**
 * A task's terminal: its command line run by the container's shell (`sh -c`)
 * with a PTY from the agent, in the task's cwd with its env; the exit code
 * closes the terminal and is the task's. Terminating the task hangs up the
 * PTY (SIGHUP in the container).
 */
import * as vscode from 'vscode';
import type { ClientChannel } from 'ssh2';
import type { AgentConnection } from '../agent/agent-connection';

/** Exit codes of a shell for a command killed by a signal (128 + its number). */
const SIGNALS: Readonly<Record<string, number>> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, TERM: 15 };

export interface TaskRun {
  readonly commandLine: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

export class TaskPty implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.write.event;
  readonly onDidClose = this.closeEmitter.event;
  private channel: ClientChannel | undefined;
  private closed = false;

  constructor(
    private readonly connection: AgentConnection,
    private readonly run: TaskRun,
  ) {}

  open(dims: vscode.TerminalDimensions | undefined): void {
    const window = { rows: dims?.rows ?? 24, cols: dims?.columns ?? 80, term: 'xterm-256color' };
    this.write.fire(`\x1b[2m> Executing task in the container (${this.run.cwd}): ${this.run.commandLine} <\x1b[0m\r\n\r\n`);
    this.connection.execPty(this.run.commandLine, window, { cwd: this.run.cwd, env: this.run.env }).then(
      (ch) => {
        if (this.closed) return ch.close();
        this.channel = ch;
        const decoder = new TextDecoder('utf-8');
        ch.on('data', (d: Buffer) => this.write.fire(decoder.decode(d, { stream: true })));
        ch.stderr.on('data', (d: Buffer) => this.write.fire(d.toString('utf8')));
        let code = 0;
        ch.on('exit', (c: number | null, signal?: string) => (code = c ?? 128 + (SIGNALS[signal ?? ''] ?? 15)));
        ch.on('close', () => {
          this.closed = true;
          this.closeEmitter.fire(code);
        });
      },
      (err: unknown) => {
        this.write.fire(`\r\nBerth: cannot run the task in the container: ${(err as Error).message}\r\n`);
        this.closed = true;
        this.closeEmitter.fire(1);
      },
    );
  }

  handleInput(data: string): void {
    this.channel?.write(data);
  }

  setDimensions(dims: vscode.TerminalDimensions): void {
    this.channel?.setWindow(dims.rows, dims.columns, 0, 0);
  }

  close(): void {
    this.closed = true;
    this.channel?.close();
  }
}
