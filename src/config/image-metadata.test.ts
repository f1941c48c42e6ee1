import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors';
import { configToMetadataEntry, mergeConfiguration, mergeWithImageMetadata, mountTarget, parseBytes, parseImageMetadataLabel } from './image-metadata';
import type { DevContainerConfig } from './types';

test('label parsing: array, single object, empty, malformed', () => {
  assert.deepEqual(parseImageMetadataLabel('[{"remoteUser":"a"},{"init":true}]'), [{ remoteUser: 'a' }, { init: true }]);
  assert.deepEqual(parseImageMetadataLabel('{"remoteUser":"a"}'), [{ remoteUser: 'a' }]);
  assert.deepEqual(parseImageMetadataLabel(undefined), []);
  assert.deepEqual(parseImageMetadataLabel('  '), []);
  assert.throws(() => parseImageMetadataLabel('[{'), (e: unknown) => BerthError.is(e, 'invalid_argument') && /not valid JSON/.test(e.message));
  assert.throws(() => parseImageMetadataLabel('[1]'), /entry 0 is not an object/);
  assert.throws(() => parseImageMetadataLabel('[{}, {"id": "f", "mounts": [null]}]'), /entry 1 \(id "f"\): mounts must be an array of mount strings or objects/);
  assert.throws(() => parseImageMetadataLabel('{"customizations": "ab"}'), (e: unknown) => BerthError.is(e, 'invalid_argument') && /customizations must be an object/.test(e.message));
  assert.throws(() => parseImageMetadataLabel('{"capAdd": [1]}'), /capAdd must be an array of strings/);
});

test('only mergeable properties are picked from the local configuration', () => {
  const config: DevContainerConfig = { image: 'x', name: 'n', remoteUser: 'u', forwardPorts: [1], runArgs: ['--x'] };
  assert.deepEqual(configToMetadataEntry(config), { remoteUser: 'u', forwardPorts: [1] });
});

test('booleans are ORed, lists are unions, lifecycle commands collected in order', () => {
  const config: DevContainerConfig = { image: 'x', postCreateCommand: { a: 'echo local' }, capAdd: ['SYS_PTRACE'] };
  const merged = mergeWithImageMetadata(
    config,
    JSON.stringify([
      { id: 'f1', init: true, capAdd: ['NET_ADMIN', 'SYS_PTRACE'], postCreateCommand: 'echo base', onCreateCommand: ['echo', 'one'], entrypoint: '/f1.sh' },
      { id: 'f2', privileged: false, securityOpt: ['seccomp=unconfined'], postCreateCommand: ['echo', 'feature'], entrypoint: '/f2.sh' },
    ]),
  );
  assert.equal(merged.init, true);
  assert.equal(merged.privileged, false);
  assert.deepEqual(merged.capAdd, ['NET_ADMIN', 'SYS_PTRACE']);
  assert.deepEqual(merged.securityOpt, ['seccomp=unconfined']);
  assert.deepEqual(merged.entrypoints, ['/f1.sh', '/f2.sh']);
  assert.deepEqual(merged.postCreateCommands, ['echo base', ['echo', 'feature'], { a: 'echo local' }]);
  assert.deepEqual(merged.onCreateCommands, [['echo', 'one']]);
  assert.deepEqual(merged.postStartCommands, []);
  assert.equal('postCreateCommand' in merged, false, 'replaced by the plural form');
  assert.equal(merged['image'], 'x', 'other properties are kept');
});

test('single values: the last entry that sets them wins', () => {
  const merged = mergeWithImageMetadata(
    { image: 'x', remoteUser: 'local', overrideCommand: false },
    JSON.stringify([
      { remoteUser: 'base', containerUser: 'c1', userEnvProbe: 'loginShell', waitFor: 'onCreateCommand', updateRemoteUserUID: false, shutdownAction: 'none' },
      { containerUser: 'c2', overrideCommand: true, otherPortsAttributes: { onAutoForward: 'silent' } },
    ]),
  );
  assert.equal(merged['remoteUser'], 'local');
  assert.equal(merged['containerUser'], 'c2');
  assert.equal(merged['userEnvProbe'], 'loginShell');
  assert.equal(merged['waitFor'], 'onCreateCommand');
  assert.equal(merged['overrideCommand'], false, 'false set later still wins');
  assert.equal(merged['updateRemoteUserUID'], false);
  assert.equal(merged['shutdownAction'], 'none');
  assert.deepEqual(merged['otherPortsAttributes'], { onAutoForward: 'silent' });
});

test('env and portsAttributes merge by key, later wins; forwardPorts union keeps order', () => {
  const merged = mergeWithImageMetadata(
    { image: 'x', containerEnv: { B: 'local' }, remoteEnv: { R: null }, forwardPorts: [3000, 'db:5432'], portsAttributes: { '3000': { label: 'local' } } },
    JSON.stringify([{ containerEnv: { A: '1', B: 'base' }, remoteEnv: { R: 'x', S: 'y' }, forwardPorts: [8080, 3000], portsAttributes: { '3000': { label: 'base' }, '8080': { label: 'web' } } }]),
  );
  assert.deepEqual(merged.containerEnv, { A: '1', B: 'local' });
  assert.deepEqual(merged.remoteEnv, { R: null, S: 'y' });
  assert.deepEqual(merged.forwardPorts, [8080, 3000, 'db:5432']);
  assert.deepEqual(merged.portsAttributes, { '3000': { label: 'local' }, '8080': { label: 'web' } });
});

test('mounts: the last mount per target wins, string and object forms alike', () => {
  assert.equal(mountTarget('source=a,dst=/x,type=volume'), '/x');
  assert.equal(mountTarget({ type: 'bind', source: '/a', target: '/y' }), '/y');
  const merged = mergeWithImageMetadata(
    { image: 'x', mounts: [{ type: 'volume', source: 'local', target: '/data' }] },
    JSON.stringify([{ mounts: ['source=base,target=/data,type=volume', 'source=cache,destination=/cache,type=volume'] }]),
  );
  assert.deepEqual(merged.mounts, ['source=cache,destination=/cache,type=volume', { type: 'volume', source: 'local', target: '/data' }]);
});

test('customizations are collected per tool', () => {
  const merged = mergeWithImageMetadata(
    { image: 'x', customizations: { vscode: { extensions: ['local'] } } },
    JSON.stringify([{ customizations: { vscode: { extensions: ['base'] }, jetbrains: { backend: 'x' } } }]),
  );
  assert.deepEqual(merged.customizations, { vscode: [{ extensions: ['base'] }, { extensions: ['local'] }], jetbrains: [{ backend: 'x' }] });
});

test('hostRequirements: the maximum of each', () => {
  assert.equal(parseBytes('4gb'), 4 * 2 ** 30);
  assert.equal(parseBytes('512mb'), 512 * 2 ** 20);
  assert.equal(parseBytes('100'), 100);
  assert.equal(parseBytes('4 GB'), 0);
  const merged = mergeWithImageMetadata(
    { image: 'x', hostRequirements: { cpus: 2, memory: '512mb', gpu: 'optional' } },
    JSON.stringify([{ hostRequirements: { cpus: 4, memory: '1gb', storage: '10gb', gpu: { cores: 2, memory: '2gb' } } }]),
  );
  assert.deepEqual(merged.hostRequirements, { cpus: 4, memory: String(2 ** 30), storage: String(10 * 2 ** 30), gpu: { cores: 2, memory: String(2 * 2 ** 30) } });
  assert.equal(mergeConfiguration({ image: 'x' }, [{}]).hostRequirements, undefined);
  // Entries without properties do not take part (the local one is empty here).
  assert.deepEqual(mergeWithImageMetadata({ image: 'x' }, '{"hostRequirements":{"gpu":false,"cpus":2}}').hostRequirements, { cpus: 2, gpu: false });
  assert.deepEqual(mergeWithImageMetadata({ image: 'x', hostRequirements: { gpu: 'optional' } }, '{"hostRequirements":{"gpu":"optional"}}').hostRequirements, { cpus: 0, gpu: 'optional' });
});
