/**
 * The dev container lifecycle beyond the basics: initializeCommand on the
 * host, the user env probe (cached in the container), waitFor with
 * --skip-non-blocking-commands, --prebuild, postStart once per start,
 * run-user-commands, set-up of a container Berth's `up` did not make,
 * `berth logs` and hostRequirements warnings. Real berthd, runc/crun, registry.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBerth, singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import type { TestImages } from './support/test-images';

let fx: EngineFixture | undefined;
let dir = '';
let images: TestImages;

async function workspace(name: string, config: (ws: string) => object): Promise<string> {
  const ws = path.join(dir, name);
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify(config(ws), null, 2));
  return ws;
}

const berth = (args: readonly string[]): ReturnType<typeof runBerth> => (fx as EngineFixture).berth(args);

before(async () => {
  fx = await startEngineFixture('berth-lifecycle-', { pull: true });
  ({ dir, images } = fx);
});

after(async () => {
  await fx?.dispose();
});

test('initializeCommand runs on the host in the workspace folder, each up; a failing one stops up before any container', async () => {
  const ws = await workspace('init', () => ({ image: images.latest, initializeCommand: ['sh', '-c', 'pwd >> init.log'] }));
  const r = await berth(['up', '--workspace-folder', ws]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((singleJson(r.stdout)['hooks'] as Record<string, string>)['initializeCommand'], 'ran');
  await berth(['up', '--workspace-folder', ws]);
  assert.deepEqual((await readFile(path.join(ws, 'init.log'), 'utf8')).trim().split('\n'), [ws, ws]);
  await berth(['down', '--workspace-folder', ws]);

  const bad = await workspace('init-bad', () => ({ image: images.latest, initializeCommand: 'echo no host for you >&2; exit 4' }));
  const f = await berth(['up', '--workspace-folder', bad]);
  assert.equal(f.code, 1);
  assert.match(String(singleJson(f.stdout)['message']), /initializeCommand failed with exit code 4[^]*no host for you/);
  const listed = singleJson((await berth(['list'])).stdout)['containers'] as { workspaceFolder: string }[];
  assert.ok(!listed.some((c) => c.workspaceFolder === bad), 'no container was made');
});

test('userEnvProbe: the login shell environment reaches hooks and exec, probed once and cached; remoteEnv wins; "none" turns it off', async () => {
  const ws = await workspace('probe', (w) => ({
    image: images.latest,
    remoteUser: 'app',
    mounts: [`type=bind,source=${w}/profile,target=/etc/profile`],
    remoteEnv: { OVERRIDDEN: 'by-remoteEnv' },
    postCreateCommand: 'echo "hook sees $PROBED" > /tmp/hook-env',
  }));
  await writeFile(path.join(ws, 'profile'), 'export PROBED=from-profile\nexport OVERRIDDEN=from-profile\nexport PATH="$PATH:/opt/probed"\n');
  const up = await berth(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const e = await berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'cat /tmp/hook-env; echo "$PROBED $OVERRIDDEN"; echo "$PATH"']);
  assert.equal(e.code, 0, e.stderr);
  const [hook, vars, pathVar] = e.stdout.trim().split('\n');
  assert.equal(hook, 'hook sees from-profile');
  assert.equal(vars, 'from-profile by-remoteEnv');
  assert.match(pathVar ?? '', /:\/opt\/probed$/);
  // Cached: a changed profile is not probed again for this container.
  await writeFile(path.join(ws, 'profile'), 'export PROBED=changed\n');
  assert.equal((await berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'echo $PROBED'])).stdout.trim(), 'from-profile');
  await berth(['down', '--workspace-folder', ws]);

  const none = await workspace('probe-none', (w) => ({ image: images.latest, userEnvProbe: 'none', mounts: [`type=bind,source=${w}/profile,target=/etc/profile`] }));
  await writeFile(path.join(none, 'profile'), 'export PROBED=from-profile\n');
  assert.equal((await berth(['up', '--workspace-folder', none])).code, 0);
  assert.equal((await berth(['exec', '--workspace-folder', none, '--', 'sh', '-c', 'echo "[$PROBED]"'])).stdout.trim(), '[]');
  await berth(['down', '--workspace-folder', none]);
});

test('waitFor and --skip-non-blocking-commands, --prebuild, then run-user-commands finishes the rest; postStart once per start', async () => {
  const ws = await workspace('waitfor', () => ({
    image: images.latest,
    waitFor: 'onCreateCommand',
    onCreateCommand: 'echo onCreate >> /tmp/order',
    updateContentCommand: 'echo updateContent >> /tmp/order',
    postCreateCommand: 'echo postCreate >> /tmp/order',
    postStartCommand: 'echo postStart >> /tmp/order',
    postAttachCommand: 'echo postAttach >> /tmp/order',
  }));
  const order = async (): Promise<string[]> => (await berth(['exec', '--workspace-folder', ws, '--', 'cat', '/tmp/order'])).stdout.trim().split('\n');
  const up = await berth(['up', '--workspace-folder', ws, '--skip-non-blocking-commands']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.deepEqual(singleJson(up.stdout)['hooks'], { onCreateCommand: 'ran' });
  assert.deepEqual(await order(), ['onCreate']);

  const pre = singleJson((await berth(['up', '--workspace-folder', ws, '--prebuild'])).stdout);
  assert.deepEqual(pre['hooks'], { onCreateCommand: 'skipped', updateContentCommand: 'ran' });
  const again = singleJson((await berth(['up', '--workspace-folder', ws, '--prebuild'])).stdout);
  assert.deepEqual(again['hooks'], { onCreateCommand: 'skipped', updateContentCommand: 'ran' }, 'prebuild runs updateContent again');

  const rest = await berth(['run-user-commands', '--workspace-folder', ws]);
  assert.equal(rest.code, 0, rest.stdout + rest.stderr);
  assert.deepEqual(singleJson(rest.stdout)['hooks'], { onCreateCommand: 'skipped', updateContentCommand: 'skipped', postCreateCommand: 'ran', postStartCommand: 'ran', postAttachCommand: 'ran' });
  const twice = singleJson((await berth(['run-user-commands', '--workspace-folder', ws])).stdout);
  assert.equal((twice['hooks'] as Record<string, string>)['postStartCommand'], 'skipped', 'postStart ran for this start already');
  assert.deepEqual(await order(), ['onCreate', 'updateContent', 'updateContent', 'postCreate', 'postStart', 'postAttach', 'postAttach']);

  assert.equal((await berth(['stop', '--workspace-folder', ws])).code, 0);
  assert.equal((await berth(['run-user-commands', '--workspace-folder', ws])).code, 1, 'a stopped container is an error');
  const restarted = singleJson((await berth(['up', '--workspace-folder', ws])).stdout);
  assert.equal((restarted['hooks'] as Record<string, string>)['postStartCommand'], 'ran');
  await berth(['down', '--workspace-folder', ws]);
});

test('set-up: a plain container becomes a dev container (hooks from a devcontainer.json, once); berth logs prints its log', async () => {
  const run = await berth(['container', 'run', '--detach', '--name', 'plain-one', images.latest, '--', 'sh', '-c', 'echo hello from the log; echo to stderr >&2; exec sleep 1000']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const cfgDir = path.join(dir, 'setup-cfg', '.devcontainer');
  await mkdir(cfgDir, { recursive: true });
  await writeFile(path.join(cfgDir, 'devcontainer.json'), JSON.stringify({ remoteUser: 'app', workspaceFolder: '/tmp', postCreateCommand: 'test "$(id -un)" = app && test "$(pwd)" = /tmp' }));
  const s = await berth(['set-up', '--container-id', 'plain-one', '--config', path.join(cfgDir, 'devcontainer.json')]);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  const out = singleJson(s.stdout);
  assert.equal(out['remoteUser'], 'app');
  assert.deepEqual(out['hooks'], { onCreateCommand: 'skipped', updateContentCommand: 'skipped', postCreateCommand: 'ran', postStartCommand: 'skipped', postAttachCommand: 'skipped' });
  const again = singleJson((await berth(['set-up', '--container-id', 'plain-one', '--config', path.join(cfgDir, 'devcontainer.json')])).stdout);
  assert.equal((again['hooks'] as Record<string, string>)['postCreateCommand'], 'skipped');
  assert.equal((await berth(['set-up', '--container-id', 'no-such-container'])).code, 1);

  // berth logs finds the dev container by its workspace; the keep-alive command says it started.
  const ws = await workspace('logs', () => ({ image: images.latest }));
  const up = await berth(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const logs = await berth(['logs', '--workspace-folder', ws]);
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, 'Container started\n');
  await berth(['down', '--workspace-folder', ws]);
  assert.equal((await berth(['logs', '--workspace-folder', ws])).code, 1, 'no dev container: an error');
});

test('hostRequirements beyond this host are warned about, and up still succeeds', async () => {
  const ws = await workspace('host-req', () => ({ image: images.latest, hostRequirements: { cpus: 4096, memory: '64tb', gpu: true } }));
  const r = await berth(['up', '--workspace-folder', ws]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /hostRequirements: 4096 CPUs are required, this host has \d+/);
  assert.match(r.stderr, /hostRequirements: .*of memory is required/);
  if (!existsSync('/dev/nvidia0') && !existsSync('/dev/dri/renderD128')) assert.match(r.stderr, /hostRequirements: a GPU is required, none was found/);
  await berth(['down', '--workspace-folder', ws]);
});

test('updateRemoteUserUID: the remote user takes the UID/GID of the workspace owner (cached build); off when asked, skipped when the UID is taken', async () => {
  const owned = async (name: string, uid: number, config: object): Promise<string> => {
    const ws = await workspace(name, () => ({ image: images.latest, remoteUser: 'app', ...config }));
    await chown(ws, uid, uid + 1);
    return ws;
  };
  const ws = await owned('uid-update', 4321, {});
  const up = await berth(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stderr, /app is now 4321:4322/);
  const e = await berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'id -u; id -g; stat -c %u /home/app; touch made-by-app && stat -c %u made-by-app']);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(e.stdout.trim().split('\n'), ['4321', '4322', '4321', '4321']);
  await berth(['down', '--workspace-folder', ws]);
  const again = await berth(['up', '--workspace-folder', ws]);
  assert.doesNotMatch(again.stderr, /app is now/, 'the second time the build step comes from the cache');
  await berth(['down', '--workspace-folder', ws]);

  const off = await owned('uid-off', 4321, { updateRemoteUserUID: false });
  assert.equal((await berth(['up', '--workspace-folder', off])).code, 0);
  assert.equal((await berth(['exec', '--workspace-folder', off, '--', 'id', '-u'])).stdout.trim(), '1000');
  await berth(['down', '--workspace-folder', off]);

  const taken = await owned('uid-taken', 65534, {});
  const t = await berth(['up', '--workspace-folder', taken]);
  assert.equal(t.code, 0, t.stdout + t.stderr);
  assert.match(t.stderr, /UID 65534 belongs to another user; app not changed/);
  assert.equal((await berth(['exec', '--workspace-folder', taken, '--', 'id', '-u'])).stdout.trim(), '1000');
  await berth(['down', '--workspace-folder', taken]);
});

test('a new container runs its create-time hooks even when its image carries markers (committed from a dev container); its own markers then count', async () => {
  const ws = await workspace('image-markers', () => ({ build: { dockerfile: 'Dockerfile' }, postCreateCommand: 'echo made >> /created.log' }));
  await writeFile(
    path.join(ws, '.devcontainer', 'Dockerfile'),
    `FROM ${images.latest}\nRUN mkdir -p /var/lib/berth-devcontainer && chmod 1777 /var/lib/berth-devcontainer && printf '' > /var/lib/berth-devcontainer/postCreateCommand\n`,
  );
  const first = await berth(['up', '--workspace-folder', ws]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal((singleJson(first.stdout)['hooks'] as Record<string, string>)['postCreateCommand'], 'ran');
  const again = await berth(['up', '--workspace-folder', ws]);
  assert.equal((singleJson(again.stdout)['hooks'] as Record<string, string>)['postCreateCommand'], 'skipped');
  const log = await berth(['exec', '--workspace-folder', ws, '--', 'cat', '/created.log']);
  assert.equal(log.stdout, 'made\n');
  await berth(['down', '--workspace-folder', ws]);
});
