import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BerthError } from '../../common/errors';
import { ContentStore, sha256 } from './store';

describe('ContentStore', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-content-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts, reads, lists and deletes blobs by digest', async () => {
    const store = new ContentStore(path.join(dir, 'a'));
    const digest = await store.put(Buffer.from('{"hello":"world"}'));
    assert.equal(digest, sha256('{"hello":"world"}'));
    assert.equal(await store.has(digest), true);
    assert.deepEqual(await store.readJson(digest), { hello: 'world' });
    assert.equal((await store.info(digest)).size, 17);
    assert.deepEqual((await store.list()).map((i) => i.digest), [digest]);
    await assert.rejects(store.put(Buffer.from('x'), digest), (e: unknown) => BerthError.is(e, 'invalid_argument'));
    await store.delete(digest);
    assert.equal(await store.has(digest), false);
    await assert.rejects(store.info(digest), (e: unknown) => BerthError.is(e, 'not_found'));
    assert.throws(() => store.openRead(digest), (e: unknown) => BerthError.is(e, 'not_found'));
  });

  it('resumes an interrupted ingest from its partial file', async () => {
    const store = new ContentStore(path.join(dir, 'b'));
    const data = randomBytes(300_000);
    const digest = sha256(data);
    const first = await store.ingest(digest, { size: data.length });
    await first.write(data.subarray(0, 100_000));
    await first.close();
    assert.deepEqual((await store.ingests()).map((i) => i.offset), [100_000]);
    const second = await store.ingest(digest, { size: data.length });
    assert.equal(second.offset, 100_000);
    await second.write(data.subarray(100_000));
    assert.equal(await second.commit(), digest);
    assert.deepEqual(await readFile(store.blobPath(digest)), data);
    assert.deepEqual(await store.ingests(), []);
  });

  it('refuses to commit content that does not match its digest or size, and drops it', async () => {
    const store = new ContentStore(path.join(dir, 'c'));
    const digest = sha256('expected');
    const ingest = await store.ingest(digest, { size: 8 });
    await ingest.write(Buffer.from('tampered'));
    await assert.rejects(ingest.commit(), /digest mismatch/);
    assert.equal(await store.has(digest), false);
    assert.deepEqual(await store.ingests(), []);
    const short = await store.ingest(digest, { size: 8 });
    await short.write(Buffer.from('expec'));
    await assert.rejects(short.commit(), /size mismatch/);
    const long = await store.ingest(digest, { size: 8 });
    await assert.rejects(long.write(Buffer.from('expected!')), /larger than expected/);
    await long.close({ discard: true });
  });

  it('serializes concurrent writers of one digest (also across store instances)', async () => {
    const root = path.join(dir, 'd');
    const data = randomBytes(1_000_000);
    const digest = sha256(data);
    const write = async (store: ContentStore): Promise<boolean> => {
      const ingest = await store.ingest(digest, { size: data.length });
      if (ingest.exists) {
        await ingest.close();
        return false;
      }
      for (let i = 0; i < data.length; i += 65_536) {
        await ingest.write(data.subarray(i, i + 65_536));
        await new Promise((r) => setImmediate(r));
      }
      await ingest.commit();
      return true;
    };
    const a = new ContentStore(root);
    const b = new ContentStore(root);
    const wrote = await Promise.all([write(a), write(a), write(b), write(b)]);
    assert.equal(wrote.filter(Boolean).length, 1, 'exactly one writer did the work');
    assert.deepEqual(await readFile(a.blobPath(digest)), data);
    assert.deepEqual(await readdir(path.join(root, 'ingest')), []);
  });

  it('gives up waiting for a busy ingest when cancelled', async () => {
    const store = new ContentStore(path.join(dir, 'e'));
    const digest = sha256('busy');
    const holder = await store.ingest(digest);
    const ac = new AbortController();
    const waiting = store.ingest(digest, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(waiting, (e: unknown) => BerthError.is(e, 'cancelled'));
    await holder.write(Buffer.from('busy'));
    await holder.commit();
    const again = await store.ingest(digest);
    assert.equal(again.exists, true);
    await again.close();
  });

  it('stores streams of unknown digest and verified files', async () => {
    const store = new ContentStore(path.join(dir, 'f'));
    const data = randomBytes(200_000);
    const { digest, size } = await store.putStream(Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
    assert.equal(digest, sha256(data));
    assert.equal(size, data.length);
    assert.equal((await stat(store.blobPath(digest))).size, data.length);
  });
});
