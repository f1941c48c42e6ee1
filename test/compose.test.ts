/**
 * Compose on Berth's engine, no docker-compose binary: `berth compose`
 * with busybox services (depends_on conditions, healthchecks, profiles,
 * networks and aliases, named volumes, labels, down), and `berth up` with
 * a compose configuration: an app and a real Redis (Debian's packages,
 * installed by the builder) reached by service name from postCreateCommand,
 * healthcheck ordering, and the data kept in a named volume across down/up.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import type { ContainerRecord } from '../src/api/types/containers';
import { singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { copyRedisDebs } from './support/redis-debs';
import { ensureDebianImage } from './support/test-images';

let fx: EngineFixture | undefined;
let api: ApiClient | undefined;

before(async () => {
  fx = await startEngineFixture('berth-compose-', { pull: true });
  api = new ApiClient({ socketPath: fx.socket });
});

after(async () => {
  await fx?.dispose();
});

async function exec(id: string, cmd: readonly string[]): Promise<{ exitCode: number; output: string }> {
  let output = '';
  let exitCode = -1;
  for await (const m of (api as ApiClient).stream('containerExec', { params: { id }, body: { cmd } })) {
    if ('exitCode' in m) exitCode = m.exitCode;
    else output += m.text;
  }
  return { exitCode, output };
}

async function byService(project: string): Promise<Record<string, ContainerRecord>> {
  const list = await (api as ApiClient).call('containerList', { query: { all: 'true', filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) } });
  return Object.fromEntries(list.map((c) => [c.request.labels?.['com.docker.compose.service'] ?? '', c]));
}

const COMPOSE = `
name: BB-Proj
services:
  init:
    image: \${BUSYBOX}
    command: sh -c 'echo seeded > /data/seed'
    volumes: [data:/data]
  web:
    image: \${BUSYBOX}
    init: true
    command: ["sh", "-c", "cat /data/seed; echo \${GREETING:-web up}; exec sleep 1000"]
    volumes: [data:/data]
    depends_on:
      init: { condition: service_completed_successfully }
      cache: { condition: service_healthy }
    networks:
      default: {}
      back: { aliases: [web-back] }
  cache:
    image: \${BUSYBOX}
    init: true
    command: sh -c 'sleep 2; touch /tmp/ready; while true; do echo pong | nc -l -p 7000; done'
    healthcheck:
      test: [CMD, test, -f, /tmp/ready]
      interval: 300ms
      retries: 40
    networks: [default, back]
  debug:
    image: \${BUSYBOX}
    profiles: [debug]
    command: sleep 1000
    stop_grace_period: 1s
volumes:
  data: {}
networks:
  back: {}
`;

test('berth compose: conditions, healthcheck ordering, profiles, names and aliases, labels, volumes, ps/logs/down', { timeout: 300_000 }, async () => {
  const f = fx as EngineFixture;
  const dir = path.join(f.dir, 'bb');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'compose.yaml'), COMPOSE);
  await writeFile(path.join(dir, '.env'), 'GREETING=hello from .env\n');
  const file = path.join(dir, 'compose.yaml');
  const env = { ...process.env, BUSYBOX: f.images.latest };
  const up = await f.berth(['compose', '-f', file, 'up', '-d'], { env });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const result = singleJson(up.stdout) as { project: string; services: { service: string; created: boolean; containerId: string }[] };
  assert.equal(result.project, 'bb-proj');
  // Dependencies first; the profile's service stays down.
  assert.deepEqual(
    result.services.map((s) => s.service),
    ['cache', 'init', 'web'],
  );
  const c = await byService('bb-proj');
  assert.deepEqual(Object.keys(c).sort(), ['cache', 'init', 'web']);
  const web = c['web'] as ContainerRecord;
  const cache = c['cache'] as ContainerRecord;
  assert.equal(c['init']?.state.status, 'exited');
  assert.equal(c['init']?.state.exitCode, 0);
  // service_healthy: web started once cache's check passed, which takes cache 2 s.
  const waited = Date.parse(web.state.startedAt) - Date.parse(cache.state.startedAt);
  assert.ok(waited >= 1900, `web started ${waited} ms after cache`);
  assert.equal(web.name, 'bb-proj-web-1');
  assert.deepEqual(
    Object.fromEntries(Object.entries(web.request.labels ?? {}).filter(([k]) => /^com\.docker\.compose\.(project|service|container-number|oneoff|project\.working_dir|project\.config_files)$/.test(k))),
    {
      'com.docker.compose.project': 'bb-proj',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.project.working_dir': dir,
      'com.docker.compose.project.config_files': file,
    },
  );
  assert.match(web.request.labels?.['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
  // By service name across the network, and the alias on the second network.
  const pong = await exec(web.id, ['sh', '-c', 'nc cache 7000 </dev/null']);
  assert.equal(pong.output.trim(), 'pong', JSON.stringify(pong));
  assert.equal((await exec(cache.id, ['grep', '-qw', 'web-back', '/etc/hosts'])).exitCode, 0);
  const nets = (await (api as ApiClient).call('networkList', {})).filter((n) => n.labels['com.docker.compose.project'] === 'bb-proj');
  assert.deepEqual(nets.map((n) => [n.name, n.labels['com.docker.compose.network']]).sort(), [
    ['bb-proj_back', 'back'],
    ['bb-proj_default', 'default'],
  ]);
  const vol = await (api as ApiClient).call('volumeInspect', { params: { name: 'bb-proj_data' } });
  assert.equal(vol.labels['com.docker.compose.volume'], 'data');
  assert.equal(vol.labels['com.docker.compose.project'], 'bb-proj');

  const logs = await f.berth(['compose', '-f', file, 'logs', 'web'], { env });
  assert.equal(logs.code, 0, logs.stderr);
  assert.deepEqual(
    (singleJson(logs.stdout)['lines'] as { line: string }[]).map((l) => l.line),
    ['seeded', 'hello from .env'],
  );
  const ps = await f.berth(['compose', '-p', 'bb-proj', 'ps']);
  assert.deepEqual((singleJson(ps.stdout)['containers'] as { service: string; status: string }[]).map((x) => `${x.service}:${x.status}`), ['cache:running', 'init:exited', 'web:running']);

  // Unchanged services are kept; a changed one is made again; a profile adds its service.
  const again = await f.berth(['compose', '-f', file, '--profile', 'debug', 'up'], { env: { ...env, GREETING: 'changed' } });
  assert.equal(again.code, 0, again.stderr);
  const second = singleJson(again.stdout) as typeof result;
  assert.deepEqual(Object.fromEntries(second.services.map((s) => [s.service, s.created])), { cache: false, init: false, web: true, debug: true });
  assert.equal(second.services.find((s) => s.service === 'cache')?.containerId, cache.id);

  const down = await f.berth(['compose', '-f', file, 'down'], { env });
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(singleJson(down.stdout)['networks'], ['bb-proj_back', 'bb-proj_default']);
  assert.deepEqual(await byService('bb-proj'), {});
  assert.equal((await (api as ApiClient).call('volumeInspect', { params: { name: 'bb-proj_data' } })).name, 'bb-proj_data');
  const downV = await f.berth(['compose', '-p', 'bb-proj', 'down', '-v']);
  assert.deepEqual(singleJson(downV.stdout)['volumes'], ['bb-proj_data']);
  await assert.rejects((api as ApiClient).call('volumeInspect', { params: { name: 'bb-proj_data' } }));
});

test('berth up with a compose configuration: app + Redis by service name, healthcheck ordering, data kept in a named volume across down/up', { timeout: 600_000 }, async () => {
  const f = fx as EngineFixture;
  const debian = await ensureDebianImage(f.registry);
  const ws = path.join(f.dir, 'redis-ws');
  const dc = path.join(ws, '.devcontainer');
  await mkdir(dc, { recursive: true });
  await copyRedisDebs(path.join(dc, 'debs'));
  await mkdir(path.join(dc, 'greeter'));
  await writeFile(path.join(dc, 'greeter', 'devcontainer-feature.json'), JSON.stringify({ id: 'greeter', version: '1.0.0', options: { name: { type: 'string', default: 'world' } } }));
  await writeFile(path.join(dc, 'greeter', 'install.sh'), '#!/bin/sh\nset -e\necho "hello $NAME" > /usr/local/share/greeting\n', { mode: 0o755 });
  await writeFile(path.join(dc, 'Dockerfile'), `FROM ${debian}\nCOPY debs/ /tmp/debs/\nRUN dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs\n`);
  await writeFile(
    path.join(dc, 'docker-compose.yml'),
    `services:
  app:
    build: { context: ., dockerfile: Dockerfile }
    volumes: ["..:/workspaces/redis-ws"]
    init: true
    # Run at start (overrideCommand is false for compose): db must answer already.
    command: sh -c 'redis-cli -h db ping > /tmp/db-at-start 2>&1; exec sleep infinity'
    depends_on:
      db: { condition: service_healthy }
  db:
    build: { context: ., dockerfile: Dockerfile }
    # Redis listens only 2 s after the container starts.
    command: sh -c 'sleep 2; exec redis-server --appendonly yes --dir /data --protected-mode no'
    volumes: [redis-data:/data]
    healthcheck:
      test: [CMD, redis-cli, ping]
      interval: 500ms
      retries: 60
volumes:
  redis-data: {}
`,
  );
  await writeFile(
    path.join(dc, 'devcontainer.json'),
    JSON.stringify({
      dockerComposeFile: 'docker-compose.yml',
      service: 'app',
      runServices: ['app', 'db'],
      workspaceFolder: '/workspaces/redis-ws',
      shutdownAction: 'stopCompose',
      containerEnv: { FROM_CONTAINER_ENV: 'yes' },
      // Features go on top of the dev service's image.
      features: { './greeter': { name: 'compose' } },
      postCreateCommand: 'redis-cli -h db incr launches > /tmp/launches',
    }),
  );
  const project = 'redis-ws_devcontainer';
  const sh = (script: string) => f.berth(['exec', '--workspace-folder', ws, '--', 'sh', '-c', script]);

  const up = await f.berth(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const first = singleJson(up.stdout);
  assert.equal(first['remoteWorkspaceFolder'], '/workspaces/redis-ws');
  assert.equal(first['created'], true);
  const e = await sh('cat /tmp/db-at-start /tmp/launches; echo "$FROM_CONTAINER_ENV"; pwd; test -f .devcontainer/devcontainer.json && echo mounted; cat /usr/local/share/greeting');
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(e.stdout.trim().split('\n'), ['PONG', '1', 'yes', '/workspaces/redis-ws', 'mounted', 'hello compose']);
  const c = await byService(project);
  assert.deepEqual(Object.keys(c).sort(), ['app', 'db']);
  assert.equal(c['app']?.id, first['containerId']);
  assert.equal(c['app']?.request.labels?.['devcontainer.local_folder'], ws);
  assert.equal(c['db']?.request.labels?.['com.docker.compose.project.config_files'], path.join(dc, 'docker-compose.yml'));
  assert.equal((await (api as ApiClient).call('volumeInspect', { params: { name: `${project}_redis-data` } })).labels['com.docker.compose.volume'], 'redis-data');

  // stop (shutdownAction stopCompose) stops the project; up starts the same containers again, hooks once.
  const stop = await f.berth(['stop', '--workspace-folder', ws]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(singleJson(stop.stdout)['stopped'], [`${project}-app-1`, `${project}-db-1`]);
  const restarted = await f.berth(['up', '--workspace-folder', ws]);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.equal(singleJson(restarted.stdout)['created'], false);
  assert.equal((await sh('redis-cli -h db get launches')).stdout.trim(), '1');

  // down removes the project's containers and network; the named volume keeps the data.
  const down = await f.berth(['down', '--workspace-folder', ws]);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(await byService(project), {});
  const again = await f.berth(['up', '--workspace-folder', ws]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal(singleJson(again.stdout)['created'], true);
  assert.equal((await sh('cat /tmp/launches')).stdout.trim(), '2');

  const gone = await f.berth(['down', '--workspace-folder', ws, '--volumes']);
  assert.deepEqual(singleJson(gone.stdout)['volumes'], [`${project}_redis-data`]);
});

test("read-configuration --include-merged-configuration: a compose configuration merges its service's image", async () => {
  const f = fx as EngineFixture;
  const ws = path.join(f.dir, 'merged-ws');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'compose.yml'), `services:\n  app:\n    image: ${f.images.latest}\n`);
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ dockerComposeFile: 'compose.yml', service: 'app', remoteUser: 'nobody', postCreateCommand: 'true' }));
  const r = await f.berth(['read-configuration', '--workspace-folder', ws, '--include-merged-configuration']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const merged = singleJson(r.stdout)['mergedConfiguration'] as Record<string, unknown>;
  assert.equal(merged['remoteUser'], 'nobody');
  assert.deepEqual(merged['postCreateCommands'], ['true']);
  // A service built from a Dockerfile: its FROM's metadata (as the reference reads it).
  await writeFile(path.join(ws, '.devcontainer', 'Dockerfile'), `FROM ${f.images.latest}\n`);
  await writeFile(path.join(ws, '.devcontainer', 'compose.yml'), 'services:\n  app:\n    build: .\n');
  const built = await f.berth(['read-configuration', '--workspace-folder', ws, '--include-merged-configuration']);
  assert.equal(built.code, 0, built.stdout + built.stderr);
  assert.equal((singleJson(built.stdout)['mergedConfiguration'] as Record<string, unknown>)['remoteUser'], 'nobody');
  await writeFile(path.join(ws, '.devcontainer', 'compose.yml'), 'services:\n  other:\n    build: .\n');
  const missing = await f.berth(['read-configuration', '--workspace-folder', ws, '--include-merged-configuration']);
  assert.equal(missing.code, 1);
  assert.match(String(singleJson(missing.stdout)['message']), /service "app" is not in/);
});
