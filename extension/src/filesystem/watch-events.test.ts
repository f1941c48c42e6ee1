import assert from 'node:assert/strict';
import { test } from 'node:test';
import { excludesFromGlobs, parseWatchEvent, watchRequestLine } from './watch-events';

test('watch events: changes, renames, ready and errors parse; noise does not', () => {
  assert.deepEqual(parseWatchEvent('{"type":"change","path":"/w/a.txt"}'), { type: 'change', path: '/w/a.txt' });
  assert.deepEqual(parseWatchEvent('{"type":"rename","path":"/w/b"}'), { type: 'rename', path: '/w/b' });
  assert.deepEqual(parseWatchEvent('{"type":"ready","path":"/w"}'), { type: 'ready', path: '/w' });
  assert.deepEqual(parseWatchEvent('{"type":"error","message":"ENOENT"}'), { type: 'error', message: 'ENOENT' });
  assert.equal(parseWatchEvent('{"type":"change"}'), undefined);
  assert.equal(parseWatchEvent('not json'), undefined);
  assert.equal(watchRequestLine({ path: '/w', recursive: true, exclude: ['.git'] }), '{"path":"/w","recursive":true,"exclude":[".git"]}\n');
});

test('watch events: files.watcherExclude globs become folder names', () => {
  assert.deepEqual(excludesFromGlobs({ '**/.git/objects/**': true, '**/node_modules/**': true, '**/.hg/store/**': false, '**/dist': true }), ['node_modules', 'dist']);
});
