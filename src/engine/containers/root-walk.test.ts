/**
 * root-walk on a real directory tree standing in for a container's root:
 * links (absolute, relative, "..") resolve inside it, writes replace links
 * and FIFOs at the destination instead of following them, device nodes are
 * listed but never opened, and missing directories are made with the mode
 * asked for.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BerthError } from '../../common/errors';
import { makeDirectory, readEntries, writeFile } from './root-walk';

let base: string;
let root: string;
let outside: string;

before(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'berth-root-walk-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  mkdirSync(path.join(root, 'real', 'dir'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret'), 'host secret');
  writeFileSync(path.join(root, 'etc', 'hostname'), 'box\n');
  writeFileSync(path.join(root, 'real', 'dir', 'a'), 'A');
  // Links a container could plant: absolute and relative ones that would leave the root if the host followed them.
  symlinkSync('/real/dir', path.join(root, 'abs'));
  symlinkSync('../../../../..', path.join(root, 'up'));
  symlinkSync(outside, path.join(root, 'hostdir'));
  symlinkSync(path.join(outside, 'secret'), path.join(root, 'real', 'dir', 'to-secret'));
});

after(() => rmSync(base, { recursive: true, force: true }));

test('reads a directory through links resolved inside the root, and a single file', () => {
  const viaAbs = readEntries(root, '/abs', 1024);
  assert.deepEqual(
    viaAbs.map((e) => [e.name, e.kind, e.content?.toString()]),
    [
      ['a', 'file', 'A'],
      ['to-secret', 'symlink', undefined],
    ],
  );
  // "/up" climbs past the root: it stays at the root, as in the container.
  assert.ok(readEntries(root, '/up/etc', 1024).some((e) => e.name === 'hostname'));
  assert.deepEqual(readEntries(root, '/etc/hostname', 1024).map((e) => e.content?.toString()), ['box\n']);
  // The link to a host folder names /tmp/... inside the root, which does not exist there.
  assert.throws(() => readEntries(root, '/hostdir', 1024), (err: unknown) => BerthError.is(err) && err.code === 'not_found');
  assert.throws(() => readEntries(root, '/missing', 1024), (err: unknown) => BerthError.is(err) && err.code === 'not_found');
});

test('content only up to the limit: a larger file is listed without it', () => {
  writeFileSync(path.join(root, 'real', 'big'), 'x'.repeat(5000));
  const big = readEntries(root, '/real/big', 4096)[0];
  assert.equal(big?.size, 5000);
  assert.equal(big?.content, undefined);
});

test('device nodes and FIFOs are listed, never opened', () => {
  const dev = path.join(root, 'devs');
  mkdirSync(dev);
  // A block device node a container could make for the host's disk: opening it from the host would read the disk.
  execFileSync('mknod', [path.join(dev, 'disk'), 'b', '7', '250']);
  execFileSync('mkfifo', [path.join(dev, 'fifo')]);
  const entries = readEntries(root, '/devs', 1024);
  assert.deepEqual(
    entries.map((e) => [e.name, e.kind, e.content]),
    [
      ['disk', 'other', undefined],
      ['fifo', 'other', undefined],
    ],
  );
  // Writing over them replaces the name: no device opened, no FIFO waited on.
  writeFile(root, '/devs/fifo', Buffer.from('plain'), 0o644);
  writeFile(root, '/devs/disk', Buffer.from('plain'), 0o644);
  assert.equal(readFileSync(path.join(dev, 'disk'), 'utf8'), 'plain');
  assert.ok(lstatSync(path.join(dev, 'fifo')).isFile());
});

test('a write replaces a link at the destination and goes through links above it inside the root', () => {
  writeFile(root, '/abs/to-secret', Buffer.from('mine'), 0o600);
  assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), 'host secret');
  const written = lstatSync(path.join(root, 'real', 'dir', 'to-secret'));
  assert.ok(written.isFile());
  assert.equal(written.mode & 0o7777, 0o600);
  // Through the link to the host's folder: a new directory inside the root, nothing outside.
  makeDirectory(root, '/hostdir/new', 0o1777);
  writeFile(root, '/hostdir/new/f', Buffer.from('in root'), 0o644);
  assert.equal(readFileSync(path.join(root, outside, 'new', 'f'), 'utf8'), 'in root');
  assert.ok(!existsSync(path.join(outside, 'new')));
  // No temporary file is left behind.
  assert.deepEqual(
    readEntries(root, '/real/dir', 0).map((e) => e.name),
    ['a', 'to-secret'],
  );
});

test('makeDirectory makes missing parents 0755 and the last one with the mode asked, whatever the umask', () => {
  const old = process.umask(0o077);
  try {
    makeDirectory(root, '/var/lib/marks', 0o1777);
  } finally {
    process.umask(old);
  }
  assert.equal(statSync(path.join(root, 'var')).mode & 0o7777, 0o755);
  assert.equal(statSync(path.join(root, 'var', 'lib')).mode & 0o7777, 0o755);
  assert.equal(statSync(path.join(root, 'var', 'lib', 'marks')).mode & 0o7777, 0o1777);
  // Again on an existing directory: its mode is set.
  makeDirectory(root, '/var/lib/marks', 0o700);
  assert.equal(statSync(path.join(root, 'var', 'lib', 'marks')).mode & 0o7777, 0o700);
  // A file in the way of a directory.
  assert.throws(() => makeDirectory(root, '/etc/hostname/x', 0o755), (err: unknown) => BerthError.is(err) && err.code === 'invalid_argument');
});

test('a directory at the destination of a write is a conflict', () => {
  assert.throws(() => writeFile(root, '/real/dir', Buffer.from('x'), 0o644), (err: unknown) => BerthError.is(err) && err.code === 'conflict');
});
