import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePublish } from './port-spec';

test('parsePublish: docker run -p forms', () => {
  assert.deepEqual(parsePublish('80'), [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 0 }]);
  assert.deepEqual(parsePublish('8080:80'), [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8080 }]);
  assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ containerPort: 80, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 8080 }]);
  assert.deepEqual(parsePublish('127.0.0.1::80'), [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 }]);
  assert.deepEqual(parsePublish('[::1]:8080:80'), [{ containerPort: 80, protocol: 'tcp', hostIp: '::1', hostPort: 8080 }]);
  assert.deepEqual(
    parsePublish('8000-8001:80-81'),
    [80, 81].map((p, i) => ({ containerPort: p, protocol: 'tcp', hostIp: '', hostPort: 8000 + i })),
  );
  assert.deepEqual(parsePublish('8000-8010:80'), [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8000, hostPortEnd: 8010 }]);
  assert.deepEqual(parsePublish('80-81').map((b) => b.containerPort), [80, 81]);
});

test('parsePublish: errors', () => {
  for (const bad of ['', 'x', '0', '70000', '80/sctp', '8000-8002:80-81', '1:2:3:4', '90-80']) assert.throws(() => parsePublish(bad), /invalid|unsupported|do not match/, bad);
});
