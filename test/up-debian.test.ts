/**
 * `berth up` on the Debian image (debootstrap, from the local registry):
 * a Dockerfile on top of it, a local feature, a non-root remote user made by
 * the Dockerfile, bash as the login shell for the env probe, hooks, exec.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { ensureDebianImage } from './support/test-images';

let fx: EngineFixture | undefined;
let debian = '';

before(async () => {
  fx = await startEngineFixture('berth-up-debian-');
  debian = await ensureDebianImage(fx.registry);
});

after(async () => {
  await fx?.dispose();
});

test('up on Debian: Dockerfile, a local feature, a user of its own, bash login env, hooks and exec', { timeout: 300_000 }, async () => {
  const f = fx as EngineFixture;
  const ws = path.join(f.dir, 'deb-ws');
  const dc = path.join(ws, '.devcontainer');
  await mkdir(path.join(dc, 'greeter'), { recursive: true });
  await writeFile(path.join(dc, 'Dockerfile'), `FROM ${debian}\nRUN useradd -m -s /bin/bash dev && echo 'export FROM_PROFILE=bash-login' > /etc/profile.d/berth-test.sh\n`);
  await writeFile(path.join(dc, 'greeter', 'devcontainer-feature.json'), JSON.stringify({ id: 'greeter', version: '1.0.0', options: { name: { type: 'string', default: 'world' } } }));
  await writeFile(path.join(dc, 'greeter', 'install.sh'), '#!/bin/bash\nset -euo pipefail\necho "hello $NAME from $_REMOTE_USER ($_REMOTE_USER_HOME)" > /usr/local/share/greeting\n');
  await chmod(path.join(dc, 'greeter', 'install.sh'), 0o755);
  await writeFile(
    path.join(dc, 'devcontainer.json'),
    JSON.stringify({
      build: { dockerfile: 'Dockerfile' },
      remoteUser: 'dev',
      features: { './greeter': { name: 'debian' } },
      containerEnv: { LANG: 'C.UTF-8' },
      postCreateCommand: ['bash', '-c', 'echo "postCreate as $(whoami) with ${FROM_PROFILE:-no-profile}" > ~/created'],
    }),
  );
  const up = await f.berth(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.equal(singleJson(up.stdout)['remoteUser'], 'dev');
  const e = await f.berth(['exec', '--workspace-folder', ws, '--', 'bash', '-c', '. /etc/os-release; echo "$ID $VERSION_CODENAME"; cat /usr/local/share/greeting ~/created; echo "$FROM_PROFILE $LANG"; pwd']);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(e.stdout.trim().split('\n'), [
    'debian bookworm',
    'hello debian from dev (/home/dev)',
    'postCreate as dev with bash-login',
    'bash-login C.UTF-8',
    '/workspaces/deb-ws',
  ]);
  assert.equal((await f.berth(['down', '--workspace-folder', ws])).code, 0);
});
