import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BerthError } from '../../common/errors';
import { resolveUser } from './user';
import { readFileInRoot } from './user-rootfs';

const PASSWD = ['root:x:0:0:root:/root:/bin/sh', '# a comment', 'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin', 'alice:x:1000:1000:Alice:/home/alice:/bin/sh', 'bob:x:1001:100::/home/bob:/bin/sh', 'nohome:x:1002:1002:::', 'broken:x:abc:1:::', ''].join('\n');
const GROUP = ['root:x:0:', 'users:x:100:alice', 'alice:x:1000:', 'wheel:x:10:alice,bob', 'docker:x:999: alice ', 'staff:x:50:'].join('\n');

const invalid = (re: RegExp) => (e: unknown): boolean => BerthError.is(e, 'invalid_argument') && re.test(e.message);

describe('resolveUser', () => {
  let dir: string;
  let root: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-user-'));
    root = path.join(dir, 'rootfs');
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await writeFile(path.join(root, 'etc/passwd'), PASSWD);
    await writeFile(path.join(root, 'etc/group'), GROUP);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('Docker forms: "", name, uid, name:group, uid:gid', async () => {
    assert.deepEqual(await resolveUser(root, undefined), { uid: 0, gid: 0, additionalGids: [], home: '/root', name: 'root' });
    assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [], home: '/root', name: 'root' });
    assert.deepEqual(await resolveUser(root, 'alice'), { uid: 1000, gid: 1000, additionalGids: [100, 10, 999], home: '/home/alice', name: 'alice' });
    assert.deepEqual(await resolveUser(root, '1000'), { uid: 1000, gid: 1000, additionalGids: [100, 10, 999], home: '/home/alice', name: 'alice' });
    assert.deepEqual(await resolveUser(root, 'bob'), { uid: 1001, gid: 100, additionalGids: [10], home: '/home/bob', name: 'bob' });
    assert.deepEqual(await resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' }, 'a uid not in passwd');
    assert.deepEqual(await resolveUser(root, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
    assert.deepEqual(await resolveUser(root, 'alice:staff'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/alice', name: 'alice' }, 'an explicit group: no supplementary groups');
    assert.deepEqual(await resolveUser(root, 'alice:7'), { uid: 1000, gid: 7, additionalGids: [], home: '/home/alice', name: 'alice' });
    assert.deepEqual(await resolveUser(root, '0:wheel'), { uid: 0, gid: 10, additionalGids: [], home: '/root', name: 'root' });
    assert.deepEqual(await resolveUser(root, 'nohome'), { uid: 1002, gid: 1002, additionalGids: [], home: '/', name: 'nohome' });
  });

  test('errors as Docker words them', async () => {
    await assert.rejects(resolveUser(root, 'mallory'), invalid(/^unable to find user mallory: no matching entries in passwd file$/));
    await assert.rejects(resolveUser(root, 'broken'), invalid(/unable to find user broken/));
    await assert.rejects(resolveUser(root, 'alice:nogroup'), invalid(/^unable to find group nogroup: no matching entries in group file$/));
    await assert.rejects(resolveUser(root, 'a:b:c'), invalid(/user\[:group\]/));
    await assert.rejects(resolveUser(root, '99999999999'), invalid(/out of range/));
  });

  test('no passwd file: numeric users work, names do not', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    assert.deepEqual(await resolveUser(empty, ''), { uid: 0, gid: 0, additionalGids: [], home: '/' });
    assert.deepEqual(await resolveUser(empty, '5:6'), { uid: 5, gid: 6, additionalGids: [], home: '/' });
    await assert.rejects(resolveUser(empty, 'alice'), invalid(/unable to find user alice/));
  });

  test('links resolve inside the rootfs, never to the host', async () => {
    // A host file the container must not be able to point at.
    const outside = path.join(dir, 'host-passwd');
    await writeFile(outside, 'evil:x:0:0::/:/bin/sh\n');
    const abs = path.join(dir, 'abs');
    await mkdir(path.join(abs, 'etc'), { recursive: true });
    await symlink(outside, path.join(abs, 'etc/passwd'));
    await assert.rejects(resolveUser(abs, 'evil'), invalid(/unable to find user evil/));
    const rel = path.join(dir, 'rel');
    await mkdir(path.join(rel, 'etc'), { recursive: true });
    await symlink('../../../../../../../..' + outside, path.join(rel, 'etc/passwd'));
    await assert.rejects(resolveUser(rel, 'evil'), invalid(/unable to find user evil/));
    const viaDir = path.join(dir, 'viadir');
    await mkdir(viaDir);
    await symlink(dir, path.join(viaDir, 'etc'));
    assert.equal(await readFileInRoot(viaDir, '/etc/host-passwd', 1024), '', 'a directory link to the host resolves inside the root');
    // A link that stays inside the root is followed (absolute = relative to the root).
    const inside = path.join(dir, 'inside');
    await mkdir(path.join(inside, 'data'), { recursive: true });
    await writeFile(path.join(inside, 'data/passwd'), 'carol:x:7:8::/c:/bin/sh\n');
    await symlink('/data', path.join(inside, 'etc'));
    assert.deepEqual(await resolveUser(inside, 'carol'), { uid: 7, gid: 8, additionalGids: [], home: '/c', name: 'carol' });
    const loop = path.join(dir, 'loop');
    await mkdir(path.join(loop, 'etc'), { recursive: true });
    await symlink('/etc/passwd', path.join(loop, 'etc/passwd'));
    await assert.rejects(resolveUser(loop, 'x'), invalid(/too many levels of symbolic links/));
  });

  test('FIFOs, directories and huge files are not read', { timeout: 5000 }, async () => {
    const fifo = path.join(dir, 'fifo');
    await mkdir(path.join(fifo, 'etc'), { recursive: true });
    execFileSync('mkfifo', [path.join(fifo, 'etc/passwd')]);
    await mkdir(path.join(fifo, 'etc/group'));
    assert.deepEqual(await resolveUser(fifo, '3'), { uid: 3, gid: 0, additionalGids: [], home: '/' });
    const big = path.join(dir, 'big');
    await mkdir(path.join(big, 'etc'), { recursive: true });
    await writeFile(path.join(big, 'etc/passwd'), Buffer.alloc(5 * 1024 * 1024, 0x61));
    await assert.rejects(resolveUser(big, 'x'), invalid(/larger than/));
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(resolveUser(root, 'alice', { signal: ac.signal }), { name: 'AbortError' });
  });
});
