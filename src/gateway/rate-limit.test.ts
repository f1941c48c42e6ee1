import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthLimiter } from './rate-limit';

test('auth limiter: an address is held back after N failures in the window, until the oldest leaves it; others are free', () => {
  let now = 1_000_000;
  const limiter = new AuthLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.retryAfter('a'), 0);
    limiter.fail('a');
    now += 1000;
  }
  assert.equal(limiter.retryAfter('a'), 57_000);
  assert.equal(limiter.retryAfter('b'), 0);
  now += 57_000;
  assert.equal(limiter.retryAfter('a'), 0, 'the first failure left the window');
  limiter.fail('a');
  assert.ok(limiter.retryAfter('a') > 0, 'two older failures and this one');
});
