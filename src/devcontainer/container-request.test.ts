import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appPorts, parseDevice, parseRunArgs } from './container-request';

test('appPort: numbers on 127.0.0.1, strings as -p takes them', () => {
  assert.deepEqual(appPorts(3000), [{ containerPort: 3000, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 3000 }]);
  assert.deepEqual(appPorts([8080, '9090:90']), [
    { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 },
    { containerPort: 90, protocol: 'tcp', hostIp: '', hostPort: 9090 },
  ]);
  assert.deepEqual(appPorts(undefined), []);
});

test('runArgs: -p/--publish, --network and --network-alias', () => {
  const r = parseRunArgs(['-p', '8000:80', '--publish=127.0.0.1::53/udp', '--network', 'appnet', '--network-alias', 'web']);
  assert.deepEqual(r.request.ports, [
    { containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8000 },
    { containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 0 },
  ]);
  assert.equal(r.request.networkMode, 'appnet');
  assert.deepEqual(r.request.networkAliases, ['web']);
});

test('runArgs: --device in docker run forms; --gpus warned about and skipped with its value', () => {
  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m) } as unknown as Parameters<typeof parseRunArgs>[1];
  const r = parseRunArgs(['--device', '/dev/fuse', '--device', '/dev/kvm:rw', '--device', '/dev/sda:/dev/xvda:r', '--gpus', 'all', '--init'], logger);
  assert.deepEqual(r.request.devices, [{ pathOnHost: '/dev/fuse' }, { pathOnHost: '/dev/kvm', permissions: 'rw' }, { pathOnHost: '/dev/sda', pathInContainer: '/dev/xvda', permissions: 'r' }]);
  assert.equal(r.request.init, true, 'the value of --gpus is not taken for a flag');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /--gpus all: .*no GPU/);
  assert.throws(() => parseDevice('/dev/a:/dev/b:rx'), /permissions/);
  assert.throws(() => parseDevice(':/dev/b'), /invalid device/);
});
