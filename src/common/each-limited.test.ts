import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { eachLimited } from './each-limited';

test('eachLimited: at most `limit` at once, every item once; after a failure nothing new starts and the first error comes once the running ones ended', async () => {
  let running = 0;
  let most = 0;
  const seen: number[] = [];
  await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    running++;
    most = Math.max(most, running);
    await sleep(5);
    seen.push(n);
    running--;
  });
  assert.equal(most, 3);
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);

  const started: number[] = [];
  const ended: number[] = [];
  await assert.rejects(
    eachLimited([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error('one failed');
      await sleep(20);
      ended.push(n);
    }),
    /one failed/,
  );
  assert.deepEqual(started, [1, 2], 'nothing started after the failure');
  assert.deepEqual(ended, [2], 'the running one ended before the error came');
});
