import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '../../common/log';
import { credentialsFromConfig, parseChallenge } from './auth';
import { RegistryTransport } from './transport';

describe('registry auth', () => {
  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.deepEqual(parseChallenge('bearer realm=http://x/token, service=svc'), { scheme: 'bearer', params: { realm: 'http://x/token', service: 'svc' } });
    assert.equal(parseChallenge('Negotiate abc'), undefined);
    assert.equal(parseChallenge(''), undefined);
  });

  it('reads credentials from a Docker config.json', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-auth-'));
    try {
      const file = path.join(dir, 'config.json');
      await writeFile(
        file,
        JSON.stringify({
          auths: {
            'registry.example.com': { auth: Buffer.from('alice:s3:cret').toString('base64') },
            'https://index.docker.io/v1/': { auth: Buffer.from('bob:pw').toString('base64') },
            'http://127.0.0.1:5000': { username: 'carol', password: 'x' },
          },
        }),
      );
      assert.deepEqual(await credentialsFromConfig(file, 'registry.example.com'), { username: 'alice', password: 's3:cret' });
      assert.deepEqual(await credentialsFromConfig(file, 'docker.io'), { username: 'bob', password: 'pw' });
      assert.deepEqual(await credentialsFromConfig(file, '127.0.0.1:5000'), { username: 'carol', password: 'x' });
      assert.equal(await credentialsFromConfig(file, 'other.example.com'), undefined);
      assert.equal(await credentialsFromConfig(path.join(dir, 'missing.json'), 'x'), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uses plain HTTP only for insecure registries', () => {
    const logger = createLogger({ write: () => undefined });
    const t = new RegistryTransport({ logger });
    assert.equal(t.baseUrl('127.0.0.1:5000'), 'http://127.0.0.1:5000');
    assert.equal(t.baseUrl('localhost'), 'http://localhost');
    assert.equal(t.baseUrl('registry.example.com'), 'https://registry.example.com');
    assert.equal(t.baseUrl('docker.io'), 'https://registry-1.docker.io');
    const custom = new RegistryTransport({ logger, insecureRegistries: ['10.0.0.5:5000'] });
    assert.equal(custom.baseUrl('10.0.0.5:5000'), 'http://10.0.0.5:5000');
    assert.equal(custom.baseUrl('10.0.0.5:6000'), 'https://10.0.0.5:6000');
    assert.equal(custom.baseUrl('127.0.0.1:5000'), 'https://127.0.0.1:5000');
  });
});
