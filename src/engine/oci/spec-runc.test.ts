/**
 * The generated spec run for real by runc and crun (root): a busybox rootfs
 * from busybox-static, config.json from buildRuntimeSpec, and checks made
 * from inside the container. crun runs in a private mount namespace with
 * the cgroup2 mount of a hybrid host hidden (crun refuses hybrid layouts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ContainerCreateRequest } from '../../api/types/containers';
import { run } from '../../common/process/spawn';
import { capabilitiesToMask } from './capabilities';
import { buildRuntimeSpec, type RuntimeSpecInput } from './spec';
import { listHostDevices, readHostFacts, type HostFacts } from './spec-host';
import { loadSecurityOptions } from './spec-security';
import { resolveUser } from './user';

const TINI = '/usr/bin/tini-static';
const GROUP = `berth-spec-test-${process.pid}`;
const root = process.getuid?.() === 0;
const haveRuntimes = existsSync('/bin/busybox') && root;

interface Outcome {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

describe('runtime spec under real runtimes', { skip: !haveRuntimes && 'needs root and busybox-static', timeout: 120_000 }, () => {
  let dir: string;
  let rootfs: string;
  let host: HostFacts;
  let seq = 0;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-spec-'));
    rootfs = path.join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'home/alice', 'mnt', 'work']) await mkdir(path.join(rootfs, d), { recursive: true });
    await copyFile('/bin/busybox', path.join(rootfs, 'bin/busybox'));
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
    await Promise.all(applets.map((a) => symlink('busybox', path.join(rootfs, 'bin', a))));
    await writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n');
    await writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nalice:x:1000:\nwheel:x:10:alice\nusers:x:100:alice\n');
    host = await readHostFacts();
  });

  after(async () => {
    // runc and crun remove the container's cgroup, not our parent group.
    for (const base of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      const ctrls = await readdir(base).catch(() => []);
      for (const c of [...ctrls, '.']) await rmdir(path.join(base, c, GROUP)).catch(() => undefined);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function runIn(runtime: 'runc' | 'crun', request: Partial<ContainerCreateRequest>, more: Partial<RuntimeSpecInput> = {}): Promise<Outcome> {
    const id = `berth-spec-${process.pid}-${++seq}`;
    const bundle = path.join(dir, id);
    await mkdir(bundle);
    const req: ContainerCreateRequest = { image: 'busybox', ...request };
    const spec = buildRuntimeSpec({
      id,
      request: req,
      image: { Env: ['IMAGE_VAR=1'], Cmd: ['sh'] },
      rootfs,
      user: await resolveUser(rootfs, req.user),
      hostname: 'spec-host',
      cgroupsPath: `/${GROUP}/${id}`,
      initBinary: TINI,
      availableCapabilities: host.capabilities,
      swapAccounting: host.swapAccounting,
      cgroupns: host.cgroup === 'v2' ? 'private' : 'host',
      security: await loadSecurityOptions(req.securityOpt),
      ...(host.nofileHardLimit ? { nofileLimit: host.nofileHardLimit } : {}),
      ...(req.privileged ? { hostDevices: await listHostDevices() } : {}),
      ...more,
    });
    await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
    const state = path.join(dir, `state-${runtime}`);
    const argv =
      runtime === 'runc'
        ? ['runc', '--root', state, 'run', '--bundle', bundle, id]
        : host.cgroup === 'hybrid'
          ? ['unshare', '-m', 'sh', '-c', 'umount /sys/fs/cgroup/unified && exec "$@"', 'sh', 'crun', '--root', state, 'run', '--bundle', bundle, id]
          : ['crun', '--root', state, 'run', '--bundle', bundle, id];
    try {
      const r = await run(argv, { signal: AbortSignal.timeout(30_000), input: '' });
      return { code: r.code, out: r.stdout.toString('utf8'), err: r.stderr };
    } finally {
      await run([runtime, '--root', state, 'delete', '-f', id]).catch(() => undefined);
    }
  }

  const sh = (script: string): Partial<ContainerCreateRequest> => ({ cmd: ['sh', '-c', script] });
  const field = (out: string, name: string): string | undefined => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(out)?.[1];
  const line = (out: string, key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(out)?.[1];

  for (const runtime of ['runc', 'crun'] as const) {
    describe(runtime, () => {
      test('defaults seen from inside: caps, seccomp, masks, read-only paths, identity, env, limits', async () => {
        const cgroupFiles =
          host.cgroup === 'v2'
            ? 'echo mem=$(cat /sys/fs/cgroup/memory.max); echo pids=$(cat /sys/fs/cgroup/pids.max); echo cpu="$(cat /sys/fs/cgroup/cpu.max)"'
            : 'echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo memsw=$(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null); echo pids=$(cat /sys/fs/cgroup/pids/pids.max); echo cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us)';
        const r = await runIn(runtime, {
          ...sh(
            [
              'cat /proc/self/status',
              'echo hostname=$(hostname)',
              'echo id=$(id -u):$(id -g)',
              'echo cwd=$(pwd)',
              'echo env_a=$A; echo env_image=$IMAGE_VAR; echo env_home=$HOME; echo env_hostname=$HOSTNAME; echo env_term=${TERM:-none}',
              'echo timer_list=$(wc -c < /proc/timer_list); echo keys=$(wc -c < /proc/keys)',
              'echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys=rw || echo procsys=ro',
              'touch /sys/x 2>/dev/null && echo sys=rw || echo sys=ro',
              'mount -t tmpfs t /mnt 2>/dev/null && echo mount=ok || echo mount=denied',
              'unshare -n true 2>/dev/null && echo unshare=ok || echo unshare=denied',
              'mknod /dev/blk b 7 0 && (dd if=/dev/blk of=/dev/null bs=1 count=1 2>/dev/null && echo blkread=ok || echo blkread=denied)',
              'head -c 4 /dev/urandom | wc -c | sed s/^/urandom=/',
              'echo nofile=$(ulimit -n)',
              'echo pingrange="$(cat /proc/sys/net/ipv4/ping_group_range)"',
              'echo mounts; grep -E " /(sys|proc|dev/shm|dev/pts)( |/fs/cgroup )" /proc/mounts',
              cgroupFiles,
            ].join('; '),
          ),
          env: ['A=from-request'],
          workingDir: '/work',
          resources: { memory: 64 * 1024 * 1024, pidsLimit: 42, nanoCpus: 500_000_000 },
        });
        assert.equal(r.code, 0, r.err);
        const o = r.out;
        assert.equal(field(o, 'CapEff'), '00000000a80425fb', 'the 14 default capabilities');
        assert.equal(field(o, 'CapBnd'), '00000000a80425fb');
        assert.equal(field(o, 'CapPrm'), '00000000a80425fb');
        assert.equal(field(o, 'CapInh'), '0000000000000000');
        assert.equal(field(o, 'CapAmb'), '0000000000000000');
        assert.equal(field(o, 'Seccomp'), '2');
        assert.equal(field(o, 'NoNewPrivs'), '0');
        assert.equal(line(o, 'hostname'), 'spec-host');
        assert.equal(line(o, 'id'), '0:0');
        assert.equal(line(o, 'cwd'), '/work');
        assert.equal(line(o, 'env_a'), 'from-request');
        assert.equal(line(o, 'env_image'), '1');
        assert.equal(line(o, 'env_home'), '/root', 'HOME from passwd, by the runtime');
        assert.equal(line(o, 'env_hostname'), 'spec-host');
        assert.equal(line(o, 'env_term'), 'none');
        assert.equal(line(o, 'timer_list'), '0', 'masked');
        assert.equal(line(o, 'keys'), '0', 'masked');
        assert.equal(line(o, 'procsys'), 'ro');
        assert.equal(line(o, 'sys'), 'ro');
        assert.equal(line(o, 'mount'), 'denied');
        assert.equal(line(o, 'unshare'), 'denied');
        assert.equal(line(o, 'blkread'), 'denied', 'device cgroup: mknod yes, use no');
        assert.equal(line(o, 'urandom'), '4');
        assert.equal(line(o, 'nofile'), String(Math.min(1048576, host.nofileHardLimit ?? 1048576)));
        assert.equal(line(o, 'pingrange')?.replace(/\s+/g, ' '), '0 2147483647');
        assert.match(o, /^\S+ \/sys sysfs ro,/m);
        assert.match(o, /^\S+ \/dev\/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k/m);
        assert.equal(line(o, 'mem'), host.cgroup === 'v2' ? '67108864' : '67108864');
        if (host.cgroup !== 'v2' && host.swapAccounting) assert.equal(line(o, 'memsw'), '134217728');
        assert.equal(line(o, 'pids'), '42');
        assert.equal(line(o, 'cpu'), host.cgroup === 'v2' ? '50000 100000' : '50000');
      });

      test('a non-root user: ids and groups from the image, bounding set only', async () => {
        const r = await runIn(runtime, { user: 'alice', ...sh('grep -E "^Cap(Eff|Bnd|Prm)" /proc/self/status; echo ids=$(id -u):$(id -g):$(id -G); echo home=$HOME') });
        assert.equal(r.code, 0, r.err);
        assert.equal(field(r.out, 'CapEff'), '0000000000000000');
        assert.equal(field(r.out, 'CapPrm'), '0000000000000000');
        assert.equal(field(r.out, 'CapBnd'), '00000000a80425fb');
        assert.equal(line(r.out, 'ids'), '1000:1000:1000 10 100');
        assert.equal(line(r.out, 'home'), '/home/alice');
      });

      test('privileged: every capability the engine has, no seccomp, no masks, /sys and /proc/sys writable, host devices', async () => {
        const r = await runIn(runtime, {
          privileged: true,
          ...sh('grep -E "^(CapEff|Seccomp):" /proc/self/status; echo timer_list=$(wc -c < /proc/timer_list); echo 1 > /proc/sys/kernel/domainname && echo procsys=rw; grep -E " /sys sysfs" /proc/mounts; echo devs=$(ls /dev | wc -l)'),
        });
        assert.equal(r.code, 0, r.err);
        assert.equal(field(r.out, 'CapEff'), capabilitiesToMask(host.capabilities));
        assert.equal(field(r.out, 'Seccomp'), '0');
        assert.notEqual(line(r.out, 'timer_list'), '0');
        assert.equal(line(r.out, 'procsys'), 'rw');
        assert.match(r.out, / \/sys sysfs rw,/);
        assert.ok(Number(line(r.out, 'devs')) > 20, 'host devices are there');
      });

      test('cap-add/drop, no-new-privileges, read-only rootfs, custom seccomp profile', async () => {
        const added = await runIn(runtime, { capAdd: ['SYS_ADMIN'], capDrop: ['chown'], ...sh('mount -t tmpfs t /mnt && echo mount=ok; chown 1 /dev/shm 2>/dev/null && echo chown=ok || echo chown=denied') });
        assert.equal(added.code, 0, added.err);
        assert.equal(line(added.out, 'mount'), 'ok', 'SYS_ADMIN brings mount back (capability and seccomp)');
        assert.equal(line(added.out, 'chown'), 'denied');
        const nnp = await runIn(runtime, { securityOpt: ['no-new-privileges'], readonlyRootfs: true, ...sh('grep NoNewPrivs /proc/self/status; touch /x 2>/dev/null && echo root=rw || echo root=ro; touch /dev/shm/x && echo shm=rw') });
        assert.equal(nnp.code, 0, nnp.err);
        assert.equal(field(nnp.out, 'NoNewPrivs'), '1');
        assert.equal(line(nnp.out, 'root'), 'ro');
        assert.equal(line(nnp.out, 'shm'), 'rw');
        const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] });
        const custom = await runIn(runtime, { securityOpt: [`seccomp=${profile}`], ...sh('mkdir /dev/shm/d 2>&1; echo done') });
        assert.match(custom.out, /Permission denied/);
        const unconfined = await runIn(runtime, { securityOpt: ['seccomp=unconfined'], ...sh('grep Seccomp: /proc/self/status') });
        assert.equal(field(unconfined.out, 'Seccomp'), '0');
      });

      test('--init: tini is PID 1 and reaps orphans; without it they stay zombies', { skip: !existsSync(TINI) && 'tini-static is not installed' }, async () => {
        // The orphan goes to PID 1; awk's system() waits only for its own child, so only an init reaps it.
        const script = '(sleep 0.2 &); exec awk \'BEGIN { system("sleep 1"); system("echo pid1=$(cat /proc/1/comm); echo zombies=$(grep -l \\"^State:.*Z\\" /proc/[0-9]*/status 2>/dev/null | wc -l)") }\'';
        const withInit = await runIn(runtime, { init: true, ...sh(script) });
        assert.equal(withInit.code, 0, withInit.err);
        assert.equal(line(withInit.out, 'pid1'), 'berth-init');
        assert.equal(line(withInit.out, 'zombies'), '0');
        const without = await runIn(runtime, sh(script));
        assert.equal(without.code, 0, without.err);
        assert.equal(line(without.out, 'pid1'), 'awk');
        assert.equal(line(without.out, 'zombies'), '1');
      });
    });
  }
});
