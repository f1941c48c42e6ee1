import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteSize, durationMs, shellWords, text } from './scalars';

test('durationMs: Go durations and bare seconds', () => {
  assert.equal(durationMs('1m30s', 'x'), 90_000);
  assert.equal(durationMs('500ms', 'x'), 500);
  assert.equal(durationMs('1h', 'x'), 3_600_000);
  assert.equal(durationMs(10, 'x'), 10_000);
  assert.equal(durationMs('2.5s', 'x'), 2500);
  assert.throws(() => durationMs('soon', 'svc.interval'), /svc\.interval: invalid duration "soon"/);
});

test('byteSize: units', () => {
  assert.equal(byteSize('64m', 'x'), 64 * 1024 * 1024);
  assert.equal(byteSize('1g', 'x'), 1024 ** 3);
  assert.equal(byteSize('512', 'x'), 512);
  assert.equal(byteSize(100, 'x'), 100);
  assert.throws(() => byteSize('big', 'x'), /invalid size/);
});

test('shellWords: quotes and escapes as a shell splits them', () => {
  assert.deepEqual(shellWords(`sh -c 'echo "hi there"'`, 'x'), ['sh', '-c', 'echo "hi there"']);
  assert.deepEqual(shellWords(`echo "a \\"b\\" \\$c" d\\ e ''`, 'x'), ['echo', 'a "b" $c', 'd e', '']);
  assert.throws(() => shellWords(`echo 'open`, 'svc.command'), /svc\.command: unterminated quote/);
});

test('text: YAML scalars as written', () => {
  assert.equal(text(5432), '5432');
  assert.equal(text(true), 'true');
  assert.equal(text(null), '');
  assert.equal(text({ a: 1 }), '{"a":1}');
});
