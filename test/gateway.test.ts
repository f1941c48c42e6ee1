/**
 * `berth serve` in front of a real berthd: tokens (wrong, expired, revoked,
 * missing are refused), per-user ownership over the API and the WebSockets
 * (agent and terminal), the auth-failure limit (429), TLS off loopback (a
 * veth address of the test's own network namespace; plain HTTP refused
 * there), and idle shutdown.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { run, runChecked } from '../src/common/process/spawn';
import { runBerth, singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { createToken, gatewayRequest, gatewaySocket, startGatewayProcess, type GatewayProcess } from './support/gateway';

let fx: EngineFixture;
let gw: GatewayProcess;
let configDir = '';
let alice = '';
let bob = '';
const tag = randomBytes(3).toString('hex');
const ns = `berth-gw-${tag}`;
const vethHost = `bgh${tag}`;
const vethNs = `bgn${tag}`;
const octet = 16 + (parseInt(tag.slice(0, 2), 16) % 200);
const hostIp = `10.234.${octet}.1`;
const nsIp = `10.234.${octet}.2`;

before(async () => {
  fx = await startEngineFixture('berth-gateway-', { pull: true });
  configDir = path.join(fx.dir, 'etc');
  alice = (await createToken(configDir, 'alice')).token;
  bob = (await createToken(configDir, 'bob')).token;
  gw = await startGatewayProcess(['--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir, '--auth-failures', '4', '--auth-window', '1m']);
  await runChecked(['ip', 'netns', 'add', ns]);
  await runChecked(['ip', 'link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs]);
  await runChecked(['ip', 'link', 'set', vethNs, 'netns', ns]);
  await runChecked(['ip', 'addr', 'add', `${hostIp}/30`, 'dev', vethHost]);
  await runChecked(['ip', 'link', 'set', vethHost, 'up']);
  await runChecked(['ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', vethNs]);
  await runChecked(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', vethNs, 'up']);
});

after(async () => {
  await gw?.stop();
  await run(['ip', 'link', 'del', vethHost]);
  await run(['ip', 'netns', 'del', ns]);
  await fx?.dispose();
});

/** A running container of `token`'s user, made through the gateway (with the agent). */
async function makeContainer(token: string, name: string): Promise<string> {
  const created = await gatewayRequest(gw, 'POST', '/v1/containers', { token, body: { name, image: fx.images.latest, cmd: ['sh', '-c', 'echo hello-from-$HOSTNAME; exec sleep 100000'], hostname: name, networkMode: 'none', agent: true, stopTimeout: 1 } });
  assert.equal(created.status, 200, created.text);
  const id = (created.json() as { id: string }).id;
  const started = await gatewayRequest(gw, 'POST', `/v1/containers/${id}/start`, { token });
  assert.equal(started.status, 200, started.text);
  return id;
}

test('serve: the self-signed certificate is made once, with a fingerprint, and the token file keeps hashes only (0600)', async () => {
  assert.equal(gw.result['selfSigned'], true);
  assert.match(String(gw.fingerprint), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const st = await stat(path.join(configDir, 'tokens.json'));
  assert.equal(st.mode & 0o777, 0o600);
  const text = await import('node:fs/promises').then((f) => f.readFile(path.join(configDir, 'tokens.json'), 'utf8'));
  // The secret is all after the id (base64url: it may hold '_' itself).
  const secret = alice.split('_').slice(2).join('_');
  assert.ok(secret.length >= 20 && !text.includes(secret), 'the secret is not stored');
  const again = await startGatewayProcess(['--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir]);
  assert.equal(again.fingerprint, gw.fingerprint, 'the same certificate the second time');
  await again.stop();
});

test('tokens: wrong, expired, revoked and missing tokens are refused (API and WebSocket); a valid one passes', { timeout: 30_000 }, async () => {
  const expired = (await createToken(configDir, 'carol', ['--expires', '1s'])).token;
  const revoked = await createToken(configDir, 'dave');
  const live = await gatewayRequest(gw, 'GET', '/v1/ping', { token: revoked.token, from: '127.0.0.2' });
  assert.equal(live.status, 200, 'the token works before it is revoked');
  const r = await runBerth(['token', 'revoke', revoked.id, '--config-dir', configDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(singleJson(r.stdout)['state'], 'revoked');
  await new Promise((res) => setTimeout(res, 1100));
  const listed = singleJson((await runBerth(['token', 'list', '--config-dir', configDir])).stdout)['tokens'] as { user: string; state: string; hash?: string }[];
  assert.deepEqual(Object.fromEntries(listed.map((t) => [t.user, t.state])), { alice: 'active', bob: 'active', carol: 'expired', dave: 'revoked' });
  assert.ok(listed.every((t) => t.hash === undefined));

  const cases: [string, string | undefined, RegExp][] = [
    ['wrong', `${alice.slice(0, -4)}AAAA`, /unknown token/],
    ['garbage', 'hello', /not a Berth token/],
    ['expired', expired, /is expired/],
    ['revoked', revoked.token, /is revoked/],
    ['missing', undefined, /a token is required/],
  ];
  for (const [i, [what, token, message]] of cases.entries()) {
    const reply = await gatewayRequest(gw, 'GET', '/v1/containers', { ...(token ? { token } : {}), from: `127.0.0.${10 + i}` });
    assert.equal(reply.status, 401, `${what}: ${reply.text}`);
    assert.match(reply.text, message, what);
  }
  const ws = await gatewaySocket(gw, '/v1/containers/anything/agent', { token: expired, from: '127.0.0.2' });
  assert.equal(ws.status, 401);
  assert.equal((await gatewayRequest(gw, 'GET', '/v1/ping', { token: alice })).status, 200);
  const who = await gatewayRequest(gw, 'GET', '/gw/whoami', { token: bob });
  assert.equal((who.json() as { user: string }).user, 'bob');
});

test('ownership: user A sees and reaches only their containers and volumes (API and WebSockets)', { timeout: 60_000 }, async () => {
  const mine = await makeContainer(alice, `gw-alice-${tag}`);
  // The owner label is set by the gateway, whatever the request says.
  const forged = await gatewayRequest(gw, 'POST', '/v1/containers', { token: bob, body: { name: `gw-bob-${tag}`, image: fx.images.latest, cmd: ['sleep', '1000'], labels: { 'berth.owner': 'alice' }, networkMode: 'none' } });
  assert.equal(forged.status, 200, forged.text);
  const bobs = (forged.json() as { id: string }).id;
  const engineSide = singleJson((await fx.berth(['container', 'inspect', bobs])).stdout) as { request: { labels: Record<string, string> } };
  assert.equal(engineSide.request.labels['berth.owner'], 'bob');

  const ids = async (token: string): Promise<string[]> => ((await gatewayRequest(gw, 'GET', '/v1/containers?all=true', { token })).json() as { id: string }[]).map((c) => c.id);
  assert.deepEqual(await ids(alice), [mine]);
  assert.deepEqual(await ids(bob), [bobs]);
  // Bob asks for Alice's container every way he can: it does not exist for him.
  for (const [method, p] of [
    ['GET', `/v1/containers/${mine}`],
    ['GET', `/v1/containers/gw-alice-${tag}`],
    ['GET', `/v1/containers/${mine}/logs`],
    ['GET', `/v1/containers/${mine}/stats`],
    ['POST', `/v1/containers/${mine}/stop`],
    ['POST', `/v1/containers/${mine}/agent/credentials`],
    ['DELETE', `/v1/containers/${mine}?force=true`],
  ] as const) {
    const reply = await gatewayRequest(gw, method, p, { token: bob });
    assert.equal(reply.status, 404, `${method} ${p}: ${reply.text}`);
  }
  const exec = await gatewayRequest(gw, 'POST', `/v1/containers/${mine}/exec`, { token: bob, body: { cmd: ['id'] } });
  assert.equal(exec.status, 404);
  assert.equal((await gatewaySocket(gw, `/v1/containers/${mine}/agent`, { token: bob })).status, 404);
  assert.equal((await gatewaySocket(gw, `/gw/containers/${mine}/terminal`, { token: bob })).status, 404);
  assert.equal((await gatewayRequest(gw, 'POST', `/gw/containers/${mine}/rebuild`, { token: bob })).status, 404);
  // Shared-engine operations that would reach past one user are refused.
  assert.equal((await gatewayRequest(gw, 'DELETE', `/v1/images/${encodeURIComponent(fx.images.latest)}`, { token: bob })).status, 403);
  assert.equal((await gatewayRequest(gw, 'POST', '/v1/networks', { token: bob, body: { name: 'x' } })).status, 403);

  // Alice reaches hers: logs, exec, the agent's WebSocket (SSH inside) and a terminal.
  const logs = await gatewayRequest(gw, 'GET', `/v1/containers/${mine}/logs`, { token: alice });
  assert.match(logs.text, new RegExp(`hello-from-gw-alice-${tag}`));
  const out = await gatewayRequest(gw, 'POST', `/v1/containers/${mine}/exec`, { token: alice, body: { cmd: ['sh', '-c', 'echo exec-ok'] } });
  assert.match(out.text, /exec-ok/);
  const agent = await gatewaySocket(gw, `/v1/containers/${mine}/agent`, { token: alice });
  assert.equal(agent.status, 101);
  const banner = (await agent.firstMessage)?.toString('utf8') ?? '';
  assert.match(banner, /^SSH-2\.0-/);
  agent.ws?.close();

  // Volumes: made with the owner's label, invisible and unusable to others.
  const vol = await gatewayRequest(gw, 'POST', '/v1/volumes', { token: alice, body: { name: `gw-vol-${tag}` } });
  assert.equal(vol.status, 200, vol.text);
  assert.equal((await gatewayRequest(gw, 'GET', `/v1/volumes/gw-vol-${tag}`, { token: bob })).status, 404);
  assert.equal(((await gatewayRequest(gw, 'GET', '/v1/volumes', { token: bob })).json() as unknown[]).length, 0);
  const steal = await gatewayRequest(gw, 'POST', '/v1/containers', { token: bob, body: { image: fx.images.latest, mounts: [{ type: 'volume', source: `gw-vol-${tag}`, target: '/data' }] } });
  assert.equal(steal.status, 404, steal.text);
  assert.equal((await gatewayRequest(gw, 'POST', '/v1/volumes', { token: bob, body: { name: `gw-vol-${tag}` } })).status, 409);
  assert.equal((await gatewayRequest(gw, 'DELETE', `/v1/volumes/gw-vol-${tag}`, { token: alice })).status, 200);
});

test('rate limit: past the auth failures of an address, it gets 429 (even with a good token); others are not affected', async () => {
  const from = '127.0.0.4';
  for (let i = 0; i < 3; i++) assert.equal((await gatewayRequest(gw, 'GET', '/v1/ping', { token: 'berth_000000000000_nope', from })).status, 401);
  // Requests without a token and for files that do not exist are no failed logins.
  for (let i = 0; i < 6; i++) {
    assert.equal((await gatewayRequest(gw, 'GET', '/v1/ping', { from })).status, 401);
    assert.equal((await gatewayRequest(gw, 'GET', '/favicon.ico', { from })).status, 404);
  }
  assert.equal((await gatewayRequest(gw, 'GET', '/v1/ping', { token: alice, from })).status, 200);
  assert.equal((await gatewayRequest(gw, 'GET', '/v1/ping', { token: 'berth_000000000000_nope', from })).status, 401);
  const blocked = await gatewayRequest(gw, 'GET', '/v1/ping', { token: alice, from });
  assert.equal(blocked.status, 429, blocked.text);
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  const login = await gatewayRequest(gw, 'POST', '/gw/login', { body: { token: alice }, from });
  assert.equal(login.status, 429);
  assert.equal((await gatewaySocket(gw, '/v1/containers/x/agent', { token: alice, from })).status, 429);
  assert.equal((await gatewayRequest(gw, 'GET', '/v1/ping', { token: alice, from: '127.0.0.5' })).status, 200);
});

test('TLS off loopback: plain HTTP is refused on a non-loopback address; HTTPS there serves a client in another network namespace', { timeout: 60_000 }, async () => {
  const plain = await runBerth(['serve', '--no-tls', '--listen', `${hostIp}:0`, '--socket', fx.socket, '--config-dir', configDir]);
  assert.equal(plain.code, 1);
  assert.match(String(singleJson(plain.stdout)['message']), /refusing plain HTTP on 10\.234\.\d+\.1, which is not a loopback address/);
  const any = await runBerth(['serve', '--no-tls', '--listen', `0.0.0.0:0`, '--socket', fx.socket, '--config-dir', configDir]);
  assert.equal(any.code, 1);
  const local = await startGatewayProcess(['--no-tls', '--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir]);
  assert.match(local.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await gatewayRequest(local, 'GET', '/v1/ping', { token: alice })).status, 200);
  await local.stop();

  const remote = await startGatewayProcess(['--listen', `${hostIp}:0`, '--socket', fx.socket, '--config-dir', configDir]);
  try {
    assert.equal(remote.url, `https://${hostIp}:${remote.port}`);
    // The client on the other side of the veth: the CLI in the test's own network namespace.
    const fromNs = (extra: NodeJS.ProcessEnv) =>
      run(['ip', 'netns', 'exec', ns, process.execPath, path.join(__dirname, '..', '..', 'dist', 'berth.js'), 'list'], {
        env: { ...process.env, BERTH_HOST: remote.url, BERTH_TOKEN: alice, ...extra },
      });
    const ok = await fromNs({ BERTH_TLS_FINGERPRINT: remote.fingerprint ?? '' });
    assert.equal(ok.code, 0, ok.stdout.toString() + ok.stderr);
    assert.equal(singleJson(ok.stdout.toString())['outcome'], 'success');
    const pinnedWrong = await fromNs({ BERTH_TLS_FINGERPRINT: 'AA'.repeat(32) });
    assert.equal(pinnedWrong.code, 1);
    assert.match(String(singleJson(pinnedWrong.stdout.toString())['message']), /presented a certificate with SHA-256 fingerprint [0-9A-F]{64}, not the expected/);
    const unpinned = await fromNs({});
    assert.equal(unpinned.code, 1);
    assert.match(String(singleJson(unpinned.stdout.toString())['message']), /self-signed certificate/);
  } finally {
    await remote.stop();
  }
});

test('TLS with the operator\'s certificate: the CLI checks it against --tls-ca (names included)', { timeout: 60_000 }, async () => {
  const d = path.join(fx.dir, 'pki');
  await mkdir(d, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await runChecked(['openssl', 'req', '-x509', ...ec, '-days', '2', '-subj', '/CN=berth-test-ca', '-keyout', path.join(d, 'ca.key'), '-out', path.join(d, 'ca.pem')]);
  await runChecked(['openssl', 'req', ...ec, '-subj', '/CN=gateway', '-keyout', path.join(d, 'srv.key'), '-out', path.join(d, 'srv.csr')]);
  await writeFile(path.join(d, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
  await runChecked(['openssl', 'x509', '-req', '-in', path.join(d, 'srv.csr'), '-CA', path.join(d, 'ca.pem'), '-CAkey', path.join(d, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', path.join(d, 'ext'), '-out', path.join(d, 'srv.pem')]);
  const own = await startGatewayProcess(['--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir, '--tls-cert', path.join(d, 'srv.pem'), '--tls-key', path.join(d, 'srv.key')]);
  try {
    assert.equal(own.result['selfSigned'], false);
    const base = { ...process.env, BERTH_HOST: own.url, BERTH_TOKEN: alice };
    const ok = await runBerth(['list'], { env: { ...base, BERTH_TLS_CA: path.join(d, 'ca.pem') } });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const untrusted = await runBerth(['list'], { env: base });
    assert.equal(untrusted.code, 1);
    assert.match(String(singleJson(untrusted.stdout)['message']), /cannot reach the gateway at https:\/\/127\.0\.0\.1:\d+: unable to verify the first certificate/);
    // The same CA, but the name does not match: refused.
    const wrongName = await runBerth(['list'], { env: { ...base, BERTH_HOST: own.url.replace('127.0.0.1', 'localhost'), BERTH_TLS_CA: path.join(d, 'ca.pem') } });
    assert.equal(wrongName.code, 1);
    assert.match(String(singleJson(wrongName.stdout)['message']), /altnames/i);
  } finally {
    await own.stop();
  }
});

test('idle shutdown: a container with no session is stopped after the timeout; an open terminal or agent session keeps it running until it ends', { timeout: 90_000 }, async () => {
  const idleGw = await startGatewayProcess(['--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir, '--idle-timeout', '4s']);
  const status = async (id: string): Promise<string> => (singleJson((await fx.berth(['container', 'inspect', id])).stdout) as { state: { status: string } }).state.status;
  try {
    const kept = await makeContainer(bob, `gw-kept-${tag}`);
    const agentKept = await makeContainer(bob, `gw-agent-${tag}`);
    const idle = await makeContainer(bob, `gw-idle-${tag}`);
    const term = await gatewaySocket(idleGw, `/gw/containers/${kept}/terminal?cols=80&rows=24`, { token: bob });
    assert.equal(term.status, 101);
    const agent = await gatewaySocket(idleGw, `/v1/containers/${agentKept}/agent`, { token: bob });
    assert.equal(agent.status, 101);
    const deadline = Date.now() + 30_000;
    while ((await status(idle)) === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.equal(await status(idle), 'exited', 'the idle container was stopped');
    assert.equal(await status(kept), 'running', 'the one with a terminal open was not');
    assert.equal(await status(agentKept), 'running', 'nor the one with an agent session');
    assert.match(idleGw.stderr(), /stopping an idle container/);
    term.ws?.close();
    agent.ws?.close();
    // Sessions gone: the clock runs again from their end.
    const until = Date.now() + 30_000;
    while ((await status(agentKept)) === 'running' && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
    assert.equal(await status(agentKept), 'exited');
  } finally {
    await idleGw.stop();
  }
});
