/**
 * The extension's editor-free parts on a remote engine: a real berthd
 * behind a real `berth serve` gateway (self-signed certificate pinned by
 * fingerprint, a token of user erin). The extension's settings point at the
 * gateway; its CLI runner (`berth up --clone`, `down`), its API client
 * (list, inspect) and its agent connection (exec, SFTP) all go through it,
 * and the token never shows in the CLI's argv.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { ApiClient } from '../src/api/client';
import { runChecked } from '../src/common/process/spawn';
import { AgentConnection } from '../extension/src/agent/agent-connection';
import { engineApi, remoteLabel } from '../extension/src/remote/engine-connection';
import { cliArgv, cliEnv, runCli, type CliSettings } from '../extension/src/runner/berth-cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { createToken, startGatewayProcess, type GatewayProcess } from './support/gateway';
import { berthCli } from './support/repo';

let fx: EngineFixture;
let gw: GatewayProcess;
let settings: CliSettings;
let token = '';
let repo = '';
/** The extension host's environment: a local socket set, which the remote settings must override. */
let env: NodeJS.ProcessEnv = {};

const git = (cwd: string, ...args: string[]): Promise<unknown> =>
  runChecked(['git', '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd });

function collect(ch: ClientChannel): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    let out = '';
    let code: number | null = null;
    ch.on('data', (d: Buffer) => (out += d.toString()));
    ch.stderr.on('data', (d: Buffer) => (out += d.toString()));
    ch.on('exit', (c: number | null) => (code = c));
    ch.on('close', () => resolve({ out, code }));
  });
}

before(async () => {
  fx = await startEngineFixture('berth-ext-remote-', { pull: true });
  const configDir = path.join(fx.dir, 'etc');
  token = (await createToken(configDir, 'erin')).token;
  gw = await startGatewayProcess(['--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir]);
  settings = { executable: berthCli(), socket: path.join(fx.dir, 'no-such.sock'), remote: { host: gw.url, token, tlsFingerprint: gw.fingerprint } };
  env = { ...process.env, BERTH_SOCKET: path.join(fx.dir, 'no-such.sock') };
  delete env['BERTH_HOST'];
  delete env['BERTH_TOKEN'];
  const work = path.join(fx.dir, 'work', 'ext-app');
  await mkdir(path.join(work, '.devcontainer'), { recursive: true });
  await git(work, 'init', '-q');
  await writeFile(path.join(work, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: fx.images.latest, remoteUser: 'app' }));
  await writeFile(path.join(work, 'README.md'), 'cloned for the remote extension\n');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'first');
  repo = path.join(fx.dir, 'ext-app.git');
  await git(fx.dir, 'clone', '-q', '--bare', work, repo);
});

after(async () => {
  await gw?.stop();
  await fx?.dispose();
});

test('extension settings with a remote host: the CLI gets host, token and pin in its environment, never in argv; no local socket', () => {
  const argv = cliArgv(settings, ['up', '--clone', 'file:///r.git']);
  assert.deepEqual(argv, ['up', '--log-format', 'json', '--clone', 'file:///r.git']);
  assert.ok(!argv.some((a) => a.includes(token)));
  const e = cliEnv(settings, { PATH: '/bin', BERTH_SOCKET: '/local.sock', BERTH_TLS_CA: '/stale-ca.pem' });
  assert.deepEqual(e, { PATH: '/bin', BERTH_HOST: gw.url, BERTH_TOKEN: token, BERTH_TLS_FINGERPRINT: gw.fingerprint });
  assert.equal(cliEnv({ executable: 'berth', socket: '/s' }, { A: '1' }).A, '1', 'no remote: the environment as it was');
  assert.equal(remoteLabel(settings), new URL(gw.url).host);
  assert.equal(remoteLabel({ executable: 'berth', remote: { host: 'ssh://dev@build.example:2222' } }), 'dev@build.example:2222');
  assert.equal(remoteLabel({ executable: 'berth' }), undefined);
});

test('extension on a gateway: up --clone through the runner, list and inspect through the API client, exec and SFTP through the agent connection, then down', { timeout: 180_000 }, async () => {
  const logs: string[] = [];
  const up = await runCli(settings, ['up', '--clone', `file://${repo}`], { env, onLog: (l) => logs.push(l.text) });
  assert.equal(up['cloned'], true, JSON.stringify(up));
  assert.equal(up['remoteWorkspaceFolder'], '/workspaces/ext-app');
  const id = String(up['containerId']);
  assert.ok(logs.length > 0, 'the JSON log streamed');
  // Made through the gateway: the engine recorded the token's user as the owner.
  const local = new ApiClient({ socketPath: fx.socket });
  assert.equal((await local.call('containerInspect', { params: { id } })).request.labels?.['berth.owner'], 'erin');

  const api = engineApi(settings, env);
  const listed = await api.call('containerList', { query: { all: 'true' } });
  assert.ok(listed.some((c) => c.id === id), JSON.stringify(listed.map((c) => c.id)));
  assert.equal((await api.call('containerInspect', { params: { id } })).id, id);

  const agent = new AgentConnection(api, id);
  try {
    const r = await collect(await agent.exec('cat README.md; id -un; exit 5', '/workspaces/ext-app'));
    // The agent's login user: the one its credentials name (the container's user, as for a local engine).
    assert.equal(r.out, `cloned for the remote extension\n${(await agent.credentials()).user}\n`);
    assert.equal(r.code, 5);
    const sftp = await agent.sftp();
    const names = await new Promise<string[]>((resolve, reject) => sftp.readdir('/workspaces/ext-app', (err, list) => (err ? reject(err) : resolve(list.map((f) => f.filename).sort()))));
    assert.ok(names.includes('README.md') && names.includes('.devcontainer'), names.join(','));
  } finally {
    agent.dispose();
  }

  const down = await runCli(settings, ['down', '--workspace-folder', String(up['workspaceFolder'])], { env });
  assert.equal(down['outcome'], 'success', JSON.stringify(down));
  await assert.rejects(local.call('containerInspect', { params: { id } }), (err: Error & { code?: string }) => err.code === 'not_found');
});

test('extension on a gateway: a wrong token fails the CLI and the API client as unauthenticated; a wrong pin is refused', { timeout: 60_000 }, async () => {
  const bad = { ...settings, remote: { ...settings.remote, token: 'berth_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } };
  await assert.rejects(runCli(bad, ['list'], { env }), (err: Error & { code?: string }) => err.code === 'unauthenticated');
  await assert.rejects(engineApi(bad, env).call('containerList'), (err: Error & { code?: string }) => err.code === 'unauthenticated');
  const pinned = { ...settings, remote: { ...settings.remote, tlsFingerprint: 'ab:'.repeat(31) + 'ab' } };
  await assert.rejects(engineApi(pinned, env).call('containerList'), /not the expected ABAB/);
});
