/**
 * The VS Code extension on a remote engine, in a real VS Code: code-server
 * with the extension's .vsix, driven through chromium, a real berthd behind
 * a real `berth serve` gateway (self-signed certificate, a token of user
 * erin). The local engine setting points nowhere. The user runs "Berth:
 * Connect to Remote Host..." and answers host, token and fingerprint; the
 * status bar names the host; "Reopen in Container" of the local folder
 * says it cannot be mounted there and offers Attach, which opens the
 * container (cloned into a volume through the gateway) with its files and a
 * terminal, all through the gateway (API, agent WebSocket, SFTP, PTY).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { runChecked } from '../src/common/process/spawn';
import { runBerth, singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { createToken, startGatewayProcess, type GatewayProcess } from './support/gateway';
import { repoRoot } from './support/repo';
import { gotoPage } from './support/browser';
import { openWorkbench, type CodeServer, type Workbench } from './extension/code-server';
import { answerInput, explorerItem, runCommand, waitForFolder, waitForTerminalText } from './extension/workbench';

const artifacts = path.join(repoRoot(), '.berth-test', 'artifacts');
let fx: EngineFixture | undefined;
let gw: GatewayProcess | undefined;
let cs: CodeServer | undefined;
let workbench: Workbench | undefined;
let page: Page;
let token = '';
let gwEnv: NodeJS.ProcessEnv = {};

before(async () => {
  fx = await startEngineFixture('berth-ext-remote-cs-', { pull: true });
  const configDir = path.join(fx.dir, 'etc');
  token = (await createToken(configDir, 'erin')).token;
  gw = await startGatewayProcess(['--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir]);
  gwEnv = { ...process.env, BERTH_HOST: gw.url, BERTH_TOKEN: token, BERTH_TLS_FINGERPRINT: gw.fingerprint ?? '' };
  delete gwEnv['BERTH_SOCKET'];
  // No local engine: everything must go to the remote host.
  workbench = await openWorkbench(fx.dir, { 'berth.socket': path.join(fx.dir, 'no-local-engine.sock') });
  ({ cs, page } = workbench);
});

after(async () => {
  await workbench?.dispose();
  await gw?.stop();
  await fx?.dispose();
});

/** Answers the input box with this title (one box follows another in the same widget: wait for the right one). */
async function answerTitled(title: string, text: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible' });
  await answerInput(page, text);
}

test('code-server: Connect to Remote Host (a gateway), Reopen in Container says the folder cannot be mounted there, Attach opens a container of the remote engine with its files and a terminal', { timeout: 600_000 }, async () => {
  const f = fx as EngineFixture;
  const g = gw as GatewayProcess;
  const server = cs as CodeServer;
  try {
    // A repository cloned into a volume on the gateway's host, through the gateway.
    const git = (cwd: string, ...args: string[]): Promise<unknown> =>
      runChecked(['git', '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd });
    const work = path.join(f.dir, 'src', 'remote-app');
    await mkdir(path.join(work, '.devcontainer'), { recursive: true });
    await writeFile(path.join(work, 'README.md'), 'on the remote engine\n');
    await writeFile(path.join(work, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: f.images.latest }));
    await git(work, 'init', '-q');
    await git(work, 'add', '-A');
    await git(work, 'commit', '-qm', 'first');
    const bare = path.join(f.dir, 'remote-app.git');
    await git(f.dir, 'clone', '-q', '--bare', work, bare);
    const up = await runBerth(['up', '--clone', `file://${bare}`], { env: gwEnv });
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const id = String(singleJson(up.stdout)['containerId']);
    const name = (singleJson((await f.berth(['container', 'inspect', id])).stdout) as { name: string }).name;

    // A local folder with a dev container configuration.
    const ws = path.join(f.dir, 'local-project');
    await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
    await writeFile(path.join(ws, 'local.txt'), 'local\n');
    await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: f.images.latest }));
    await gotoPage(page, `${server.url}/?folder=${encodeURIComponent(ws)}`);
    await explorerItem(page, 'local.txt');

    await runCommand(page, 'Berth: Connect to Remote Host...');
    await answerTitled('Connect to Remote Host', g.url);
    await answerTitled('Gateway Token', token);
    await answerTitled('Certificate Fingerprint', g.fingerprint ?? '');
    const hostPort = new URL(g.url).host;
    await page.locator('.statusbar-item', { hasText: `Berth on ${hostPort}` }).first().waitFor({ state: 'visible', timeout: 60_000 });
    // The extension reached the engine there (its notification may have left the toasts: the notification center keeps it).
    await runCommand(page, 'Notifications: Show Notifications');
    await page.locator('.notifications-center', { hasText: `connected to the engine on ${g.url}` }).waitFor({ state: 'visible', timeout: 60_000 });
    await page.keyboard.press('Escape');
    const settings = JSON.parse(await readFile(path.join(server.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings['berth.host'], g.url);
    assert.equal(settings['berth.token'], token, 'in a browser the token is kept in the user settings');

    // The local folder cannot be mounted by the remote engine: said so, with Attach and Clone offered.
    await runCommand(page, 'Berth: Reopen in Container');
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'cannot be mounted into containers there' });
    await dialog.waitFor({ state: 'visible' });
    await dialog.locator('.monaco-button', { hasText: 'Attach to Running Container...' }).first().click();
    await answerInput(page, name);
    await waitForFolder(page, new RegExp(`^berth-container://${id}/`), 120_000);
    // A clone's container opens at its root (attachFolder: no local folder's mount); its volume is at /workspaces.
    await explorerItem(page, 'workspaces', 120_000);
    await page.locator('.statusbar-item', { hasText: `on ${hostPort}` }).filter({ hasText: 'Dev Container:' }).first().waitFor({ state: 'visible' });

    // A terminal in the container, through the gateway.
    await runCommand(page, 'Berth: New Container Terminal');
    await page.locator('.terminal-wrapper.active .xterm-rows').first().waitFor({ state: 'visible' });
    await waitForTerminalText(page, /[#$] *$/m);
    await page.keyboard.type('echo "remote-$((6*7)) $(cat /workspaces/remote-app/README.md)"\n');
    await waitForTerminalText(page, /^remote-42 on the remote engine/m);
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'extension-remote-attach.png') });
  } catch (err) {
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'failed-extension-remote.png') }).catch(() => undefined);
    const notes = await page.locator('.notification-list-item').allInnerTexts().catch(() => [] as string[]);
    console.error(`notifications: ${notes.join('\n')}`);
    console.error(`code-server output: ${server.output().slice(-4000)}`);
    throw err;
  }
});
