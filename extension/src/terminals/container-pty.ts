/**
 * A terminal in the container: a Pseudoterminal on a login shell with a PTY
 * from the agent (SSH shell channel), resized with the editor's terminal.
 */
import * as vscode from 'vscode';
import type { ClientChannel } from 'ssh2';
import type { AgentConnection } from '../agent/agent-connection';

export class ContainerPty implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.write.event;
  readonly onDidClose = this.closeEmitter.event;
  private channel: ClientChannel | undefined;
  private closed = false;

  constructor(
    private readonly connection: AgentConnection,
    private readonly cwd: string | undefined,
  ) {}

  open(dims: vscode.TerminalDimensions | undefined): void {
    const window = { rows: dims?.rows ?? 24, cols: dims?.columns ?? 80, term: 'xterm-256color' };
    this.connection.shell(window, this.cwd).then(
      (ch) => {
        if (this.closed) return ch.close();
        this.channel = ch;
        const decoder = new TextDecoder('utf-8');
        ch.on('data', (d: Buffer) => this.write.fire(decoder.decode(d, { stream: true })));
        ch.stderr.on('data', (d: Buffer) => this.write.fire(d.toString('utf8')));
        let code = 0;
        ch.on('exit', (c: number | null) => (code = c ?? 0));
        ch.on('close', () => {
          this.closed = true;
          this.closeEmitter.fire(code);
        });
      },
      (err: unknown) => {
        this.write.fire(`\r\nBerth: cannot open a shell in the container: ${(err as Error).message}\r\n`);
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
