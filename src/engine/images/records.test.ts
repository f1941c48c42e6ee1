import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ImageRecord } from '../../api/types/images';
import type { Digest } from '../../api/types/oci';
import { ImageRecords } from './records';

const ID: Digest = `sha256:${'a'.repeat(64)}`;
const record = (storedAt: string, padding = 0): ImageRecord => ({
  id: ID,
  repoTags: [],
  repoDigests: [],
  manifestDigest: `sha256:${'b'.repeat(64)}`,
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: { padding: 'p'.repeat(padding) } } },
  layers: [],
  platform: { architecture: 'amd64', os: 'linux' },
  size: 0,
  storedAt,
});

describe('ImageRecords (kept in memory once read)', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'berth-records-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes through to the files, which another store on the same root reads', async () => {
    const a = new ImageRecords(root);
    assert.equal(await a.read(ID), undefined);
    await a.write(record('t1'));
    await a.exclusive(() => a.updateTags((t) => void (t['example.com/x:1'] = ID)));
    assert.equal((await a.read(ID))?.storedAt, 't1');
    const b = new ImageRecords(root);
    assert.equal((await b.read(ID))?.storedAt, 't1');
    assert.deepEqual(await b.tags(), { 'example.com/x:1': ID });
    assert.equal((JSON.parse(await readFile(path.join(root, 'tags.json'), 'utf8')) as Record<string, string>)['example.com/x:1'], ID);
    await a.delete(ID);
    assert.equal(await a.read(ID), undefined);
    assert.equal(await new ImageRecords(root).read(ID), undefined);
  });

  it('hands each caller its own copy (a caller changing one changes nothing stored)', async () => {
    const a = new ImageRecords(root);
    await a.write(record('t1'));
    const tags = await a.tags();
    tags['example.com/mutated:1'] = ID;
    (await a.read(ID) as { storedAt: string }).storedAt = 'mutated';
    assert.deepEqual(await a.tags(), {});
    assert.equal((await a.read(ID))?.storedAt, 't1');
  });

  it('does not keep what a read found when a write landed while it was reading', async () => {
    const a = new ImageRecords(root);
    // A big old record takes longer to read than the small new one to write.
    await a.write(record('old', 16 << 20));
    await a.exclusive(() => a.updateTags((t) => void (t['example.com/x:1'] = ID)));
    const fresh = new ImageRecords(root);
    // Both reads start before the writes and finish after them.
    const reading = Promise.all([fresh.read(ID), fresh.tags()]);
    const writing = Promise.all([fresh.write(record('new')), fresh.exclusive(() => fresh.updateTags((t) => void (t['example.com/x:2'] = ID)))]);
    await Promise.all([reading, writing]);
    assert.equal((await fresh.read(ID))?.storedAt, 'new');
    assert.deepEqual(Object.keys(await fresh.tags()).sort(), ['example.com/x:1', 'example.com/x:2']);
  });
});
