/**
 * The *Berth Container* terminal profile (the default in a container
 * window). VS Code 1.100 has a race here: for a contributed default profile,
 * "Terminal: Create New Terminal" takes the panel's last terminal as soon as
 * the extension host answers, but the terminal the answer asked for is made
 * a few steps later; with no terminal yet it finds none and fails with
 * "Cannot read properties of undefined (reading 'shellLaunchConfig')".
 * So for a window's first terminal the provider opens the container's
 * terminal itself, waits until the workbench has it, and answers with a
 * hidden terminal that exits at once. Later terminals go the usual way.
 */
import os from 'node:os';
import * as vscode from 'vscode';

/**
 * A terminal the user never sees, whose shell exits at once: on the terminals' host, which is the
 * extension host's (in the home directory: the workspace folder is a path in the container).
 */
function hiddenNoop(): vscode.TerminalOptions {
  const windows = process.platform === 'win32';
  return { name: 'Berth', hideFromUser: true, isTransient: true, cwd: os.homedir(), shellPath: windows ? 'cmd.exe' : '/bin/sh', shellArgs: windows ? ['/c', 'exit'] : ['-c', 'exit 0'] };
}

function opened(terminal: vscode.Terminal, token: vscode.CancellationToken): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sub.dispose();
      cancel.dispose();
      clearTimeout(timer);
      resolve();
    };
    const sub = vscode.window.onDidOpenTerminal((t) => {
      if (t === terminal) done();
    });
    const cancel = token.onCancellationRequested(done);
    // The workbench makes it within milliseconds; never wait forever.
    const timer = setTimeout(done, 10_000);
  });
}

export class ContainerTerminalProfile implements vscode.TerminalProfileProvider {
  constructor(private readonly options: () => vscode.ExtensionTerminalOptions | undefined) {}

  async provideTerminalProfile(token: vscode.CancellationToken): Promise<vscode.TerminalProfile> {
    const options = this.options();
    if (!options) throw new Error('Berth: this window is not in a container');
    if (vscode.window.terminals.length > 0) return new vscode.TerminalProfile(options);
    const terminal = vscode.window.createTerminal(options);
    await opened(terminal, token);
    terminal.show();
    return new vscode.TerminalProfile(hiddenNoop());
  }
}
