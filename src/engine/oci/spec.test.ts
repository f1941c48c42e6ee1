import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerCreateRequest } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, capabilitiesToMask } from './capabilities';
import { MASKED_PATHS, READONLY_PATHS } from './masked-paths';
import { DEFAULT_DEVICES, DEFAULT_DEVICE_RULES, INIT_PATH, buildRuntimeSpec, type RuntimeSpecInput } from './spec';
import { parseSecurityOptions } from './spec-security';

const root = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
const build = (request: Partial<ContainerCreateRequest> = {}, more: Partial<RuntimeSpecInput> = {}) =>
  buildRuntimeSpec({
    id: 'c1',
    request: { image: 'busybox', ...request },
    image: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['sh'], WorkingDir: '/work' },
    rootfs: '/b/rootfs',
    user: root,
    hostname: 'h1',
    cgroupsPath: '/berth/c1',
    arch: 'x64',
    kernel: '6.1.0',
    ...more,
  });
const invalid = (re: RegExp) => (e: unknown): boolean => BerthError.is(e, 'invalid_argument') && re.test(e.message);

test('defaults: process, root, namespaces', () => {
  const s = build();
  assert.equal(s.ociVersion, '1.0.2');
  assert.equal(s.hostname, 'h1');
  assert.deepEqual(s.root, { path: '/b/rootfs', readonly: false });
  assert.deepEqual(s.process.args, ['sh']);
  assert.deepEqual(s.process.env, ['PATH=/usr/bin:/bin', 'HOSTNAME=h1']);
  assert.equal(s.process.cwd, '/work');
  assert.equal(s.process.terminal, false);
  assert.deepEqual(s.process.user, { uid: 0, gid: 0, additionalGids: [] });
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.process.oomScoreAdj, 0);
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
  assert.deepEqual(s.linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }]);
  assert.equal(s.linux.cgroupsPath, '/berth/c1');
  assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' });
});

test('defaults: the 14 capabilities, masked and read-only paths, seccomp, devices', () => {
  const s = build();
  const caps = s.process.capabilities;
  assert.equal(capabilitiesToMask(caps?.bounding ?? []), '00000000a80425fb');
  assert.deepEqual(caps?.effective, caps?.bounding);
  assert.deepEqual(caps?.permitted, caps?.bounding);
  assert.equal(caps?.inheritable, undefined);
  assert.equal(caps?.ambient, undefined);
  assert.deepEqual(s.linux.maskedPaths, [...MASKED_PATHS]);
  assert.ok(s.linux.maskedPaths?.includes('/proc/kcore') && s.linux.maskedPaths.includes('/sys/devices/virtual/powercap') && s.linux.maskedPaths.length === 11);
  assert.deepEqual(s.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(s.linux.seccomp?.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.ok(!s.linux.seccomp?.syscalls.some((r) => r.names.includes('mount')));
  assert.deepEqual(s.linux.devices.map((d) => d.path), ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
  assert.deepEqual(s.linux.devices, [...DEFAULT_DEVICES]);
  const rules = s.linux.resources.devices;
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' }, 'deny all first');
  const allowed = rules.filter((r) => r.allow && r.access === 'rwm').map((r) => `${r.major ?? '*'}:${r.minor ?? '*'}`);
  assert.deepEqual(allowed, ['1:3', '1:5', '1:7', '1:8', '1:9', '5:0', '5:1', '5:2', '136:*', '10:200']);
  assert.ok(!rules.some((r) => r.allow && r.major === 10 && r.minor === 229 && r.access.includes('r')), 'fuse is not allowed');
  assert.equal(s.linux.resources.memory, undefined);
  assert.equal(s.linux.resources.cpu, undefined);
  assert.equal(s.linux.resources.pids, undefined);
});

test('defaults: the mounts', () => {
  const byDest = new Map(build().mounts.map((m) => [m.destination, m]));
  assert.deepEqual([...byDest.keys()], ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
  assert.deepEqual(byDest.get('/proc'), { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
  assert.deepEqual(byDest.get('/dev')?.options, ['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
  assert.deepEqual(byDest.get('/dev/pts')?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.equal(byDest.get('/dev/pts')?.type, 'devpts');
  assert.deepEqual(byDest.get('/sys'), { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
  assert.equal(byDest.get('/sys/fs/cgroup')?.type, 'cgroup');
  assert.ok(byDest.get('/sys/fs/cgroup')?.options.includes('ro'));
  assert.equal(byDest.get('/dev/mqueue')?.type, 'mqueue');
  assert.deepEqual(byDest.get('/dev/shm'), { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] });
});

test('tty, env, user, cwd, readonly rootfs', () => {
  const s = build({ tty: true, env: ['A=1'], workingDir: '/src', readonlyRootfs: true, entrypoint: ['/bin/echo'], cmd: ['x'] }, { user: { uid: 1000, gid: 100, additionalGids: [10, 20], home: '/home/a' } });
  assert.equal(s.process.terminal, true);
  assert.deepEqual(s.process.env, ['PATH=/usr/bin:/bin', 'HOSTNAME=h1', 'TERM=xterm', 'A=1']);
  assert.deepEqual(s.process.args, ['/bin/echo', 'x']);
  assert.equal(s.process.cwd, '/src');
  assert.deepEqual(s.process.user, { uid: 1000, gid: 100, additionalGids: [10, 20] });
  assert.deepEqual(s.process.capabilities, { bounding: [...build().process.capabilities?.bounding ?? []] }, 'non-root: bounding only');
  assert.equal(s.root.readonly, true);
});

test('cap-add/drop flow into the capabilities and the seccomp profile', () => {
  const s = build({ capAdd: ['sys_admin', 'CAP_SYS_PTRACE'], capDrop: ['NET_RAW'] });
  const b = s.process.capabilities?.bounding ?? [];
  assert.ok(b.includes('CAP_SYS_ADMIN') && b.includes('CAP_SYS_PTRACE') && !b.includes('CAP_NET_RAW'));
  assert.equal(b.length, 15);
  const names = s.linux.seccomp?.syscalls.flatMap((r) => r.names) ?? [];
  assert.ok(names.includes('mount') && names.includes('kcmp'));
  const user = build({ capAdd: ['SYS_ADMIN'] }, { user: { uid: 5, gid: 5, additionalGids: [], home: '/' } });
  assert.ok(user.linux.seccomp?.syscalls.some((r) => r.names.includes('mount')), 'seccomp follows the bounding set, also for non-root users');
  assert.throws(() => build({ capAdd: ['BOGUS'] }), invalid(/unknown capability/));
});

test('privileged: all available capabilities, no seccomp, no masks, host devices, /sys rw', () => {
  const available = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
  const hostDevices = [{ path: '/dev/loop0', type: 'b' as const, major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }];
  const s = build({ privileged: true, securityOpt: ['seccomp=unconfined'] }, { availableCapabilities: available, hostDevices });
  assert.deepEqual(s.process.capabilities?.bounding, available);
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.linux.maskedPaths, undefined);
  assert.equal(s.linux.readonlyPaths, undefined);
  assert.deepEqual(s.linux.devices, hostDevices);
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(s.mounts.find((m) => m.destination === '/sys')?.options.includes('rw'));
  assert.ok(s.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options.includes('rw'));
  assert.deepEqual(build({ privileged: true }).linux.devices, [...DEFAULT_DEVICES], 'without a host device list: the defaults');
});

test('security options', () => {
  assert.equal(build({ securityOpt: ['seccomp=unconfined'] }).linux.seccomp, undefined);
  assert.ok(build({ securityOpt: ['seccomp=unconfined'] }).linux.maskedPaths, 'unconfined seccomp keeps the masks');
  assert.equal(build({ securityOpt: ['no-new-privileges'] }).process.noNewPrivileges, true);
  assert.equal(build({ securityOpt: ['no-new-privileges:true'] }).process.noNewPrivileges, true);
  assert.equal(build({ securityOpt: ['apparmor=unconfined', 'label=disable'] }).linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  const sp = build({ securityOpt: ['systempaths=unconfined'] });
  assert.equal(sp.linux.maskedPaths, undefined);
  assert.equal(sp.linux.readonlyPaths, undefined);
  assert.ok(sp.linux.seccomp);
  const custom = build({ securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}'] });
  assert.deepEqual(custom.linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW', architectures: [], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] });
  const pre = build({ securityOpt: ['seccomp=/some/path.json'] }, { security: parseSecurityOptions(['seccomp=unconfined']) });
  assert.equal(pre.linux.seccomp, undefined, 'pre-loaded options win over the request');
  assert.throws(() => build({ securityOpt: ['seccomp=/some/path.json'] }), invalid(/absolute path/));
  assert.ok(build({ securityOpt: ['writable-cgroups=true'] }).mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options.includes('rw'));
});

test('resources: memory (+swap = 2x where accounted), cpus, pids', () => {
  const r = build({ resources: { memory: 64 * 1024 * 1024, nanoCpus: 1_500_000_000, pidsLimit: 50 } }).linux.resources;
  assert.deepEqual(r.memory, { limit: 67108864, swap: 134217728 });
  assert.deepEqual(r.cpu, { quota: 150000, period: 100000 });
  assert.deepEqual(r.pids, { limit: 50 });
  assert.deepEqual(build({ resources: { memory: 64 * 1024 * 1024 } }, { swapAccounting: false }).linux.resources.memory, { limit: 67108864 });
  assert.equal(build({ resources: { pidsLimit: -1 } }).linux.resources.pids, undefined, '-1: unlimited');
  assert.deepEqual(build({ resources: { nanoCpus: 10_000_000 } }).linux.resources.cpu, { quota: 1000, period: 100000 });
  assert.throws(() => build({ resources: { memory: 1024 } }), invalid(/6MB/));
  assert.throws(() => build({ resources: { memory: -5 } }), invalid(/memory/));
});

test('rlimits stop at the engine’s hard limit', () => {
  assert.deepEqual(build({}, { nofileLimit: 20000 }).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
});

test('networks and cgroup namespace', () => {
  const host = build({}, { netns: 'host' });
  assert.ok(!host.linux.namespaces.some((n) => n.type === 'network'));
  assert.equal(host.linux.sysctl, undefined, 'no sysctls into the host namespace');
  assert.deepEqual(build({}, { netns: '/run/netns/x' }).linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
  assert.ok(build({}, { cgroupns: 'private' }).linux.namespaces.some((n) => n.type === 'cgroup'));
  assert.ok(!build({}, { cgroupns: 'host' }).linux.namespaces.some((n) => n.type === 'cgroup'));
});

test('extra mounts and /etc files: replace defaults at the same place, parents first', () => {
  const s = build(
    { readonlyRootfs: true },
    {
      mounts: [
        { destination: '/data/sub', type: 'bind', source: '/h/sub', options: ['rbind', 'ro'] },
        { destination: '/data', type: 'bind', source: '/h/data', options: ['rbind', 'rw'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1g'] },
      ],
      etcFiles: { hosts: '/b/hosts', resolvConf: '/b/resolv.conf', hostname: '/b/hostname' },
    },
  );
  const dests = s.mounts.map((m) => m.destination);
  assert.deepEqual(dests, ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/data', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts', '/data/sub', '/dev/shm']);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/dev/shm')?.options, ['size=1g']);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: '/b/hosts', options: ['rbind', 'rprivate', 'ro'] });
  assert.ok(build({}, { etcFiles: { hosts: '/b/hosts' } }).mounts.find((m) => m.destination === '/etc/hosts')?.options.includes('rw'));
  assert.throws(() => build({}, { mounts: [{ destination: 'rel', type: 'bind', source: '/x', options: [] }] }), invalid(/absolute/));
  // Docker: the user's mount at /etc/hosts replaces the engine's; one over /etc keeps the engine's files out of it.
  const own = build({}, { etcFiles: { hosts: '/b/hosts', hostname: '/b/hostname' }, mounts: [{ destination: '/etc/hosts', type: 'bind', source: '/x', options: [] }] });
  assert.deepEqual(
    own.mounts.filter((m) => m.destination.startsWith('/etc/')).map((m) => [m.destination, m.source]),
    [
      ['/etc/hostname', '/b/hostname'],
      ['/etc/hosts', '/x'],
    ],
  );
  const overEtc = build({}, { etcFiles: { hosts: '/b/hosts', resolvConf: '/b/resolv.conf' }, mounts: [{ destination: '/etc/', type: 'bind', source: '/v', options: [] }] });
  assert.deepEqual(
    overEtc.mounts.filter((m) => m.destination.startsWith('/etc')).map((m) => m.source),
    ['/v'],
  );
  assert.throws(() => build({}, { mounts: [{ destination: '/data', type: 'bind', source: '/x', options: [] }, { destination: '/data', type: 'bind', source: '/y', options: [] }] }), invalid(/duplicate/));
});

test('--init: the init binary read-only at /sbin/berth-init, running the command after "--"', () => {
  const s = build({ init: true, cmd: ['sleep', '1'] }, { initBinary: '/usr/bin/tini-static' });
  assert.deepEqual(s.process.args, [INIT_PATH, '--', 'sleep', '1']);
  assert.deepEqual(s.mounts.at(-1), { destination: '/sbin/berth-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro', 'nosuid', 'nodev'] });
  assert.throws(() => build({ init: true }), (e: unknown) => BerthError.is(e, 'failed_precondition'));
  assert.deepEqual(build({}, { initBinary: '/usr/bin/tini-static' }).process.args, ['sh'], 'no init unless asked');
});

test('the defaults list exactly Docker’s 14 capabilities', () => {
  assert.deepEqual([...(build().process.capabilities?.bounding ?? [])].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.ok(DEFAULT_DEVICE_RULES.length > 10 && READONLY_PATHS.length === 5);
});
