import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../common/errors';
import { DEFAULT_CAPABILITIES } from './capabilities';
import { compileSeccomp, defaultSeccompProfile, parseSeccompProfile } from './seccomp';
import { CLONE_NAMESPACE_FLAGS } from './seccomp-default';
import type { OciSeccomp } from './spec-types';

const x64 = { arch: 'x64', kernel: '6.1.0-18-amd64' };
const plain = defaultSeccompProfile({ ...x64, capabilities: DEFAULT_CAPABILITIES });
const rulesFor = (p: OciSeccomp, name: string): OciSeccomp['syscalls'] => p.syscalls.filter((s) => s.names.includes(name));
const allowedUnconditionally = (p: OciSeccomp, name: string): boolean => rulesFor(p, name).some((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args);

test('default: EPERM unless allowed, for x86_64 with its x86 and x32 ABIs', () => {
  assert.equal(plain.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(plain.defaultErrnoRet, 1);
  assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  for (const name of ['read', 'write', 'openat', 'execve', 'futex', 'epoll_pwait', 'io_uring_setup', 'arch_prctl', 'modify_ldt', 'chroot', 'ptrace', 'name_to_handle_at']) {
    assert.ok(allowedUnconditionally(plain, name), `${name} is allowed`);
  }
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'keyctl', 'add_key', 'kexec_load', 'init_module', 'reboot', 'swapon', 'acct', 'settimeofday', 'open_by_handle_at', 'perf_event_open', 'syslog', 'kcmp', 'iopl', 'vhangup', 'set_mempolicy', 'userfaultfd']) {
    assert.equal(rulesFor(plain, name).length, 0, `${name} falls to the default (EPERM)`);
  }
  assert.equal(rulesFor(plain, 'riscv_flush_icache').length + rulesFor(plain, 'set_tls').length + rulesFor(plain, 's390_runtime_instr').length, 0, 'other arches’ rules are left out');
  const names = plain.syscalls.flatMap((s) => s.names);
  assert.ok(names.length > 340, `allowlist size ${names.length}`);
});

test('argument filters: socket without AF_VSOCK, personality values, clone without namespace flags, clone3 → ENOSYS', () => {
  assert.deepEqual(rulesFor(plain, 'socket'), [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] }]);
  assert.deepEqual(
    rulesFor(plain, 'personality').map((s) => s.args?.[0]?.value),
    [0, 8, 0x20000, 0x20008, 0xffffffff],
  );
  assert.ok(rulesFor(plain, 'personality').every((s) => s.args?.[0]?.op === 'SCMP_CMP_EQ'));
  assert.equal(CLONE_NAMESPACE_FLAGS, 2114060288);
  assert.deepEqual(rulesFor(plain, 'clone'), [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] }]);
  assert.deepEqual(rulesFor(plain, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
});

test('capabilities bring their syscalls back', () => {
  const admin = defaultSeccompProfile({ ...x64, capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'] });
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'sethostname', 'clone', 'clone3', 'fsopen', 'quotactl']) assert.ok(allowedUnconditionally(admin, name), `${name} with SYS_ADMIN`);
  assert.ok(!rulesFor(admin, 'clone3').some((s) => s.action === 'SCMP_ACT_ERRNO'), 'no ENOSYS for clone3 with SYS_ADMIN');
  assert.ok(!rulesFor(admin, 'clone').some((s) => s.args), 'no argument filter for clone with SYS_ADMIN');
  const more = defaultSeccompProfile({ ...x64, capabilities: ['CAP_SYS_PTRACE', 'CAP_SYS_MODULE', 'CAP_SYS_TIME', 'CAP_SYS_BOOT', 'CAP_SYS_PACCT', 'CAP_SYS_RAWIO', 'CAP_SYS_NICE', 'CAP_SYSLOG', 'CAP_BPF', 'CAP_PERFMON', 'CAP_DAC_READ_SEARCH', 'CAP_SYS_TTY_CONFIG'] });
  for (const name of ['kcmp', 'pidfd_getfd', 'init_module', 'finit_module', 'delete_module', 'settimeofday', 'clock_settime', 'reboot', 'acct', 'iopl', 'ioperm', 'mbind', 'syslog', 'bpf', 'perf_event_open', 'open_by_handle_at', 'vhangup']) {
    assert.ok(allowedUnconditionally(more, name), `${name} with its capability`);
  }
  const noChroot = defaultSeccompProfile({ ...x64, capabilities: DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT') });
  assert.equal(rulesFor(noChroot, 'chroot').length, 0, 'chroot goes with CAP_SYS_CHROOT');
});

test('other architectures and old kernels', () => {
  const arm = defaultSeccompProfile({ arch: 'arm64', kernel: '6.1', capabilities: [] });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(allowedUnconditionally(arm, 'set_tls'));
  assert.equal(rulesFor(arm, 'arch_prctl').length, 0);
  const old = defaultSeccompProfile({ ...x64, kernel: '4.4.0', capabilities: [] });
  assert.equal(rulesFor(old, 'ptrace').length, 0, 'ptrace needs 4.8 (before, it could bypass seccomp)');
  const s390 = defaultSeccompProfile({ arch: 's390x', kernel: '6.1', capabilities: [] });
  assert.deepEqual(rulesFor(s390, 'clone').map((s) => s.args?.[0]?.index), [1]);
});

test('custom profiles: validated, Docker or OCI form, compiled the same way', () => {
  const docker = parseSeccompProfile(JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
    syscalls: [
      { name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_FOWNER'] } },
      { names: ['uname'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 1, valueTwo: 0, op: 'SCMP_CMP_GE' }] },
    ],
  }));
  const out = compileSeccomp(docker, { ...x64, capabilities: ['CAP_FOWNER'] });
  assert.deepEqual(out, {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['uname'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 1, op: 'SCMP_CMP_GE' }] },
    ],
  });
  const oci = parseSeccompProfile('{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}');
  assert.deepEqual(compileSeccomp(oci, { ...x64, capabilities: [] }).architectures, ['SCMP_ARCH_X86_64']);
  const bad: [string, RegExp][] = [
    ['nope', /not valid JSON/],
    ['[]', /root/],
    ['{"defaultAction":"SCMP_ACT_MAYBE"}', /defaultAction/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}', /syscalls\[0\]\.args\[0\]\.op/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"x","names":["y"],"action":"SCMP_ACT_ALLOW"}]}', /both/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"}]}', /names no syscall/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ERRNO","errnoRet":-1}]}', /errnoRet/],
  ];
  for (const [json, re] of bad) assert.throws(() => parseSeccompProfile(json), (e: unknown) => BerthError.is(e, 'invalid_argument') && re.test(e.message), json);
  const both = parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}');
  assert.throws(() => compileSeccomp(both, { ...x64, capabilities: [] }), /either 'architectures' or 'archMap'/);
});
