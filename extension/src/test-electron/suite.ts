/**
 * Runs inside desktop VS Code (see run-vscode-tests.ts): the extension
 * activates on a folder with a dev container configuration, contributes its
 * commands, and marks an unknown devcontainer.json property.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

async function waitFor<T>(get: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function run(): Promise<void> {
  const ext = await waitFor(() => vscode.extensions.getExtension('berth.berth'), 'the extension');
  await ext.activate();
  const commands = await vscode.commands.getCommands(true);
  for (const id of ['berth.reopenInContainer', 'berth.rebuildContainer', 'berth.cloneInVolume', 'berth.attachToContainer', 'berth.addConfigFiles']) {
    assert.ok(commands.includes(id), `${id} is registered`);
  }
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  const config = vscode.Uri.joinPath(folder.uri, '.devcontainer', 'devcontainer.json');
  await vscode.window.showTextDocument(config);
  const diagnostics = await waitFor(() => {
    const d = vscode.languages.getDiagnostics(config).filter((x) => x.source === 'berth');
    return d.length ? d : undefined;
  }, 'diagnostics from Berth');
  assert.ok(diagnostics.some((d) => /notAProperty/.test(d.message)), diagnostics.map((d) => d.message).join('; '));
}
