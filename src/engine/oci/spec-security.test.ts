import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../../common/errors';
import { loadSecurityOptions, parseSecurityOptions } from './spec-security';

const invalid = (re: RegExp) => (e: unknown): boolean => BerthError.is(e, 'invalid_argument') && re.test(e.message);

test('defaults and each option, with "=" or the legacy ":"', () => {
  assert.deepEqual(parseSecurityOptions([]), { seccomp: { kind: 'default' }, noNewPrivileges: false, systemPathsUnconfined: false, writableCgroups: false, labels: [] });
  assert.deepEqual(parseSecurityOptions(['seccomp=unconfined']).seccomp, { kind: 'unconfined' });
  assert.deepEqual(parseSecurityOptions(['seccomp:unconfined']).seccomp, { kind: 'unconfined' });
  assert.deepEqual(parseSecurityOptions(['seccomp=unconfined', 'seccomp=builtin']).seccomp, { kind: 'default' });
  assert.equal(parseSecurityOptions(['no-new-privileges']).noNewPrivileges, true);
  assert.equal(parseSecurityOptions(['no-new-privileges=true']).noNewPrivileges, true);
  assert.equal(parseSecurityOptions(['no-new-privileges:1']).noNewPrivileges, true);
  assert.equal(parseSecurityOptions(['no-new-privileges', 'no-new-privileges=false']).noNewPrivileges, false);
  assert.equal(parseSecurityOptions(['systempaths=unconfined']).systemPathsUnconfined, true);
  assert.equal(parseSecurityOptions(['writable-cgroups=true']).writableCgroups, true);
  const accepted = parseSecurityOptions(['apparmor=unconfined', 'label=disable', 'label:type:svirt_t', 'disable']);
  assert.equal(accepted.apparmorProfile, 'unconfined');
  assert.deepEqual(accepted.labels, ['disable', 'type:svirt_t', 'disable']);
  const custom = parseSecurityOptions(['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}']).seccomp;
  assert.equal(custom.kind, 'custom');
});

test('bad options are refused', () => {
  assert.throws(() => parseSecurityOptions(['bogus=1']), invalid(/invalid --security-opt: "bogus=1"/));
  assert.throws(() => parseSecurityOptions(['justaword']), invalid(/invalid --security-opt/));
  assert.throws(() => parseSecurityOptions(['no-new-privileges=maybe']), invalid(/invalid --security-opt/));
  assert.throws(() => parseSecurityOptions(['systempaths=confined']), invalid(/systempaths/));
  assert.throws(() => parseSecurityOptions(['seccomp=/etc/profile.json']), invalid(/absolute path the engine can read/));
  assert.throws(() => parseSecurityOptions(['seccomp={"defaultAction":1}']), invalid(/defaultAction/));
});

test('loadSecurityOptions reads profile files', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-secopt-'));
  try {
    const file = path.join(dir, 'p.json');
    await writeFile(file, '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}');
    const opts = await loadSecurityOptions([`seccomp=${file}`, 'no-new-privileges']);
    assert.equal(opts.noNewPrivileges, true);
    assert.ok(opts.seccomp.kind === 'custom' && opts.seccomp.template.syscalls[0]?.errnoRet === 13);
    await assert.rejects(loadSecurityOptions([`seccomp=${path.join(dir, 'missing.json')}`]), invalid(/missing\.json/));
    await writeFile(file, Buffer.alloc(1024 * 1024 + 1, 0x20));
    await assert.rejects(loadSecurityOptions([`seccomp=${file}`]), invalid(/larger than 1 MiB/));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
