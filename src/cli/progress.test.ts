import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProgressLine, progressBar, ProgressRenderer } from './progress';

test('progress bar', () => {
  assert.equal(progressBar(0, 100, 10), '[          ] 0B/100B');
  assert.equal(progressBar(50_000, 100_000, 10), '[====>     ] 50.0kB/100.0kB');
  assert.equal(progressBar(2_000_000, 2_000_000, 10), '[==========] 2.00MB/2.00MB');
  assert.equal(formatProgressLine({ id: 'abc', status: 'Pull complete' }), 'abc: Pull complete');
});

test('without a terminal only status changes are printed', () => {
  const lines: string[] = [];
  const r = new ProgressRenderer({ write: (t) => lines.push(t), isTTY: false, format: 'text' });
  r.update({ id: 'a', status: 'Downloading', current: 1, total: 10 });
  r.update({ id: 'a', status: 'Downloading', current: 5, total: 10 });
  r.update({ id: 'a', status: 'Pull complete' });
  assert.deepEqual(lines, ['a: Downloading\n', 'a: Pull complete\n']);
});

test('on a terminal lines are redrawn in place; json format writes JSON lines', () => {
  let out = '';
  const r = new ProgressRenderer({ write: (t) => (out += t), isTTY: true, format: 'text', columns: 120 });
  r.update({ id: 'a', status: 'Downloading', current: 1, total: 10 });
  r.update({ id: 'b', status: 'Waiting' });
  r.update({ id: 'a', status: 'Pull complete' });
  assert.ok(out.includes('\x1b[2A'));
  assert.ok(out.endsWith('\x1b[2Ka: Pull complete\n\x1b[2Kb: Waiting\n'));
  const json: string[] = [];
  new ProgressRenderer({ write: (t) => json.push(t), isTTY: false, format: 'json' }).update({ id: 'a', status: 'Extracting', current: 1, total: 2 });
  assert.deepEqual(JSON.parse(json[0] ?? ''), { type: 'progress', id: 'a', status: 'Extracting', current: 1, total: 2 });
});
