import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerMounts, parseBind, parseDockerMount, tmpfsMounts } from './mounts';

test('Binds: an absolute source is a bind (created when missing), anything else names a volume', () => {
  assert.deepEqual(parseBind('/host/dir:/x'), { type: 'bind', source: '/host/dir', target: '/x', readOnly: false, createSource: true, mode: '' });
  assert.deepEqual(parseBind('/host:/x:ro'), { type: 'bind', source: '/host', target: '/x', readOnly: true, createSource: true, mode: 'ro' });
  assert.deepEqual(parseBind('/host:/x:ro,rshared,Z'), { type: 'bind', source: '/host', target: '/x', readOnly: true, createSource: true, mode: 'ro,rshared,Z', propagation: 'rshared' });
  assert.deepEqual(parseBind('data:/data'), { type: 'volume', source: 'data', target: '/data', readOnly: false, mode: 'z' });
  assert.deepEqual(parseBind('data:/data:ro,nocopy'), { type: 'volume', source: 'data', target: '/data', readOnly: true, noCopy: true, mode: 'ro,nocopy' });
  assert.deepEqual(parseBind('/anon'), { type: 'volume', target: '/anon', mode: 'z' });
});

test('Binds: what Docker refuses', () => {
  assert.throws(() => parseBind('a:b:c:d'), /invalid volume specification: 'a:b:c:d'/);
  assert.throws(() => parseBind('data:/x:bogus'), /invalid mode: bogus/);
  assert.throws(() => parseBind('data:/x:ro,rw'), /invalid mode: ro,rw/);
  assert.throws(() => parseBind('data:relative'), /mount path must be absolute/);
  assert.throws(() => parseBind('/x:ro'), /invalid volume specification/);
  assert.throws(() => parseBind('/h:/x:nocopy'), /nocopy is only for volumes/);
  assert.throws(() => parseBind('data:/x:rshared'), /propagation is only for bind mounts/);
  assert.throws(() => parseBind('bad name:/x'), /includes invalid characters for a local volume name/);
  assert.throws(() => parseBind('.hidden:/x'), /invalid characters/);
  assert.throws(() => parseBind(':/x'), /invalid volume specification/);
});

test('Mounts: bind, volume and tmpfs with their options', () => {
  assert.deepEqual(parseDockerMount({ Type: 'bind', Source: '/h', Target: '/x', ReadOnly: true, BindOptions: { Propagation: 'rslave' } }), {
    type: 'bind',
    source: '/h',
    target: '/x',
    readOnly: true,
    propagation: 'rslave',
    mode: '',
  });
  assert.equal(parseDockerMount({ Type: 'bind', Source: '/h', Target: '/x' }).createSource, undefined, 'Mounts never create a missing bind source');
  assert.equal(parseDockerMount({ Type: 'bind', Source: '/h', Target: '/x', BindOptions: { CreateMountpoint: true } }).createSource, true);
  assert.deepEqual(parseDockerMount({ Type: 'volume', Source: 'v1', Target: '/v', VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } }), {
    type: 'volume',
    source: 'v1',
    target: '/v',
    readOnly: false,
    noCopy: true,
    volumeLabels: { a: 'b' },
    mode: 'z',
  });
  assert.deepEqual(parseDockerMount({ Type: 'volume', Target: '/anon' }), { type: 'volume', target: '/anon', readOnly: false, mode: 'z' });
  assert.deepEqual(parseDockerMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } }), {
    type: 'tmpfs',
    target: '/t',
    readOnly: false,
    options: ['noexec', 'nosuid', 'nodev', 'size=1048576', 'mode=1770'],
    mode: '',
  });
});

test('Mounts: what Docker refuses', () => {
  assert.throws(() => parseDockerMount({ Type: 'bind', Target: '/x' }), /field Source must not be empty/);
  assert.throws(() => parseDockerMount({ Type: 'bind', Source: '/h' }), /field Target must not be empty/);
  assert.throws(() => parseDockerMount({ Type: 'bind', Source: '/h', Target: 'x' }), /must be absolute/);
  assert.throws(() => parseDockerMount({ Type: 'bind', Source: '/h', Target: '/x', VolumeOptions: {} }), /VolumeOptions must not be specified/);
  assert.throws(() => parseDockerMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }), /Source must not be specified/);
  assert.throws(() => parseDockerMount({ Type: 'volume', Source: 'a/b', Target: '/t' }), /invalid characters/);
  assert.throws(() => parseDockerMount({ Type: 'volume', Source: 'v', Target: '/t', VolumeOptions: { DriverConfig: { Name: 'nfs' } } }), /driver "nfs" is not supported/);
  assert.throws(() => parseDockerMount({ Type: 'weird', Target: '/t' }), /mount type "weird" is not supported/);
});

test('Tmpfs and Config.Volumes: tmpfs options after the defaults; image-style VOLUMEs become anonymous volumes unless covered', () => {
  assert.deepEqual(tmpfsMounts({ '/t': 'size=1m,exec' }), [{ type: 'tmpfs', target: '/t', options: ['noexec', 'nosuid', 'nodev', 'size=1m', 'exec'], mode: '' }]);
  const all = dockerMounts({ Binds: ['vol:/data'], Tmpfs: { '/run': '' } }, { '/data/': {}, '/cache': {} });
  assert.deepEqual(
    all.map((m) => [m.type, m.source, m.target]),
    [
      ['volume', 'vol', '/data'],
      ['tmpfs', undefined, '/run'],
      ['volume', undefined, '/cache'],
    ],
  );
});
