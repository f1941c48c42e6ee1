import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AsyncQueue } from './async-queue';

test('values pushed before and while iterating arrive in order, then the end', async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  setTimeout(() => {
    q.push(2);
    q.end();
  }, 5);
  const seen: number[] = [];
  for await (const v of q) seen.push(v);
  assert.deepEqual(seen, [1, 2]);
});

test('a failure reaches the consumer after the queued values', async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  q.fail(new Error('boom'));
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const v of q) seen.push(v);
  }, /boom/);
  assert.deepEqual(seen, [1]);
});

test('breaking out of the loop cancels the producer', async () => {
  let cancelled = false;
  const q = new AsyncQueue<number>(() => (cancelled = true));
  q.push(1);
  q.push(2);
  for await (const v of q) {
    assert.equal(v, 1);
    break;
  }
  assert.equal(cancelled, true);
});
