import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BerthError } from '../common/errors';
import { loadProject } from './load';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-compose-load-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function files(sub: string, contents: Record<string, string>): Promise<string> {
  const d = path.join(dir, sub);
  await mkdir(d, { recursive: true });
  for (const [name, text] of Object.entries(contents)) await writeFile(path.join(d, name), text);
  return d;
}

test('loadProject: two files merged in order, .env interpolation, the shell env first, short syntaxes expanded', async () => {
  const d = await files('My Project!', {
    '.env': 'TAG=7\nDB_PASSWORD=fromdotenv\n',
    'base.env': 'FROM_FILE=1\nOVERRIDDEN=file\n',
    'compose.yml': `
x-common: &common
  labels: { team: core }
services:
  app:
    <<: *common
    build: { context: ./app, args: { A: "1" } }
    command: sh -c 'echo "hi there"'
    env_file: base.env
    environment:
      - OVERRIDDEN=env
      - PASSWORD=\${DB_PASSWORD}
      - FROM_SHELL
    ports: ["8080:80", "127.0.0.1:9000-9001:9000-9001/udp", "3000"]
    volumes:
      - ./src:/src:ro
      - data:/data
      - /anon
    depends_on: [db]
  db:
    image: redis:\${TAG:-6}
    healthcheck:
      test: redis-cli ping
      interval: 1s
      timeout: 1m30s
      start_period: 500ms
volumes:
  data: {}
`,
    'override.yml': `
services:
  app:
    build: { args: { B: "2" } }
    command: ["npm", "start"]
    environment: { EXTRA: "yes" }
    ports: ["8080:80", "4000:4000"]
    volumes: ["./other:/src", { type: tmpfs, target: /tmp, tmpfs: { size: 64m } }]
    depends_on: { db: { condition: service_healthy } }
    networks: { back: { aliases: [api] } }
networks:
  back: {}
`,
  });
  const p = await loadProject({ files: ['compose.yml', 'override.yml'], cwd: d, env: { FROM_SHELL: 'shell', DB_PASSWORD: 'fromshell' } });
  assert.equal(p.name, 'myproject');
  assert.equal(p.workingDir, d);
  assert.deepEqual(p.configFiles, [path.join(d, 'compose.yml'), path.join(d, 'override.yml')]);
  const app = p.services['app'];
  assert.ok(app);
  assert.deepEqual(app.build, { context: path.join(d, 'app'), dockerfile: 'Dockerfile', args: { A: '1', B: '2' } });
  assert.deepEqual(app.command, ['npm', 'start']);
  assert.deepEqual(app.labels, { team: 'core' });
  assert.deepEqual(app.environment, { FROM_FILE: '1', OVERRIDDEN: 'env', PASSWORD: 'fromshell', FROM_SHELL: 'shell', EXTRA: 'yes' });
  assert.deepEqual(app.ports, [
    { target: 80, published: '8080', hostIp: '', protocol: 'tcp' },
    { target: 9000, published: '9000', hostIp: '127.0.0.1', protocol: 'udp' },
    { target: 9001, published: '9001', hostIp: '127.0.0.1', protocol: 'udp' },
    { target: 3000, published: '', hostIp: '', protocol: 'tcp' },
    { target: 4000, published: '4000', hostIp: '', protocol: 'tcp' },
  ]);
  assert.deepEqual(app.volumes, [
    { type: 'bind', source: path.join(d, 'other'), target: '/src', readOnly: false },
    { type: 'volume', source: 'data', target: '/data', readOnly: false },
    { type: 'volume', target: '/anon', readOnly: false },
    { type: 'tmpfs', target: '/tmp', readOnly: false, tmpfsSize: 64 * 1024 * 1024 },
  ]);
  assert.deepEqual(app.dependsOn, { db: { condition: 'service_healthy', required: true } });
  assert.deepEqual(app.networks, { back: { aliases: ['api'] } });
  const db = p.services['db'];
  assert.equal(db?.image, 'redis:7');
  assert.deepEqual(db?.networks, { default: { aliases: [] } });
  assert.deepEqual(db?.healthcheck, { test: ['CMD-SHELL', 'redis-cli ping'], intervalMs: 1000, timeoutMs: 90_000, retries: 3, startPeriodMs: 500, startIntervalMs: 5000 });
  assert.deepEqual(p.volumes, { data: { name: 'myproject_data', external: false, labels: {} } });
  assert.deepEqual(Object.fromEntries(Object.entries(p.networks).map(([k, n]) => [k, n.name])), { default: 'myproject_default', back: 'myproject_back' });
});

test('loadProject: the name from -p, COMPOSE_PROJECT_NAME (shell, then .env), then name:, then the folder', async () => {
  const d = await files('named', { 'compose.yml': 'name: From-File\nservices: { a: { image: x } }\n' });
  assert.equal((await loadProject({ files: ['compose.yml'], cwd: d, env: {} })).name, 'from-file');
  assert.equal((await loadProject({ files: ['compose.yml'], cwd: d, env: { COMPOSE_PROJECT_NAME: 'Env.Name' } })).name, 'envname');
  assert.equal((await loadProject({ files: ['compose.yml'], cwd: d, env: { COMPOSE_PROJECT_NAME: 'env' }, projectName: 'flag' })).name, 'flag');
  const e = await files('dotenv', { '.env': 'COMPOSE_PROJECT_NAME=from_dotenv\nCOMPOSE_PROFILES=debug\n', 'compose.yml': 'services: { a: { image: x }, b: { image: y, profiles: [debug] } }\n' });
  const p = await loadProject({ files: ['compose.yml'], cwd: e, env: {} });
  assert.equal(p.name, 'from_dotenv');
  assert.deepEqual(p.profiles, ['debug']);
  const f = await files('-_Folder', { 'compose.yml': 'services: { a: { image: x } }\n' });
  assert.equal((await loadProject({ files: ['compose.yml'], cwd: f, env: {} })).name, 'folder');
});

test('loadProject: errors name the file and line', async () => {
  const d = await files('bad', { 'compose.yml': 'services:\n  a:\n    image: x\n   bad: [\n', 'noimage.yml': 'services: { a: { command: x } }\n', 'undeclared.yml': 'services: { a: { image: x, volumes: ["data:/d"] } }\n' });
  await assert.rejects(loadProject({ files: ['compose.yml'], cwd: d, env: {} }), (e: unknown) => BerthError.is(e, 'invalid_argument') && /compose\.yml:\d+:\d+/.test((e as Error).message));
  await assert.rejects(loadProject({ files: ['noimage.yml'], cwd: d, env: {} }), /services\.a: neither "image" nor "build"/);
  await assert.rejects(loadProject({ files: ['undeclared.yml'], cwd: d, env: {} }), /volume "data" is not declared/);
  await assert.rejects(loadProject({ files: ['missing.yml'], cwd: d, env: {} }), (e: unknown) => BerthError.is(e, 'not_found'));
});
