/**
 * The VS Code extension in a real VS Code: code-server 4.100.3 with the
 * extension's .vsix installed, driven headless through Debian's chromium by
 * playwright-core, on a real berthd and registry. A user opens a folder with
 * a dev container (the Debian test image), runs "Berth: Reopen in Container"
 * from the command palette, sees the container's files in the Explorer,
 * opens a terminal with "Terminal: Create New Terminal" (the container's
 * shell: the default profile there) and reads /etc/os-release, edits and
 * saves a file that then exists in the container, and reaches a forwarded
 * port from the host; then clones a
 * local bare git repository into a container volume; runs a tasks.json task
 * in the container. Screenshots go to .berth-test/artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { runChecked } from '../src/common/process/spawn';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { repoRoot } from './support/repo';
import { ensureDebianImage } from './support/test-images';
import { gotoPage } from './support/browser';
import { freePort, openWorkbench, type CodeServer, type Workbench } from './extension/code-server';
import { answerInput, explorerItem, openFromExplorer, pickQuickItem, runCommand, waitForFolder, waitForTerminalText } from './extension/workbench';

const artifacts = path.join(repoRoot(), '.berth-test', 'artifacts');
let fx: EngineFixture | undefined;
let cs: CodeServer | undefined;
let workbench: Workbench | undefined;
let page: Page;
let debian = '';

async function screenshot(name: string): Promise<string> {
  await mkdir(artifacts, { recursive: true });
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file });
  return file;
}

/** Runs in the dev container of a workspace, as the test's own check (not through the editor). */
async function execIn(ws: string, script: string): Promise<string> {
  const r = await (fx as EngineFixture).berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', script]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.stdout;
}

before(async () => {
  fx = await startEngineFixture('berth-ext-');
  debian = await ensureDebianImage(fx.registry);
  workbench = await openWorkbench(fx.dir, { 'berth.socket': fx.socket });
  ({ cs, page } = workbench);
});

after(async () => {
  await workbench?.dispose();
  await fx?.dispose();
});

/** `berth up` of a workspace (as the test's own step), then a window on its container's folder, showing `entry`. */
async function openContainerWindow(ws: string, entry: string): Promise<{ containerId: string; remoteWorkspaceFolder: string }> {
  const up = await (fx as EngineFixture).berth(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stderr);
  const result = JSON.parse(up.stdout) as { containerId: string; remoteWorkspaceFolder: string };
  await gotoPage(page, `${(cs as CodeServer).url}/?folder=${encodeURIComponent(`berth-container://${result.containerId}${result.remoteWorkspaceFolder}`)}`);
  await explorerItem(page, entry, 120_000);
  return result;
}

/** On failure, a screenshot of what the user would have seen, beside the artifacts. */
function withScreenshot(name: string, fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (err) {
      await screenshot(`failed-${name}.png`).catch(() => undefined);
      const settings = await readFile(path.join((cs as CodeServer).userDataDir, 'User', 'settings.json'), 'utf8').catch(() => '');
      console.error(`user settings at failure: ${settings}`);
      throw err;
    }
  };
}

test('code-server: Reopen in Container shows the container files, a container terminal, a saved edit and a forwarded port', { timeout: 600_000 }, withScreenshot('reopen', async () => {
  const f = fx as EngineFixture;
  const server = cs as CodeServer;
  const ws = path.join(f.dir, 'my-project');
  const port = await freePort();
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, 'hello.txt'), 'hello from the host\n');
  // A tiny HTTP server in the container (Debian's perl), started by postStartCommand.
  await writeFile(
    path.join(ws, 'serve.pl'),
    `use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => ${port}, Listen => 5, ReuseAddr => 1) or die "listen: $!";\n` +
      `while (my $c = $s->accept) { my $l = <$c>; print $c "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nhello from the container\\n"; close $c }\n`,
  );
  await writeFile(
    path.join(ws, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({
      name: 'ext-e2e',
      image: debian,
      forwardPorts: [port],
      portsAttributes: { [String(port)]: { label: 'perl web', onAutoForward: 'notify' } },
      postCreateCommand: 'echo "made by postCreate in $(cat /etc/debian_version)" > made-in-container.txt',
      postStartCommand: 'nohup perl serve.pl > /tmp/serve.log 2>&1 &',
      customizations: { vscode: { settings: { 'editor.fontSize': 15 } } },
    }),
  );

  await gotoPage(page, `${server.url}/?folder=${encodeURIComponent(ws)}`);
  await explorerItem(page, 'hello.txt');
  // The folder has a configuration: the extension offers to reopen it in its container.
  await page.locator('.notifications-toasts', { hasText: 'Reopen in Container' }).waitFor({ state: 'visible', timeout: 60_000 });
  await runCommand(page, 'Berth: Reopen in Container');
  await waitForFolder(page, /^berth-container:\/\/[0-9a-f]{64}\/workspaces\/my-project$/, 300_000);

  // The Explorer lists the container's workspace, including what its hook wrote.
  await explorerItem(page, 'made-in-container.txt', 120_000);
  await explorerItem(page, 'hello.txt');
  await page.locator('.statusbar-item', { hasText: 'Dev Container:' }).first().waitFor({ state: 'visible' });

  // The forwarded port answers on the host; the session then made the container's shell the default terminal.
  const settingsFile = path.join(server.userDataDir, 'User', 'settings.json');
  const deadline = Date.now() + 60_000;
  let body = '';
  while (Date.now() < deadline) {
    body = await fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.text(),
      () => '',
    );
    if (body && (await readFile(settingsFile, 'utf8')).includes('Berth Container')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(body, 'hello from the container\n');
  const settings = JSON.parse(await readFile(settingsFile, 'utf8')) as Record<string, unknown>;
  assert.equal(settings['terminal.integrated.defaultProfile.linux'], 'Berth Container');
  assert.equal(settings['editor.fontSize'], 15, 'customizations.vscode.settings applied');

  // The Berth views: the dev container by its workspace, running; the forwarded port with its label.
  await page.locator('.activitybar .action-item a[aria-label^="Berth"]').first().click();
  await page.locator('.monaco-list-row', { hasText: 'my-project' }).filter({ hasText: 'running' }).first().waitFor({ state: 'visible' });
  await page.locator('.monaco-list-row', { hasText: `perl web ${port} → 127.0.0.1:${port}` }).first().waitFor({ state: 'visible' });
  await screenshot('extension-views.png');
  await page.keyboard.press('Control+Shift+E');
  await explorerItem(page, 'hello.txt');

  // A terminal in the container (the agent's PTY): the container's shell is the default profile, so
  // the standard "Create New Terminal" opens one, also as the window's first terminal.
  await runCommand(page, 'Terminal: Create New Terminal');
  await page.locator('.terminal-wrapper.active .xterm-rows').first().waitFor({ state: 'visible' });
  await waitForTerminalText(page, /[#$] *$/m);
  await page.keyboard.type('cat /etc/os-release; echo "user=$(id -un) cwd=$(pwd)"\n');
  const osRelease = await execIn(ws, 'cat /etc/os-release');
  const pretty = /^PRETTY_NAME=.*$/m.exec(osRelease)?.[0] ?? 'PRETTY_NAME missing';
  assert.match(pretty, /Debian GNU\/Linux 12 \(bookworm\)/);
  const text = await waitForTerminalText(page, /cwd=\/workspaces\/my-project/);
  assert.ok(text.includes(pretty), text);

  // Edit and save a file through the editor: the container has the new text.
  await openFromExplorer(page, 'hello.txt');
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('edited in code-server\n');
  await page.keyboard.press('Control+S');
  await waitFor(async () => (await execIn(ws, 'cat /workspaces/my-project/hello.txt')).includes('edited in code-server'), 'the edit reached the container');

  await screenshot('extension-reopen-in-container.png');
  // Berth's own command opens another one in the container.
  await runCommand(page, 'Berth: New Container Terminal');
  const second = page.locator('.terminal-tabs-entry', { hasText: 'Berth Container' }).nth(1);
  await second.waitFor({ state: 'visible' });
  await second.click();
  // The new terminal shows a fresh prompt (not the first one's output); it gets the keyboard.
  await waitForTerminalText(page, /^(?![\s\S]*PRETTY_NAME)[\s\S]*[#$] *$/);
  await page.locator('.xterm >> visible=true').last().click();
  await page.keyboard.type('echo "debian $(cat /etc/debian_version)"\n');
  const version = (await execIn(ws, 'cat /etc/debian_version')).trim();
  await waitForTerminalText(page, new RegExp(`^debian ${version.replace(/\./g, '\\.')}`, 'm'));

  // Back to the host folder: the settings the container window changed are put back.
  await runCommand(page, 'Berth: Reopen Folder Locally');
  // code-server writes a host folder as its path or as a vscode-remote:// URI.
  await waitForFolder(page, new RegExp(`^(vscode-remote://[^/]*|file://)?${ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), 60_000);
  await explorerItem(page, 'made-in-container.txt');
  await waitFor(async () => !(await readFile(settingsFile, 'utf8')).includes('Berth Container'), 'the default terminal profile was restored');
  const restored = JSON.parse(await readFile(settingsFile, 'utf8')) as Record<string, unknown>;
  assert.equal(restored['editor.fontSize'], undefined);
  assert.equal(restored['berth.socket'], f.socket);
}));

test('code-server: Clone Repository in Container Volume from a local bare repository', { timeout: 600_000 }, withScreenshot('clone', async () => {
  const f = fx as EngineFixture;
  const git = (cwd: string, ...args: string[]): Promise<unknown> =>
    runChecked(['git', '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd });
  const work = path.join(f.dir, 'src', 'cloned-app');
  await mkdir(path.join(work, '.devcontainer'), { recursive: true });
  await writeFile(path.join(work, 'README.md'), '# cloned into a volume\n');
  await writeFile(path.join(work, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: f.images.latest }));
  await git(work, 'init', '-q');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'first');
  const bare = path.join(f.dir, 'cloned-app.git');
  await git(f.dir, 'clone', '-q', '--bare', work, bare);

  await runCommand(page, 'Berth: Clone Repository in Container Volume...');
  await answerInput(page, `file://${bare}`);
  await answerInput(page, '');
  const folder = await waitForFolder(page, /^berth-container:\/\/[0-9a-f]{64}\/workspaces\/cloned-app$/, 300_000);
  await explorerItem(page, 'README.md', 120_000);
  await openFromExplorer(page, 'README.md');
  await page.locator('.monaco-editor .view-lines', { hasText: 'cloned into a volume' }).first().waitFor({ state: 'visible' });

  // The clone lives in a volume mounted at /workspaces of the container.
  const id = /berth-container:\/\/([0-9a-f]{64})/.exec(folder)?.[1] ?? '';
  const inspect = await f.berth(['container', 'inspect', id]);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /"type":"volume"/);
  const r = await f.berth(['ssh', id, '--', 'cat', '/workspaces/cloned-app/README.md']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cloned into a volume/);
  await screenshot('extension-clone-in-volume.png');
}));

test('code-server: Add Dev Container Configuration Files from a template, Attach to Running Container, Show Container Log', { timeout: 600_000 }, withScreenshot('templates-attach', async () => {
  const f = fx as EngineFixture;
  const server = cs as CodeServer;
  const ws = path.join(f.dir, 'plain-project');
  await mkdir(ws, { recursive: true });
  await writeFile(path.join(ws, 'notes.txt'), 'no dev container yet\n');
  await gotoPage(page, `${server.url}/?folder=${encodeURIComponent(ws)}`);
  await explorerItem(page, 'notes.txt');

  // The Debian template, with its options answered in quick picks.
  await runCommand(page, 'Berth: Add Dev Container Configuration Files...');
  await answerInput(page, 'Debian');
  await answerInput(page, 'bullseye');
  await answerInput(page, 'false');
  await page.locator('.tabs-container .tab[aria-label*="devcontainer.json"]').first().waitFor({ state: 'visible' });
  const written = await readFile(path.join(ws, '.devcontainer', 'devcontainer.json'), 'utf8');
  assert.match(written, /debian:bullseye/);
  await page.locator('.notifications-toasts', { hasText: 'added Debian' }).waitFor({ state: 'visible' });

  // A running container that no window opened: attach to it by name.
  const other = path.join(f.dir, 'other-project');
  await mkdir(path.join(other, '.devcontainer'), { recursive: true });
  await writeFile(path.join(other, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: f.images.latest, postCreateCommand: 'echo attached-container-log' }));
  await writeFile(path.join(other, 'other.txt'), 'other\n');
  const up = await f.berth(['up', '--workspace-folder', other]);
  assert.equal(up.code, 0, up.stderr);
  const id = String((JSON.parse(up.stdout) as Record<string, unknown>)['containerId']);
  const name = (JSON.parse((await f.berth(['container', 'inspect', id])).stdout) as { name: string }).name;
  await runCommand(page, 'Berth: Attach to Running Container...');
  await answerInput(page, name);
  await waitForFolder(page, new RegExp(`^berth-container://${id}/`), 60_000);
  await explorerItem(page, 'other.txt', 60_000);

  await runCommand(page, 'Berth: Show Container Log');
  await page.locator('.output-view, .part.panel', { hasText: `log of ${name}` }).first().waitFor({ state: 'visible' });
  await screenshot('extension-attach-and-log.png');
}));

test('code-server: a tasks.json shell task runs in the container (Tasks: Run Task), with its cwd, env and exit code', { timeout: 600_000 }, withScreenshot('tasks', async () => {
  const f = fx as EngineFixture;
  const ws = path.join(f.dir, 'tasks-project');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await mkdir(path.join(ws, '.vscode'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: debian }));
  // A shell task: VS Code itself runs none in a virtual workspace; Berth offers it as a berth task with the same label.
  await writeFile(
    path.join(ws, '.vscode', 'tasks.json'),
    `{ // JSONC, as VS Code writes it
      "version": "2.0.0",
      "tasks": [
        { "label": "write marker", "type": "shell", "command": "echo \\"task in $(pwd) with $GREETING on debian $(cat /etc/debian_version)\\" | tee task-marker.txt; exit 3",
          "options": { "env": { "GREETING": "hello-from-tasks-json" } }, "problemMatcher": [] },
        { "label": "typed", "type": "berth", "command": "echo berth-typed > typed.txt", "cwd": "\${workspaceFolder}/.vscode", "problemMatcher": [] },
      ],
    }`,
  );
  const result = await openContainerWindow(ws, '.vscode');

  await runCommand(page, 'Tasks: Run Task');
  await pickQuickItem(page, 'berth');
  await pickQuickItem(page, 'write marker');
  const version = (await execIn(ws, 'cat /etc/debian_version')).trim();
  const line = `task in ${result.remoteWorkspaceFolder} with hello-from-tasks-json on debian ${version}`;
  await waitFor(async () => (await execIn(ws, `cat ${result.remoteWorkspaceFolder}/task-marker.txt`)).trim() === line, 'the task wrote its file in the container', 60_000);
  // The task's terminal: its output, then VS Code's line for the exit code the container's shell returned
  // ("failed to launch" when a process ends within seconds of its start, "terminated" otherwise).
  const text = await waitForTerminalText(page, /The terminal process (failed to launch|terminated with) \(?exit code: 3\b/);
  assert.ok(text.includes(line), text);
  await screenshot('extension-task-in-container.png');

  // A task of type berth in tasks.json: a configured task, resolved by the extension.
  await runCommand(page, 'Tasks: Run Task');
  await pickQuickItem(page, 'typed');
  await waitFor(async () => (await execIn(ws, `cat ${result.remoteWorkspaceFolder}/.vscode/typed.txt`)).trim() === 'berth-typed', 'the berth task wrote its file in its cwd', 60_000);
}));

test('code-server: Open in a Remote-SSH Window without a Remote-SSH extension offers the Host block of berth ssh-config', { timeout: 300_000 }, withScreenshot('remote-ssh', async () => {
  const f = fx as EngineFixture;
  const server = cs as CodeServer;
  const ws = path.join(f.dir, 'ssh-project');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: debian }));
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const result = await openContainerWindow(ws, '.devcontainer');

  // Neither Remote - SSH nor Open Remote - SSH can be installed here (no marketplace): Berth says so.
  await runCommand(page, 'Berth: Open in a Remote-SSH Window');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'neither is installed' }).first();
  await toast.waitFor({ state: 'visible', timeout: 60_000 });
  await toast.locator('.monaco-button', { hasText: 'Copy SSH Config' }).click();
  await page.locator('.notifications-toasts', { hasText: 'is on the clipboard' }).waitFor({ state: 'visible' });
  const copied = await page.evaluate<string>('navigator.clipboard.readText()');
  // The very block `berth ssh-config` prints (Berth does not write it twice), and no ssh config was touched.
  const printed = await f.berth(['ssh-config', result.containerId], { env: { ...process.env, HOME: server.dir } });
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(copied, printed.stdout);
  assert.match(copied, /^Host \S+\.berth\n[\s\S]*ProxyCommand .* ssh --stdio /);
  await assert.rejects(readFile(path.join(server.dir, '.ssh', 'config'), 'utf8'), { code: 'ENOENT' });
  await screenshot('extension-remote-ssh-unavailable.png');
}));

async function waitFor(check: () => Promise<boolean>, what: string, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`timed out: ${what}`);
}
