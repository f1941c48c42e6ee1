/**
 * Dev container features end to end: `berth features publish` pushes them
 * to a real local registry as OCI artifacts; `berth up` resolves them (OCI,
 * `dependsOn` followed, a local `./` feature), installs them in order as
 * cached image layers with their options and _REMOTE_USER variables, applies
 * their containerEnv and hooks (before the configuration's), writes
 * devcontainer-lock.json, and reinstalls nothing when nothing changed.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBerth, singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import type { Registry } from './support/registry';
import type { TestImages } from './support/test-images';

let fx: EngineFixture | undefined;
let dir = '';
let registry: Registry;
let images: TestImages;

const berth = (args: readonly string[]): ReturnType<typeof runBerth> => (fx as EngineFixture).berth(args);

async function feature(root: string, json: object, install: string): Promise<void> {
  const id = (json as { id: string }).id;
  await mkdir(path.join(root, id), { recursive: true });
  await writeFile(path.join(root, id, 'devcontainer-feature.json'), JSON.stringify(json, null, 2));
  await writeFile(path.join(root, id, 'install.sh'), `#!/bin/sh\nset -e\n${install}\n`);
  await chmod(path.join(root, id, 'install.sh'), 0o755);
}

before(async () => {
  fx = await startEngineFixture('berth-features-');
  ({ dir, registry, images } = fx);
});

after(async () => {
  await fx?.dispose();
});

test('features: publish to the registry, then up installs them in order with options, env and hooks, cached the second time', async () => {
  const ns = `${registry.host}/berth-test/features`;
  const src = path.join(dir, 'src');
  await feature(src, { id: 'base', version: '0.3.1', options: {} }, 'mkdir -p /opt && echo base > /opt/base-installed');
  await feature(
    src,
    {
      id: 'hello',
      version: '1.2.0',
      options: { greeting: { type: 'string', default: 'hi' }, 'loud-mode': { type: 'boolean', default: false } },
      containerEnv: { HELLO_HOME: '/opt/hello' },
      dependsOn: { [`${ns}/base:0`]: {} },
      postCreateCommand: 'echo feature-postCreate >> /tmp/hooks',
    },
    'test -e /opt/base-installed || { echo "base must come first" >&2; exit 9; }\nmkdir -p "$HELLO_HOME"\necho "$GREETING $LOUD_MODE by $_REMOTE_USER ($_REMOTE_USER_HOME) as $(id -un)" > "$HELLO_HOME/greeting"',
  );
  const pub = await berth(['features', 'publish', src, '--registry', registry.host, '--namespace', 'berth-test/features']);
  assert.equal(pub.code, 0, pub.stdout + pub.stderr);
  const published = singleJson(pub.stdout)['features'] as { id: string; tags: string[] }[];
  assert.deepEqual(published.map((p) => [p.id, p.tags]), [
    ['base', ['0.3.1', '0.3', '0', 'latest']],
    ['hello', ['1.2.0', '1.2', '1', 'latest']],
  ]);
  const pkg = await berth(['features', 'package', src, '--output', path.join(dir, 'out')]);
  assert.equal(pkg.code, 0, pkg.stdout + pkg.stderr);
  assert.ok(existsSync(path.join(dir, 'out', 'devcontainer-feature-hello.tgz')));

  const ws = path.join(dir, 'ws');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  // Listed first, but installsAfter puts it after hello (and so after base, which hello depends on).
  await feature(path.join(ws, '.devcontainer'), { id: 'local-one', version: '0.0.1', installsAfter: [`${ns}/hello`] }, 'echo "local sees $HELLO_HOME" > /opt/local-one');
  await writeFile(
    path.join(ws, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({
      image: images.latest,
      remoteUser: 'app',
      features: { './local-one': {}, [`${ns}/hello:1`]: { greeting: 'hey' } },
      postCreateCommand: 'echo config-postCreate >> /tmp/hooks',
    }),
  );
  const up = await berth(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const e = await berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'cat /opt/hello/greeting /opt/local-one /tmp/hooks; echo "$HELLO_HOME"; id -un']);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(e.stdout.trim().split('\n'), ['hey false by app (/home/app) as root', 'local sees /opt/hello', 'feature-postCreate', 'config-postCreate', '/opt/hello', 'app']);

  const lock = JSON.parse(await readFile(path.join(ws, '.devcontainer', 'devcontainer-lock.json'), 'utf8')) as { features: Record<string, { version: string; integrity: string }> };
  assert.equal(lock.features[`${ns}/hello:1`]?.version, '1.2.0');
  assert.match(lock.features[`${ns}/base:0`]?.integrity ?? '', /^sha256:[0-9a-f]{64}$/);

  assert.equal((await berth(['down', '--workspace-folder', ws])).code, 0);
  const again = await berth(['up', '--workspace-folder', ws]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stderr, /features image berth-features-[0-9a-f]{16}: \d+ of \d+ steps from the cache, 0 layers written/, 'nothing reinstalled');
  assert.equal((await berth(['down', '--workspace-folder', ws])).code, 0);

  // berth build: the same image under a name, pushed; its label carries the features' metadata.
  const name = `${registry.host}/berth-test/devimg:1`;
  const b = await berth(['build', '--workspace-folder', ws, '--image-name', name, '--push']);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  assert.deepEqual(singleJson(b.stdout)['imageName'], [name]);
  const res = await fetch(`http://${registry.host}/v2/berth-test/devimg/manifests/1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as { config: { digest: string } };
  const config = (await (await fetch(`http://${registry.host}/v2/berth-test/devimg/blobs/${manifest.config.digest}`)).json()) as { config: { Labels: Record<string, string> } };
  assert.match(config.config.Labels['devcontainer.metadata'] ?? '', /hello:1.*feature-postCreate/);
});

test('features: a missing one and a cycle are clear errors; --additional-features adds one', async () => {
  const ws = path.join(dir, 'ws-bad');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: images.latest, features: { [`${registry.host}/berth-test/features/nope:1`]: {} } }));
  const r = await berth(['up', '--workspace-folder', ws]);
  assert.equal(r.code, 1);
  assert.match(String(singleJson(r.stdout)['message']), /feature .*nope:1.*not found/);

  const cyc = path.join(dir, 'ws-cycle');
  await mkdir(path.join(cyc, '.devcontainer'), { recursive: true });
  await feature(path.join(cyc, '.devcontainer'), { id: 'a', installsAfter: ['./b'] }, 'true');
  await feature(path.join(cyc, '.devcontainer'), { id: 'b', installsAfter: ['./a'] }, 'true');
  await writeFile(path.join(cyc, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: images.latest, features: { './a': {}, './b': {} } }));
  const c = await berth(['up', '--workspace-folder', cyc]);
  assert.equal(c.code, 1);
  assert.match(String(singleJson(c.stdout)['message']), /cycle: \.\/a, \.\/b/);

  const plain = path.join(dir, 'ws-plain');
  await mkdir(path.join(plain, '.devcontainer'), { recursive: true });
  await writeFile(path.join(plain, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: images.latest }));
  const add = await berth(['up', '--workspace-folder', plain, '--additional-features', JSON.stringify({ [`${registry.host}/berth-test/features/base:0.3.1`]: {} })]);
  assert.equal(add.code, 0, add.stdout + add.stderr);
  assert.equal((await berth(['exec', '--workspace-folder', plain, '--', 'cat', '/opt/base-installed'])).stdout, 'base\n');
  await berth(['down', '--workspace-folder', plain]);
});
