import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors';
import { parseDuration } from './duration';
import { isLoopback, parseListen } from './listen';
import { parseUpRequest } from './up-request';

test('listen addresses, loopback, durations', () => {
  assert.deepEqual(parseListen('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen(':443'), { host: '0.0.0.0', port: 443 });
  assert.throws(() => parseListen('8443'), (e: unknown) => BerthError.is(e, 'invalid_argument'));
  assert.throws(() => parseListen('h:70000'), (e: unknown) => BerthError.is(e, 'invalid_argument'));
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.org']) assert.equal(isLoopback(h), false, h);
  assert.equal(parseDuration('90s', 'x'), 90_000);
  assert.equal(parseDuration('30m', 'x'), 1_800_000);
  assert.equal(parseDuration('2h', 'x'), 7_200_000);
  assert.equal(parseDuration('7d', 'x'), 604_800_000);
  assert.equal(parseDuration('250ms', 'x'), 250);
  assert.equal(parseDuration('0', 'x'), 0);
  assert.throws(() => parseDuration('soon', '--expires'), /--expires: expected a duration/);
});

test('up requests through the gateway: absolute folders, a clone or a folder, typed fields', () => {
  assert.deepEqual(parseUpRequest({ workspaceFolder: '/srv/app', skipPostCreate: true, mounts: ['type=volume,source=x,target=/x'] }), {
    workspaceFolder: '/srv/app',
    skipPostCreate: true,
    mounts: ['type=volume,source=x,target=/x'],
  });
  assert.deepEqual(parseUpRequest({ clone: { url: 'https://example.org/r.git', branch: 'dev' } }), { clone: { url: 'https://example.org/r.git', branch: 'dev' } });
  for (const bad of [{}, { workspaceFolder: 'relative' }, { workspaceFolder: '/a', clone: { url: 'u' } }, { clone: {} }, { workspaceFolder: '/a', mounts: 'x' }, []]) {
    assert.throws(() => parseUpRequest(bad), (e: unknown) => BerthError.is(e, 'invalid_argument'), JSON.stringify(bad));
  }
});
