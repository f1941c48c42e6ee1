/**
 * Host devices in containers through the real docker CLI on berthd:
 * `--device` puts the node in the container and lets the device cgroup
 * allow what its permissions say (/dev/fuse, which the default rules deny
 * by name), at another path too; `docker inspect` shows it; a missing host
 * path fails clearly; `--privileged` sees the host's devices; `--gpus` is
 * refused as dockerd refuses it without a GPU driver.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startDockerFixture, type DockerFixture } from './support/docker-cli';

let fx: DockerFixture;

before(async () => {
  fx = await startDockerFixture('berth-devices-');
});

after(async () => {
  await fx?.dispose();
});

async function sh(args: readonly string[], script: string): Promise<{ code: number; out: string }> {
  const r = await fx.docker(['run', '--rm', ...args, fx.images.latest, 'sh', '-c', script]);
  return { code: r.code, out: r.stdout + r.stderr };
}

test('--device: the node is there and usable as its permissions say; without it, it is not', { skip: !existsSync('/dev/fuse') && 'no /dev/fuse on this host' }, async () => {
  const without = await sh([], 'test -e /dev/fuse && echo present || echo absent');
  assert.equal(without.out.trim(), 'absent');
  const rw = await sh(['--device', '/dev/fuse'], 'stat -c "%F %t:%T" /dev/fuse && (exec 3<>/dev/fuse) && echo opened');
  assert.equal(rw.code, 0, rw.out);
  assert.equal(rw.out.trim(), 'character special file a:e5\nopened');
  // Elsewhere in the container, read only: a read-write open is refused by the device cgroup, a read-only one is not.
  const ro = await sh(['--device', '/dev/fuse:/dev/myfuse:r'], '(exec 3</dev/myfuse) && echo read-ok; (exec 3<>/dev/myfuse) 2>&1 || echo rw-refused');
  assert.match(ro.out, /read-ok/);
  assert.match(ro.out, /Operation not permitted/);
  assert.match(ro.out, /rw-refused/);
});

test('docker inspect shows the devices; a missing host path fails the create', { skip: !existsSync('/dev/fuse') && 'no /dev/fuse on this host' }, async () => {
  const c = await fx.docker(['create', '--device', '/dev/fuse:/dev/f:rw', fx.images.latest, 'true']);
  assert.equal(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  const i = await fx.docker(['inspect', '-f', '{{json .HostConfig.Devices}}', id]);
  assert.deepEqual(JSON.parse(i.stdout), [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/f', CgroupPermissions: 'rw' }]);
  await fx.docker(['rm', id]);
  const missing = await fx.docker(['create', '--device', '/dev/berth-no-such-device', fx.images.latest, 'true']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /\/dev\/berth-no-such-device/);
});

test('--privileged sees the host devices; --gpus is refused without a GPU driver', async () => {
  const loop = ['/dev/loop0', '/dev/loop-control', '/dev/fuse'].find((d) => existsSync(d));
  if (loop) {
    const p = await sh(['--privileged'], `test -c ${loop} -o -b ${loop} && echo seen`);
    assert.equal(p.out.trim(), 'seen', p.out);
    const plain = await sh([], `test -e ${loop} && echo seen || echo absent`);
    assert.equal(plain.out.trim(), 'absent');
  }
  const gpus = await fx.docker(['run', '--rm', '--gpus', 'all', fx.images.latest, 'true']);
  assert.notEqual(gpus.code, 0);
  assert.match(gpus.stderr, /could not select device driver "" with capabilities: \[\[gpu\]\]/);
});
