import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type Metadata, SnapshotBook } from './metadata';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const add = (book: SnapshotBook, key: string, fail = false): Promise<void> =>
  book.exclusive((meta) => {
    meta.snapshots[key] = SnapshotBook.newRecord(meta, 'active', key, undefined);
    if (fail) throw new Error('failed after changing the draft');
    return Promise.resolve({ result: undefined, save: true });
  });

test('the metadata kept in memory: earlier reads stay as they were, a failed change leaves nothing, another book reads what was saved', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-book-'));
  dirs.push(root);
  const book = new SnapshotBook(root);
  await add(book, 'a');
  const before: Metadata = await book.read();
  await add(book, 'b');
  assert.deepEqual(Object.keys(before.snapshots), ['a'], 'a read made before the change does not see it');
  assert.equal(before.nextId, 2);
  await assert.rejects(add(book, 'c', true), /failed after changing the draft/);
  const now = await book.read();
  assert.deepEqual(Object.keys(now.snapshots).sort(), ['a', 'b']);
  assert.equal(now.nextId, 3, 'the failed change took no id');
  assert.deepEqual(Object.keys((JSON.parse(await readFile(path.join(root, 'metadata.json'), 'utf8')) as Metadata).snapshots).sort(), ['a', 'b']);
  assert.deepEqual(Object.keys((await new SnapshotBook(root).read()).snapshots).sort(), ['a', 'b']);
});
