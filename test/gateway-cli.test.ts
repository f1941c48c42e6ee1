/**
 * The CLI pointed at a `berth serve` gateway (--host https://..., a token,
 * the self-signed certificate pinned by fingerprint): up (a folder on the
 * gateway's host, and --clone into a volume there), exec, logs, ssh,
 * port-forward and down, all through the gateway, as the token's user.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../src/api/client';
import { runChecked } from '../src/common/process/spawn';
import { runBerth, singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { createToken, startGatewayProcess, type GatewayProcess } from './support/gateway';
import { berthCli } from './support/repo';

let fx: EngineFixture;
let gw: GatewayProcess;
let env: NodeJS.ProcessEnv = {};
let repo = '';

const remote = (args: readonly string[], extra: NodeJS.ProcessEnv = {}): ReturnType<typeof runBerth> => runBerth(args, { env: { ...env, ...extra } });
const git = (cwd: string, ...args: string[]): Promise<unknown> =>
  runChecked(['git', '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd });

before(async () => {
  fx = await startEngineFixture('berth-gateway-cli-', { pull: true });
  const configDir = path.join(fx.dir, 'etc');
  const { token } = await createToken(configDir, 'erin');
  gw = await startGatewayProcess(['--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir]);
  env = { ...process.env, BERTH_HOST: gw.url, BERTH_TOKEN: token, BERTH_TLS_FINGERPRINT: gw.fingerprint ?? '' };
  delete env['BERTH_SOCKET'];
  const work = path.join(fx.dir, 'work', 'gw-app');
  await mkdir(path.join(work, '.devcontainer'), { recursive: true });
  await git(work, 'init', '-q');
  await writeFile(path.join(work, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: fx.images.latest, remoteUser: 'app' }));
  await writeFile(path.join(work, 'README.md'), 'cloned through the gateway\n');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'first');
  repo = path.join(fx.dir, 'gw-app.git');
  await git(fx.dir, 'clone', '-q', '--bare', work, repo);
});

after(async () => {
  await gw?.stop();
  await fx?.dispose();
});

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

test('--host https://: up, exec, logs, ssh, port-forward and down through the gateway; the container is the token user\'s', { timeout: 180_000 }, async () => {
  const ws = path.join(fx.dir, 'gw-ws');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: fx.images.latest, remoteUser: 'app', postCreateCommand: 'echo created-through-gateway > /tmp/created' }));
  const up = await remote(['up', '--workspace-folder', ws]);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const id = String(singleJson(up.stdout)['containerId']);
  const record = singleJson((await fx.berth(['container', 'inspect', id])).stdout) as { request: { labels: Record<string, string> } };
  assert.equal(record.request.labels['berth.owner'], 'erin');

  const e = await remote(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'cat /tmp/created; id -un; exit 3']);
  assert.equal(e.code, 3, e.stderr);
  assert.equal(e.stdout, 'created-through-gateway\napp\n');
  assert.equal((await remote(['logs', '--workspace-folder', ws])).stdout, 'Container started\n');
  const ssh = await remote(['ssh', id, '--', 'sh', '-c', 'echo "agent via $0"; exit 4', 'gateway']);
  assert.equal(ssh.code, 4, ssh.stderr);
  assert.equal(ssh.stdout, 'agent via gateway\n');

  // A web server in the container, reached on this side through port-forward.
  const serve = await remote(['exec', '--workspace-folder', ws, '--', 'sh', '-c', 'mkdir -p /tmp/www && echo hello-forwarded > /tmp/www/index.html && httpd -p 127.0.0.1:8080 -h /tmp/www']);
  assert.equal(serve.code, 0, serve.stderr);
  const pf = spawn(process.execPath, [berthCli(), 'port-forward', id, '0:8080'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      let out = '';
      pf.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out);
      });
      pf.once('exit', (code) => reject(new Error(`port-forward exited ${String(code)}`)));
    });
    const forwards = singleJson(first)['forwards'] as { local: number }[];
    assert.equal(await httpGet(forwards[0]?.local ?? 0), 'hello-forwarded\n');
  } finally {
    pf.kill('SIGTERM');
  }

  const listed = singleJson((await remote(['list'])).stdout)['containers'] as { id: string }[];
  assert.deepEqual(listed.map((c) => c.id), [id]);
  assert.equal((await remote(['down', '--workspace-folder', ws])).code, 0);
  assert.equal((await fx.berth(['container', 'inspect', id])).code, 1, 'removed');
});

test('--host https://: up --clone clones on the gateway\'s host into a volume of the user', { timeout: 120_000 }, async () => {
  const r = await remote(['up', '--clone', `file://${repo}`]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = singleJson(r.stdout);
  assert.equal(out['cloned'], true);
  assert.equal(out['remoteWorkspaceFolder'], '/workspaces/gw-app');
  const volume = await new ApiClient({ socketPath: fx.socket }).call('volumeInspect', { params: { name: String(out['volume']) } });
  assert.equal(volume.labels['berth.owner'], 'erin');
  const e = await remote(['exec', '--workspace-folder', String(out['workspaceFolder']), '--', 'cat', 'README.md']);
  assert.equal(e.stdout, 'cloned through the gateway\n', e.stderr);
  assert.equal((await remote(['down', '--workspace-folder', String(out['workspaceFolder'])])).code, 0);
});

test('--host https://: a missing token and a wrong fingerprint are clear errors', async () => {
  const noToken = await remote(['list'], { BERTH_TOKEN: '' });
  assert.equal(noToken.code, 1);
  assert.match(String(singleJson(noToken.stdout)['message']), /a gateway needs a token/);
  const bad = await remote(['list'], { BERTH_TOKEN: 'berth_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  assert.equal(bad.code, 1);
  assert.equal(singleJson(bad.stdout)['code'], 'unauthenticated');
  const wrong = await remote(['list'], { BERTH_TLS_FINGERPRINT: 'ab:'.repeat(31) + 'ab' });
  assert.equal(wrong.code, 1);
  assert.match(String(singleJson(wrong.stdout)['message']), /not the expected ABAB/);
});
