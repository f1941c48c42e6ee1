/**
 * Registry authentication against real registries: htpasswd Basic auth and
 * the Bearer token flow (the registry's own token auth with a test token
 * server), credentials from a Docker config.json, and redirects to another
 * origin that must not receive the credentials.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BerthError } from '../../src/common/errors';
import { credentialsFromConfigFile } from '../../src/engine/registry/auth';
import { startRegistry, type Registry } from '../support/registry';
import { ensureTestImages } from '../support/test-images';
import { imageStoreEnv, type ImageStoreEnv } from './env';
import { RegistryProxy } from './registry-proxy';

async function dockerConfig(dir: string, host: string, username: string, password: string): Promise<string> {
  const file = path.join(dir, `config-${username}.json`);
  await writeFile(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }));
  return file;
}

describe('registry authentication', { timeout: 240_000 }, () => {
  let dir = '';
  const registries: Registry[] = [];
  const envs: ImageStoreEnv[] = [];
  const env = async (config?: string): Promise<ImageStoreEnv> => {
    const e = await imageStoreEnv(config ? { credentials: credentialsFromConfigFile(config) } : {});
    envs.push(e);
    return e;
  };
  const unauthorized = (err: unknown): boolean => BerthError.is(err, 'failed_precondition') && /unauthorized/.test(err.message);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-auth-'));
  });
  after(async () => {
    for (const r of registries) await r.stop();
    for (const e of envs) await e.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a Basic challenge with credentials from a Docker config.json', async () => {
    const registry = await startRegistry({ auth: 'basic' });
    registries.push(registry);
    const creds = registry.credentials;
    assert.ok(creds);
    await ensureTestImages(registry);
    const ref = `${registry.host}/busybox:latest`;
    await assert.rejects((await env()).images.pull(ref), (err: unknown) => unauthorized(err) && (err as Error).message.includes(`${registry.host}/busybox`));
    const wrong = await dockerConfig(dir, registry.host, creds.username, 'wrong');
    await assert.rejects((await env(wrong)).images.pull(ref), unauthorized);
    const e = await env(await dockerConfig(dir, registry.host, creds.username, creds.password));
    const image = await e.images.pull(ref);
    assert.equal(image.layers.length, 3);
    await e.images.tag(ref, `${registry.host}/pushed/busybox:basic`);
    await e.images.push(`${registry.host}/pushed/busybox:basic`);
    assert.equal((await (await env(await dockerConfig(dir, registry.host, creds.username, creds.password))).images.pull(`${registry.host}/pushed/busybox:basic`)).id, image.id);
  });

  it('follows the Bearer token flow, asking for the scopes it needs', async () => {
    const registry = await startRegistry({ auth: 'token' });
    registries.push(registry);
    const { credentials: creds, readOnlyCredentials: reader, tokenServer } = registry;
    assert.ok(creds && reader && tokenServer);
    await ensureTestImages(registry);
    const ref = `${registry.host}/busybox:latest`;
    await assert.rejects((await env()).images.pull(ref), unauthorized);
    const readOnly = await env(await dockerConfig(dir, registry.host, reader.username, reader.password));
    const image = await readOnly.images.pull(ref);
    assert.ok(tokenServer.requests.some((r) => r.account === reader.username && r.scopes.includes('repository:busybox:pull') && r.status === 200));
    await readOnly.images.tag(ref, `${registry.host}/pushed/busybox:token`);
    await assert.rejects(readOnly.images.push(`${registry.host}/pushed/busybox:token`), (err: unknown) => BerthError.is(err, 'failed_precondition'));
    const writer = await env(await dockerConfig(dir, registry.host, creds.username, creds.password));
    await writer.images.pull(ref);
    await writer.images.tag(ref, `${registry.host}/pushed/busybox:token`);
    await writer.images.push(`${registry.host}/pushed/busybox:token`);
    assert.ok(tokenServer.requests.some((r) => r.account === creds.username && r.scopes.includes('repository:pushed/busybox:pull,push')));
    assert.equal((await readOnly.images.pull(`${registry.host}/pushed/busybox:token`)).id, image.id);
  });

  it('does not send credentials along a redirect to another origin', async () => {
    const registry = await startRegistry();
    registries.push(registry);
    await ensureTestImages(registry);
    const proxy = await new RegistryProxy({ upstream: registry.url, auth: 'bearer', username: 'u', password: 'p' }).start();
    try {
      proxy.redirectBlobs = true;
      const e = await env(await dockerConfig(dir, proxy.host, 'u', 'p'));
      const image = await e.images.pull(`${proxy.host}/busybox:latest`);
      assert.equal(image.layers.length, 3);
      const direct = proxy.requests.filter((r) => r.url.startsWith('/direct/'));
      assert.equal(direct.length, 4, 'config and layers came from the other origin');
      for (const r of direct) assert.equal(r.authorization, undefined, `${r.url} got no credentials`);
      const redirected = proxy.requests.filter((r) => r.status === 307);
      assert.ok(redirected.length === 4 && redirected.every((r) => r.authorization?.startsWith('Bearer ')));
      assert.ok(proxy.tokenRequests.every((t) => t.authorization === `Basic ${Buffer.from('u:p').toString('base64')}`));
    } finally {
      await proxy.stop();
    }
  });
});
