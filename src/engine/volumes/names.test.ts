import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anonymousVolumeName, validateVolumeName } from './names';

test('volume names follow Docker: [a-zA-Z0-9][a-zA-Z0-9_.-]+', () => {
  for (const ok of ['ab', 'my-vol', 'my_vol.1', 'A1', '0-0', 'x'.repeat(200)]) assert.equal(validateVolumeName(ok), ok);
  for (const bad of ['', 'a', '-ab', '.ab', '_ab', 'a/b', '../x', 'a b', 'a:b', '/abs', 'ü-x', 'a\0b']) {
    assert.throws(() => validateVolumeName(bad), /includes invalid characters for a local volume name/, bad);
  }
});

test('anonymous volume names are 64 hex characters and valid names', () => {
  const a = anonymousVolumeName();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, anonymousVolumeName());
  assert.equal(validateVolumeName(a), a);
});
