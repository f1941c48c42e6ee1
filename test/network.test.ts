/**
 * Networking end to end, as root: a real registry (on every address, so a
 * container can reach it on its gateway), a real berthd, real runc/crun,
 * the real docker CLI. Egress through NAT, user networks by name and
 * alias, published ports from loopback and the host's address, clashes,
 * random ports, released on stop, no leaks after 50 cycles, and cleanup
 * after a SIGKILL of berthd.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ApiClient } from '../src/api/client';
import { runChecked } from '../src/common/process/spawn';
import { enginePrefix } from '../src/engine/network/manager';
import { runBerth, singleJson } from './support/cli';
import { dockerSocketOf, runDocker, type DockerRun } from './support/docker-cli';
import { netState } from './support/net-state';
import { startRegistry, type Registry } from './support/registry';
import { ensureTestImages } from './support/test-images';

const exec = promisify(execFile);
let registry: Registry;
let registryPort = 0;
let image = '';
let dir = '';
let socket = '';
let client: ApiClient;

const dataRoot = (): string => path.join(dir, 'data');
const execRoot = (): string => path.join(dir, 'run');

async function startEngine(): Promise<number> {
  const r = await runBerth(['engine', 'start', '--data-root', dataRoot(), '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return singleJson(r.stdout)['pid'] as number;
}

const docker = (args: readonly string[]): Promise<DockerRun> => runDocker(dockerSocketOf(socket), args, { timeoutMs: 60_000 });

async function dockerOk(args: readonly string[]): Promise<string> {
  const r = await docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The host's first non-loopback IPv4 address that is not one of our bridges. */
function hostAddress(): string {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (name.startsWith('bb-') || name === 'lo') continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('no host address');
}

/** An HTTP GET with a plain socket (answers the body, or throws). */
async function httpGet(host: string, port: number, file: string): Promise<string> {
  const res = await fetch(`http://${host}:${port}${file}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  return (await res.text()).trim();
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 20000);
    if (await portIsFree(p)) return p;
  }
}

/** berth-proxy processes (one per published TCP port) whose command line has `match`. */
async function proxies(match: string): Promise<number> {
  const r = await exec('pgrep', ['-f', '-c', `berth-proxy ${match}`]).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
  return Number(r.stdout.trim() || '0');
}

/** busybox httpd serving /etc (so /hostname answers the container's hostname). */
const HTTPD = ['httpd', '-f', '-p', '80', '-h', '/etc'];

before(async () => {
  registry = await startRegistry({ bindAddress: '0.0.0.0' });
  registryPort = Number(registry.host.split(':')[1]);
  const images = await ensureTestImages(registry);
  image = images.latest.replace(/^0\.0\.0\.0:/, '127.0.0.1:');
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-net-'));
  socket = path.join(execRoot(), 'berth.sock');
  client = new ApiClient({ socketPath: socket });
  await startEngine();
  const r = await runBerth(['pull', image, '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

after(async () => {
  if (client) {
    // A test may have left the engine stopped.
    if (!(await client.call('ping').catch(() => undefined))) await startEngine().catch(() => undefined);
    const all = await client.call('containerList', { query: { all: 'true' } }).catch(() => []);
    for (const c of all) await client.call('containerRemove', { params: { id: c.id }, query: { force: 'true' } }).catch(() => undefined);
    for (const n of await client.call('networkList').catch(() => [])) if (n.name !== 'bridge') await client.call('networkRemove', { params: { name: n.id } }).catch(() => undefined);
    await runBerth(['engine', 'stop', '--socket', socket]);
  }
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('egress: a container reaches the host registry on its gateway through NAT; resolv.conf, hosts and hostname are its own', async () => {
  const out = await dockerOk(['run', '--rm', '--name', 'egress', image, 'sh', '-c', `gw=$(ip route | awk '/^default/{print $3}'); echo gw=$gw; wget -q -O- http://$gw:${registryPort}/v2/_catalog; echo; cat /etc/resolv.conf; echo hostname=$(cat /etc/hostname); grep -c "$(hostname)" /etc/hosts`]);
  const gw = /^gw=(\S+)$/m.exec(out)?.[1] ?? '';
  const bridge = (await client.call('networkList')).find((n) => n.name === 'bridge');
  assert.equal(gw, bridge?.gateway, out);
  assert.match(out, /"repositories":\["busybox"\]/, out);
  assert.doesNotMatch(out, /^nameserver 127\./m);
  assert.match(out, /^nameserver /m);
  assert.match(out, /^hostname=[0-9a-f]{12}$/m);
  // The MASQUERADE rule for the bridge's subnet is in our own chain.
  const rules = (await exec('iptables', ['-t', 'nat', '-S', `${enginePrefix(dataRoot())}-POST`])).stdout;
  assert.match(rules, new RegExp(`-s ${bridge?.subnet ?? '?'} ! -o ${bridge?.bridge ?? '?'} -j MASQUERADE`));
});

test('a user network: containers reach each other by name and alias; the default bridge does not resolve them; inspect shows the address', async () => {
  await dockerOk(['network', 'create', 'appnet']);
  assert.match(await dockerOk(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']), /^appnet bridge$/m);
  const id = await dockerOk(['run', '-d', '--name', 'srv', '--network', 'appnet', '--network-alias', 'svc', image, ...HTTPD]);
  const ip = await dockerOk(['inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'srv']);
  const subnet = (await client.call('networkInspect', { params: { name: 'appnet' } })).subnet;
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(subnet.split('.').slice(0, 3).join('.'), ip.split('.').slice(0, 3).join('.'));
  const byName = await dockerOk(['run', '--rm', '--network', 'appnet', image, 'sh', '-c', 'wget -q -O- http://srv/hostname; wget -q -O- http://svc/hostname']);
  assert.deepEqual(byName.split('\n'), [id.slice(0, 12), id.slice(0, 12)]);
  const fromBridge = await docker(['run', '--rm', image, 'wget', '-q', '-T', '2', '-O-', 'http://srv/hostname']);
  assert.notEqual(fromBridge.code, 0, 'the default bridge has no names');
  // connect: a container on the default bridge joins appnet and then finds srv by name.
  await dockerOk(['run', '-d', '--name', 'late', image, 'sleep', '600']);
  await dockerOk(['network', 'connect', '--alias', 'latecomer', 'appnet', 'late']);
  const inspected = JSON.parse(await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'late'])) as Record<string, { IPAddress: string }>;
  assert.deepEqual(Object.keys(inspected).sort(), ['appnet', 'bridge']);
  const seen = await dockerOk(['run', '--rm', '--network', 'appnet', image, 'sh', '-c', 'grep -w latecomer /etc/hosts; grep -w srv /etc/hosts']);
  assert.match(seen, new RegExp(`^${(inspected['appnet']?.IPAddress ?? '?').replace(/\./g, '\\.')}\\s.*\\blatecomer\\b`, 'm'));
  assert.match(seen, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+srv svc ${id.slice(0, 12)}$`, 'm'));
  const hosts = (await dockerOk(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'appnet'])).split(' ').filter(Boolean).sort();
  assert.deepEqual(hosts, ['late', 'srv']);
  // Two networks at create (API 1.44 EndpointsConfig, as compose sends them) and --add-host with host-gateway.
  await dockerOk(['network', 'create', 'othernet']);
  const other = await client.call('networkInspect', { params: { name: 'othernet' } });
  const multi = await dockerOk(['run', '--rm', '--network', 'appnet', '--network', 'othernet', '--add-host', 'gw:host-gateway', image, 'sh', '-c', 'ls /sys/class/net | tr "\n" " "; echo; grep -w gw /etc/hosts; wget -q -O- http://srv/hostname']);
  const [ifaces = '', gwLine = '', srvHost = ''] = multi.split('\n');
  assert.equal(ifaces.trim(), 'eth0 eth1 lo');
  assert.equal(gwLine, `${(await client.call('networkInspect', { params: { name: 'appnet' } })).gateway}\tgw`);
  assert.equal(srvHost, id.slice(0, 12));
  await dockerOk(['network', 'rm', 'othernet']);
  assert.ok(other.subnet !== subnet, 'networks get distinct subnets');
  assert.match((await docker(['network', 'rm', 'appnet'])).stderr, /has containers attached/);
  await dockerOk(['network', 'disconnect', 'appnet', 'late']);
  await dockerOk(['rm', '-f', 'srv', 'late']);
  const bridgeName = (await client.call('networkList')).find((n) => n.name === 'appnet')?.bridge ?? '?';
  await dockerOk(['network', 'rm', 'appnet']);
  assert.doesNotMatch((await exec('ip', ['-br', 'link'])).stdout, new RegExp(`^${bridgeName}\\s`, 'm'), 'its bridge is gone');
});

test('-p: reachable from 127.0.0.1 and from the host address; released on stop, bound again on start', async () => {
  const port = await freePort();
  await dockerOk(['run', '-d', '--name', 'web', '-p', `${port}:80`, image, ...HTTPD]);
  const id = await dockerOk(['inspect', '-f', '{{.Id}}', 'web']);
  assert.equal(await httpGet('127.0.0.1', port, '/hostname'), id.slice(0, 12));
  assert.equal(await httpGet(hostAddress(), port, '/hostname'), id.slice(0, 12));
  assert.equal(await dockerOk(['port', 'web']), `80/tcp -> 0.0.0.0:${port}`);
  assert.match(await dockerOk(['ps', '--format', '{{.Ports}}', '--filter', 'name=web']), new RegExp(`0\\.0\\.0\\.0:${port}->80/tcp`));
  await dockerOk(['stop', '-t', '1', 'web']);
  assert.equal(await portIsFree(port), true, 'released on stop');
  await dockerOk(['start', 'web']);
  assert.equal(await httpGet('127.0.0.1', port, '/hostname'), id.slice(0, 12));
  await dockerOk(['rm', '-f', 'web']);
  assert.equal(await portIsFree(port), true, 'released on rm');
});

test('-p on a port in use: a clear error naming the port; the container does not start', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const r = await docker(['run', '--rm', '-p', `${port}:80`, image, 'true']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, new RegExp(`port ${port} is already in use`));
    const { id } = await client.call('containerCreate', { body: { image, cmd: ['true'], ports: [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: port }] } });
    await assert.rejects(client.call('containerStart', { params: { id } }), (err: Error) => new RegExp(`port ${port} is already in use`).test(err.message));
    assert.equal((await client.call('containerInspect', { params: { id } })).state.status, 'created');
    await client.call('containerRemove', { params: { id }, query: { force: 'true' } });
  } finally {
    blocker.close();
  }
});

/** A static UDP echo server (busybox has none), compiled here and bind-mounted into a container. */
async function udpEcho(): Promise<string> {
  const src = path.join(dir, 'udp-echo.c');
  await writeFile(
    src,
    `#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
int main(int c, char **v) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(v[1])) };
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) return 1;
  for (;;) {
    char b[2048]; struct sockaddr_in f; socklen_t l = sizeof f;
    ssize_t n = recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&f, &l);
    if (n > 0) sendto(s, b, n, 0, (struct sockaddr *)&f, l);
  }
  (void)c;
}
`,
  );
  const bin = path.join(dir, 'udp-echo');
  await runChecked(['gcc', '-static', '-O2', '-o', bin, src]);
  return bin;
}

test('random host ports (-p 80, -P, a host range) and UDP', async () => {
  const echo = await udpEcho();
  await dockerOk(['run', '-d', '--name', 'rnd', '-p', '80', '-p', '127.0.0.1::81/udp', '-v', `${echo}:/udp-echo:ro`, image, 'sh', '-c', 'httpd -p 80 -h /etc; exec /udp-echo 81']);
  const ports = JSON.parse(await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'rnd'])) as Record<string, { HostIp: string; HostPort: string }[]>;
  const tcp = Number(ports['80/tcp']?.[0]?.HostPort);
  const udp = Number(ports['81/udp']?.[0]?.HostPort);
  assert.ok(tcp > 0 && udp > 0, JSON.stringify(ports));
  assert.equal(ports['81/udp']?.[0]?.HostIp, '127.0.0.1');
  assert.match(await httpGet('127.0.0.1', tcp, '/hostname'), /^[0-9a-f]{12}$/);
  const dgram = await import('node:dgram');
  const sock = dgram.createSocket('udp4');
  const reply = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
  const send = setInterval(() => sock.send('ping-udp', udp, '127.0.0.1'), 200);
  try {
    assert.equal(await Promise.race([reply, new Promise<string>((r) => setTimeout(() => r('timeout'), 5000))]), 'ping-udp');
  } finally {
    clearInterval(send);
    sock.close();
  }
  await dockerOk(['rm', '-f', 'rnd']);
  const start = await freePort();
  await dockerOk(['run', '-d', '--name', 'rng', '-p', `${start}-${start + 5}:80`, image, ...HTTPD]);
  assert.equal(await dockerOk(['port', 'rng', '80']), `0.0.0.0:${start}`);
  await dockerOk(['run', '-d', '--name', 'all', '--expose', '80', '-P', image, ...HTTPD]);
  const all = Number((await dockerOk(['port', 'all', '80'])).split(':').pop());
  assert.match(await httpGet('127.0.0.1', all, '/hostname'), /^[0-9a-f]{12}$/);
  await dockerOk(['rm', '-f', 'rng', 'all']);
});

test('modes: host shares the host network, none has loopback only, container: joins another', async () => {
  const hostIfaces = await dockerOk(['run', '--rm', '--network', 'host', image, 'sh', '-c', 'ls /sys/class/net']);
  assert.match(hostIfaces, /^eth0$/m);
  const none = await dockerOk(['run', '--rm', '--network', 'none', image, 'sh', '-c', 'ls /sys/class/net']);
  assert.equal(none, 'lo');
  const id = await dockerOk(['run', '-d', '--name', 'base', image, ...HTTPD]);
  const joined = await dockerOk(['run', '--rm', '--network', 'container:base', image, 'wget', '-q', '-O-', 'http://127.0.0.1/hostname']);
  assert.equal(joined, id.slice(0, 12));
  await dockerOk(['rm', '-f', 'base']);
});

test('no leaks after 50 create/start/remove cycles (veths, namespaces, rules, addresses)', async () => {
  const before = await netState(dataRoot(), execRoot());
  const proxiesBefore = await proxies('0.0.0.0 ');
  for (let i = 0; i < 50; i++) {
    const { id } = await client.call('containerCreate', { body: { image, cmd: ['sleep', '60'], ports: [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 0 }] } });
    await client.call('containerStart', { params: { id } });
    if (i === 0) {
      const during = await netState(dataRoot(), execRoot());
      assert.equal(during.veths, before.veths + 1);
      assert.equal(during.netns, before.netns + 1);
      assert.equal(await proxies('0.0.0.0 '), proxiesBefore + 1, 'one berth-proxy for the published port');
    }
    await client.call('containerRemove', { params: { id }, query: { force: 'true' } });
  }
  assert.deepEqual(await netState(dataRoot(), execRoot()), before);
  assert.equal(await proxies('0.0.0.0 '), proxiesBefore, 'no berth-proxy left');
});

test('SIGKILL of berthd: a running container keeps its port; leaked veths and namespaces go at restart; SIGTERM removes our chains and idle bridges', async () => {
  const port = await freePort();
  await dockerOk(['run', '-d', '--name', 'survivor', '-p', `${port}:80`, image, ...HTTPD]);
  await dockerOk(['run', '-d', '--name', 'victim', image, 'sleep', '600']);
  const victim = await client.call('containerInspect', { params: { id: 'victim' } });
  const base = await netState(dataRoot(), execRoot());
  const { pid } = await client.call('ping');
  assert.equal(await proxies(`0.0.0.0 ${port} `), 1);
  process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await proxies(`0.0.0.0 ${port} `), 0, 'berth-proxy dies with berthd');
  // While berthd is down: the victim dies, and something leaves a namespace and a veth of ours behind.
  process.kill(victim.state.pid, 'SIGKILL');
  const stray = path.join(execRoot(), 'netns', 'f'.repeat(64));
  await writeFile(stray, '');
  await runChecked(['unshare', `--net=${stray}`, 'true']);
  await runChecked(['ip', 'link', 'add', 'vbleaktest01', 'type', 'veth', 'peer', 'name', 'vbleaktest02']);
  await runChecked(['ip', 'link', 'set', 'vbleaktest01', 'alias', `${enginePrefix(dataRoot())}:${'e'.repeat(64)}`]);
  const leaked = await netState(dataRoot(), execRoot());
  assert.equal(leaked.netns, base.netns + 1);
  assert.equal(leaked.veths, base.veths + 1);
  await startEngine();
  const after = await netState(dataRoot(), execRoot());
  assert.equal(after.netns, base.netns - 1, 'the victim namespace and the stray one are gone');
  assert.equal(after.veths, base.veths - 1, 'the victim veth and the stray one are gone');
  assert.equal(after.rules, base.rules, 'rules re-made, not doubled');
  assert.equal(after.addresses, base.addresses, 'addresses stay with their containers');
  assert.equal((await client.call('containerInspect', { params: { id: 'victim' } })).state.status, 'exited');
  const survivor = await dockerOk(['inspect', '-f', '{{.Id}}', 'survivor']);
  assert.equal(await httpGet('127.0.0.1', port, '/hostname'), survivor.slice(0, 12), 'the port is published again');
  await dockerOk(['rm', '-f', 'survivor', 'victim']);
  // A clean stop removes our chains and the bridges nothing is plugged into.
  const stop = await runBerth(['engine', 'stop', '--socket', socket]);
  assert.equal(stop.code, 0, stop.stderr);
  const stopped = await netState(dataRoot(), execRoot());
  assert.equal(stopped.chains, 0);
  assert.equal(stopped.rules, 0);
  assert.equal(stopped.bridges, 0);
  assert.equal(stopped.veths, 0);
  await startEngine();
  const again = await netState(dataRoot(), execRoot());
  assert.equal(again.chains, 2);
  assert.equal(again.bridges, 1);
});
