import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../common/errors';
import { safeArchiveName } from './archive-extract';

describe('safeArchiveName', () => {
  it('canonicalizes harmless names', () => {
    assert.equal(safeArchiveName('./manifest.json'), 'manifest.json');
    assert.equal(safeArchiveName('blobs/sha256/'), 'blobs/sha256');
    assert.equal(safeArchiveName('a/./b'), 'a/b');
    assert.equal(safeArchiveName('./'), '');
  });
  it('refuses absolute names and traversal', () => {
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'blobs/../../x', 'a/..']) {
      assert.throws(() => safeArchiveName(bad), (e: unknown) => BerthError.is(e, 'invalid_argument'), bad);
    }
  });
});
