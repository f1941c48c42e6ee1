/**
 * A Pseudoterminal on an agent channel with a PTY (a shell, or a command):
 * the channel's output goes to the terminal, keystrokes and resizes to the
 * channel, and its exit code closes the terminal.
 */
import * as vscode from 'vscode';
import type { ClientChannel } from 'ssh2';

/** The terminal's exit code when no exit status came (the connection ended): a failure, as ssh's 255. */
const LOST = 255;

export interface PtyWindow {
  readonly rows: number;
  readonly cols: number;
  readonly term: string;
}

export abstract class ChannelPty implements vscode.Pseudoterminal {
  protected readonly write = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.write.event;
  readonly onDidClose = this.closeEmitter.event;
  private channel: ClientChannel | undefined;
  private closed = false;

  /** Opens the channel, sized to the terminal. */
  protected abstract openChannel(window: PtyWindow): Promise<ClientChannel>;

  /** What failed, for the line the terminal shows when the channel cannot be opened. */
  protected abstract readonly what: string;

  /** The terminal's exit code from the channel's exit status or signal. */
  protected exitCode(code: number | null, _signal?: string): number {
    return code ?? 0;
  }

  open(dims: vscode.TerminalDimensions | undefined): void {
    this.openChannel({ rows: dims?.rows ?? 24, cols: dims?.columns ?? 80, term: 'xterm-256color' }).then(
      (ch) => {
        if (this.closed) return ch.close();
        this.channel = ch;
        const decoder = new TextDecoder('utf-8');
        ch.on('data', (d: Buffer) => this.write.fire(decoder.decode(d, { stream: true })));
        ch.stderr.on('data', (d: Buffer) => this.write.fire(d.toString('utf8')));
        let code: number | undefined;
        ch.on('exit', (c: number | null, signal?: string) => (code = this.exitCode(c, signal)));
        // ssh2 also passes the exit status to 'close' (as a child process does). 'exit' alone can be missed: a
        // command that ends at once sends its exit status in the same read as the exec's reply, before these listeners.
        ch.on('close', (c?: number | null, signal?: string) => {
          if (c !== undefined) code = this.exitCode(c, signal);
          // No exit status: the connection to the agent ended under the command. Not a success.
          if (code === undefined && !this.closed) this.write.fire(`\r\nBerth: the connection to the container ended before the command did\r\n`);
          this.closed = true;
          this.closeEmitter.fire(code ?? LOST);
        });
      },
      (err: unknown) => {
        this.write.fire(`\r\nBerth: cannot ${this.what} in the container: ${(err as Error).message}\r\n`);
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
