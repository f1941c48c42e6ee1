import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../common/errors';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, capabilities, capabilitiesFromMask, capabilitiesToMask, capabilitySets, normalizeCapability } from './capabilities';

const sorted = (caps: readonly string[]): string[] => ALL_CAPABILITIES.filter((c) => caps.includes(c));
const without = (...drop: string[]): string[] => sorted(DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)));

test('the 14 defaults, as the mask Docker containers show (a80425fb)', () => {
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(capabilities({}), sorted(DEFAULT_CAPABILITIES));
  assert.equal(capabilitiesToMask(capabilities({})), '00000000a80425fb');
  assert.deepEqual(capabilitiesFromMask('00000000a80425fb'), sorted(DEFAULT_CAPABILITIES));
  assert.equal(ALL_CAPABILITIES.length, 41);
  assert.equal(capabilitiesToMask(ALL_CAPABILITIES), '000001ffffffffff');
});

test('names with or without CAP_, any case', () => {
  assert.equal(normalizeCapability('net_admin'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('CAP_SYS_PTRACE'), 'CAP_SYS_PTRACE');
  assert.equal(normalizeCapability('all'), 'ALL');
  assert.throws(() => normalizeCapability('NET_MAGIC'), (e: unknown) => BerthError.is(e, 'invalid_argument') && /NET_MAGIC/.test(e.message));
  assert.deepEqual(capabilities({ capAdd: ['net_admin', 'CAP_SYS_PTRACE'] }), sorted([...DEFAULT_CAPABILITIES, 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE']));
  assert.deepEqual(capabilities({ capDrop: ['NET_RAW', 'cap_mknod'] }), without('CAP_NET_RAW', 'CAP_MKNOD'));
});

test('ALL on either side, and an add beats a drop (moby TweakCapabilities)', () => {
  assert.deepEqual(capabilities({ capDrop: ['ALL'] }), []);
  assert.deepEqual(capabilities({ capDrop: ['ALL'], capAdd: ['CHOWN', 'KILL'] }), ['CAP_CHOWN', 'CAP_KILL']);
  assert.deepEqual(capabilities({ capAdd: ['ALL'] }), [...ALL_CAPABILITIES]);
  assert.deepEqual(capabilities({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] }), ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.deepEqual(capabilities({ capAdd: ['ALL'], capDrop: ['ALL'] }), [...ALL_CAPABILITIES]);
  assert.deepEqual(capabilities({ capAdd: ['NET_RAW'], capDrop: ['NET_RAW'] }), sorted(DEFAULT_CAPABILITIES));
});

test('privileged and ALL stop at what the engine holds; naming a missing one fails', () => {
  const available = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE' && c !== 'CAP_AUDIT_WRITE');
  assert.deepEqual(capabilities({ privileged: true }, available), available);
  assert.deepEqual(capabilities({ privileged: true, capDrop: ['ALL'] }, available), available);
  assert.ok(!capabilities({ capAdd: ['ALL'] }, available).includes('CAP_SYS_RESOURCE'));
  assert.deepEqual(capabilities({}, available), without('CAP_AUDIT_WRITE'));
  assert.throws(() => capabilities({ capAdd: ['SYS_RESOURCE'] }, available), (e: unknown) => BerthError.is(e, 'failed_precondition'));
});

test('root gets bounding, effective and permitted; other users the bounding set only; never inheritable or ambient', () => {
  const caps = capabilities({});
  assert.deepEqual(capabilitySets(caps, 0), { bounding: caps, effective: caps, permitted: caps });
  assert.deepEqual(capabilitySets(caps, 1000), { bounding: caps });
  assert.throws(() => capabilitiesToMask(['CAP_NOPE']), (e: unknown) => BerthError.is(e, 'invalid_argument'));
});
