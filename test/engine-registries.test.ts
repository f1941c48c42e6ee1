/**
 * berthd's registry settings, end to end: credentials from a Docker
 * config.json given with --registry-auth (a registry behind htpasswd), and
 * plain HTTP to a registry off loopback only with --insecure-registry.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runBerth } from './support/cli';
import { startRegistry, type Registry } from './support/registry';
import { ensureTestImages } from './support/test-images';

let dir = '';
const registries: Registry[] = [];
const sockets: string[] = [];

/** Starts a berthd of its own with `flags`; answers its socket. */
async function engine(name: string, flags: readonly string[]): Promise<string> {
  const socket = path.join(dir, name, 'berth.sock');
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, name, 'data'), '--socket', socket, ...flags]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  sockets.push(socket);
  return socket;
}

/** The first IPv4 address of this host that is not loopback. */
function hostAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    const found = list?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-engine-reg-'));
});

after(async () => {
  for (const socket of sockets) await runBerth(['engine', 'stop', '--socket', socket]);
  for (const r of registries) await r.stop();
  await rm(dir, { recursive: true, force: true });
});

test('--registry-auth: berthd answers a Basic challenge with credentials from a Docker config.json', async () => {
  const registry = await startRegistry({ auth: 'basic' });
  registries.push(registry);
  const images = await ensureTestImages(registry);
  const creds = registry.credentials;
  assert.ok(creds);
  const config = path.join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } } }), { mode: 0o600 });

  const without = await engine('no-auth', ['--registry-auth', path.join(dir, 'missing.json')]);
  const refused = await runBerth(['pull', images.latest, '--socket', without]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /unauthorized/);

  const withAuth = await engine('auth', ['--registry-auth', config]);
  const pulled = await runBerth(['pull', images.latest, '--socket', withAuth]);
  assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
});

test('--insecure-registry: plain HTTP off loopback only when asked', async (t) => {
  const address = hostAddress();
  if (!address) return t.skip('this host has no non-loopback IPv4 address');
  const registry = await startRegistry({ bindAddress: address });
  registries.push(registry);
  const images = await ensureTestImages(registry);
  assert.ok(images.latest.startsWith(`${address}:`));

  const strict = await engine('strict', []);
  const refused = await runBerth(['pull', images.latest, '--socket', strict]);
  assert.notEqual(refused.code, 0, 'HTTPS is required off loopback');
  assert.match(refused.stdout, /--insecure-registry/, 'the error says how to allow plain HTTP');

  const lenient = await engine('insecure', ['--insecure-registry', registry.host]);
  const pulled = await runBerth(['pull', images.latest, '--socket', lenient]);
  assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
});
