import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { timeoutSignal } from './abort';

const gc = (globalThis as { gc?: () => void }).gc;

test('timeoutSignal fires after its time, also after a garbage collection', async () => {
  let fired = false;
  (() => timeoutSignal(80).addEventListener('abort', () => (fired = true)))();
  gc?.();
  // Pressure the young generation too, in case gc is not exposed.
  for (let i = 0; i < 200; i++) new Array(10_000).fill(i);
  await sleep(200);
  assert.equal(fired, true);
});

test('timeoutSignal follows its parent, and its reason names the timeout', async () => {
  const parent = new AbortController();
  const s = timeoutSignal(10_000, parent.signal);
  parent.abort(new Error('gone'));
  assert.equal(s.aborted, true);
  assert.equal((s.reason as Error).message, 'gone');
  const t = timeoutSignal(10);
  await sleep(50);
  assert.equal((t.reason as DOMException).name, 'TimeoutError');
  const pre = new AbortController();
  pre.abort();
  assert.equal(timeoutSignal(10_000, pre.signal).aborted, true);
});
