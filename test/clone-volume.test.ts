/**
 * Clone Repository in Container Volume: `berth up --clone` with a real git
 * repository (file:// URL and a local path, a branch), a real berthd and
 * registry. The clone lives in a named volume mounted at /workspaces, owned
 * by the remote user; it survives `down`, is found again by the same URL and
 * never cloned over; a bad URL leaves no volume behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import { runChecked } from '../src/common/process/spawn';
import { runBerth, singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import type { TestImages } from './support/test-images';

let fx: EngineFixture | undefined;
let dir = '';
let socket = '';
let images: TestImages;
let repo = '';

const berth = (args: readonly string[]): ReturnType<typeof runBerth> => (fx as EngineFixture).berth(args);
const git = (cwd: string, ...args: string[]): Promise<unknown> =>
  runChecked(['git', '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd });

before(async () => {
  fx = await startEngineFixture('berth-clone-');
  ({ dir, socket, images } = fx);
  // A repository whose `dev` branch has the dev container; `main` has none.
  const work = path.join(dir, 'work', 'my-app');
  await mkdir(work, { recursive: true });
  await git(work, 'init', '-q');
  await writeFile(path.join(work, 'README.md'), 'main branch\n');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'main');
  await git(work, 'checkout', '-qb', 'dev');
  await mkdir(path.join(work, '.devcontainer'));
  await writeFile(
    path.join(work, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({ image: images.latest, remoteUser: 'app', postCreateCommand: 'echo "postCreate in $(pwd)" >> hooks.log' }),
  );
  await writeFile(path.join(work, 'README.md'), 'dev branch\n');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'dev');
  repo = path.join(dir, 'my-app.git');
  await git(dir, 'clone', '-q', '--bare', work, repo);
});

after(async () => {
  await fx?.dispose();
});

test('up --clone: the branch is cloned into a volume at /workspaces, owned by the remote user; it outlives down and is never cloned over', async () => {
  const url = `file://${repo}`;
  const r = await berth(['up', '--clone', url, '--branch', 'dev']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = singleJson(r.stdout);
  assert.equal(out['cloned'], true);
  assert.equal(out['remoteWorkspaceFolder'], '/workspaces/my-app');
  assert.equal(out['remoteUser'], 'app');
  const volume = String(out['volume']);
  const folder = String(out['workspaceFolder']);
  assert.match(volume, /^berth-clone-my-app-[0-9a-f]{10}$/);

  const e = await berth(['exec', '--workspace-folder', folder, '--', 'sh', '-c', 'cat README.md hooks.log; stat -c %u README.md; touch made-in-container']);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(e.stdout.trim().split('\n'), ['dev branch', 'postCreate in /workspaces/my-app', '1000']);
  const api = new ApiClient({ socketPath: socket });
  const record = await api.call('containerInspect', { params: { id: String(out['containerId']) } });
  assert.ok(
    record.request.mounts?.some((m) => m.type === 'volume' && m.source === volume && m.target === '/workspaces'),
    JSON.stringify(record.request.mounts),
  );

  assert.equal((await berth(['down', '--workspace-folder', folder])).code, 0);
  const v = await api.call('volumeInspect', { params: { name: volume } });
  assert.ok(existsSync(path.join(v.mountpoint, 'my-app', 'made-in-container')), 'the volume keeps what the container wrote');

  // The same URL and branch: the same volume, no second clone, the work is still there.
  const again = singleJson((await berth(['up', '--clone', url, '--branch', 'dev'])).stdout);
  assert.equal(again['volume'], volume);
  assert.equal(again['cloned'], false);
  assert.notEqual(again['containerId'], out['containerId']);
  const kept = await berth(['exec', '--workspace-folder', folder, '--', 'ls', 'made-in-container']);
  assert.equal(kept.code, 0, 'work in the volume survived');
  assert.equal((await berth(['down', '--workspace-folder', folder])).code, 0);
});

test('up --clone: a local path works, with --volume naming the volume; a bad URL leaves no volume; flags that do not go together are refused', async () => {
  const r = await berth(['up', '--clone', repo, '--branch', 'dev', '--volume', 'my-named-clone']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = singleJson(r.stdout);
  assert.equal(out['volume'], 'my-named-clone');
  assert.match(await readFile(path.join(String(out['workspaceFolder']), 'README.md'), 'utf8'), /dev branch/);
  await berth(['down', '--workspace-folder', String(out['workspaceFolder'])]);

  const bad = await berth(['up', '--clone', `file://${dir}/no-such-repo.git`]);
  assert.equal(bad.code, 1);
  assert.match(String(singleJson(bad.stdout)['message']), /git clone of .*no-such-repo\.git failed/);
  const api = new ApiClient({ socketPath: socket });
  const volumes = await api.call('volumeList', {});
  assert.ok(!volumes.some((v) => v.name.includes('no-such-repo')), 'no volume left behind');

  const noConfig = await berth(['up', '--clone', repo, '--branch', 'main']);
  assert.equal(noConfig.code, 1, 'main has no dev container configuration');
  assert.equal((await berth(['up', '--clone', repo, '--workspace-folder', dir])).code, 1);
  assert.equal((await berth(['up', '--branch', 'dev'])).code, 1);
});

test('dotfiles: cloned on the host, installed once as the remote user (install.sh), else their dot files linked into the home', async () => {
  const repoWith = path.join(dir, 'dots-install');
  await mkdir(repoWith, { recursive: true });
  await writeFile(path.join(repoWith, 'install.sh'), '#!/bin/sh\necho "installed by $(id -un) in $(pwd)" >> "$HOME/.dotfiles-log"\n');
  await writeFile(path.join(repoWith, '.myrc'), 'alias ll=ls\n');
  await git(repoWith, 'init', '-q');
  await git(repoWith, 'add', '-A');
  await git(repoWith, 'commit', '-qm', 'dots');
  const ws = path.join(dir, 'dots-ws');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: images.latest, remoteUser: 'app', postCreateCommand: 'test ! -e "$HOME/.dotfiles-log"' }));
  const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
  const r = await runBerth(['up', '--socket', socket, '--workspace-folder', ws, '--dotfiles-repository', `file://${repoWith}`], { env: { ...process.env, ...env } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((singleJson(r.stdout)['hooks'] as Record<string, string>)['dotfiles'], 'ran');
  const again = await runBerth(['up', '--socket', socket, '--workspace-folder', ws, '--dotfiles-repository', `file://${repoWith}`], { env: { ...process.env, ...env } });
  assert.equal((singleJson(again.stdout)['hooks'] as Record<string, string>)['dotfiles'], 'skipped');
  const e = await berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'cat ~/.dotfiles-log; cat ~/dotfiles/.myrc']);
  assert.deepEqual(e.stdout.trim().split('\n'), ['installed by app in /home/app/dotfiles', 'alias ll=ls']);
  await berth(['down', '--workspace-folder', ws]);

  const repoLinks = path.join(dir, 'dots-links');
  await mkdir(repoLinks, { recursive: true });
  await writeFile(path.join(repoLinks, '.gitconfig-berth'), '[user]\n');
  await git(repoLinks, 'init', '-q');
  await git(repoLinks, 'add', '-A');
  await git(repoLinks, 'commit', '-qm', 'dots');
  const l = await runBerth(['up', '--socket', socket, '--workspace-folder', ws, '--dotfiles-repository', repoLinks, '--dotfiles-target-path', '~/my-dots'], { env: { ...process.env, ...env } });
  assert.equal(l.code, 0, l.stdout + l.stderr);
  const link = await berth(['exec', '--workspace-folder', ws, '--', 'readlink', '/home/app/.gitconfig-berth']);
  assert.equal(link.stdout.trim(), '/home/app/my-dots/.gitconfig-berth');
  await berth(['down', '--workspace-folder', ws]);

  const bad = await runBerth(['up', '--socket', socket, '--workspace-folder', ws, '--dotfiles-repository', `file://${dir}/no-dots.git`], { env: { ...process.env, ...env } });
  assert.equal(bad.code, 1);
  assert.match(String(singleJson(bad.stdout)['message']), /dotfiles: git clone of .*no-dots\.git failed/);
});
