import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healthArgv, imageHealthcheck } from './health';

test('healthArgv: CMD runs as is, CMD-SHELL through /bin/sh, NONE has none', () => {
  assert.deepEqual(healthArgv(['CMD', 'redis-cli', 'ping']), ['redis-cli', 'ping']);
  assert.deepEqual(healthArgv(['CMD-SHELL', 'pg_isready -U postgres']), ['/bin/sh', '-c', 'pg_isready -U postgres']);
  assert.equal(healthArgv(['NONE']), undefined);
});

test("imageHealthcheck: the image's HEALTHCHECK (nanoseconds) with Docker's defaults", () => {
  assert.equal(imageHealthcheck({}), undefined);
  assert.deepEqual(imageHealthcheck({ Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Retries: 5 } }), {
    test: ['CMD-SHELL', 'true'],
    intervalMs: 2000,
    timeoutMs: 30_000,
    retries: 5,
    startPeriodMs: 0,
    startIntervalMs: 5000,
  });
});
