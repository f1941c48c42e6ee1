/**
 * The extension's tests in desktop VS Code, through @vscode/test-electron:
 * it downloads VS Code (internet needed: not on CI here, where code-server
 * is the real VS Code, see test/extension-code-server.test.ts), starts it
 * with the extension from extension/ and runs suite.ts inside it.
 *
 *   npm run build && npx tsc -p tsconfig.json && node out/extension/src/test-electron/run-vscode-tests.js
 *
 * BERTH_VSCODE_VERSION picks the version (default "stable").
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..', '..', '..');
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'berth-vscode-tests-'));
  await mkdir(path.join(workspace, '.devcontainer'));
  // One unknown property: the suite expects Berth's validator to flag it.
  await writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), '{\n  "image": "debian:bookworm",\n  "notAProperty": 1\n}\n');
  await runTests({
    version: process.env['BERTH_VSCODE_VERSION'] ?? 'stable',
    extensionDevelopmentPath: path.join(root, 'extension'),
    extensionTestsPath: path.join(__dirname, 'suite.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
