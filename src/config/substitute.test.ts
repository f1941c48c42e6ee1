import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors';
import {
  devcontainerId,
  envListToObject,
  substituteContainerEnv,
  substituteDevcontainerId,
  substituteLocal,
  substituteTemplateOptions,
} from './substitute';

const env = { HOME: '/home/u', EMPTY: '', PATHY: '/a:/b' };
const ctx = { env, localWorkspaceFolder: '/src/my-proj', containerWorkspaceFolder: '/workspaces/my-proj' };

test('localEnv: value, default, missing is empty, env alias', () => {
  assert.equal(substituteLocal('${localEnv:HOME}', ctx), '/home/u');
  assert.equal(substituteLocal('${localEnv:NOPE:fallback}', ctx), 'fallback');
  assert.equal(substituteLocal('${localEnv:HOME:fallback}', ctx), '/home/u');
  assert.equal(substituteLocal('${localEnv:EMPTY:fallback}', ctx), '', 'a set but empty variable is used');
  assert.equal(substituteLocal('[${localEnv:NOPE}]', ctx), '[]');
  assert.equal(substituteLocal('${env:HOME}', ctx), '/home/u');
  assert.equal(substituteLocal('${localEnv:PATHY}', ctx), '/a:/b');
});

test('localEnv without a name is an error that names the file', () => {
  assert.throws(
    () => substituteLocal('${localEnv}', { ...ctx, configFile: '/x/.devcontainer/devcontainer.json' }),
    (e: unknown) => BerthError.is(e, 'invalid_argument') && /'\$\{localEnv\}' in devcontainer.json/.test(e.message),
  );
});

test('workspace folder variables', () => {
  assert.equal(substituteLocal('${localWorkspaceFolder}', ctx), '/src/my-proj');
  assert.equal(substituteLocal('${localWorkspaceFolderBasename}', ctx), 'my-proj');
  assert.equal(substituteLocal('${containerWorkspaceFolder}', ctx), '/workspaces/my-proj');
  assert.equal(substituteLocal('${containerWorkspaceFolderBasename}', ctx), 'my-proj');
  // The container folder may itself use local variables.
  const nested = { env, localWorkspaceFolder: '/src/p', containerWorkspaceFolder: '/w/${localWorkspaceFolderBasename}' };
  assert.equal(substituteLocal('${containerWorkspaceFolder}', nested), '/w/p');
  // Unknown context leaves the variable as written.
  assert.equal(substituteLocal('${localWorkspaceFolder}', { env }), '${localWorkspaceFolder}');
  assert.equal(substituteLocal('${containerWorkspaceFolderBasename}', { env }), '${containerWorkspaceFolderBasename}');
});

test('later-phase and unknown variables are left alone by the local phase', () => {
  for (const v of ['${containerEnv:PATH}', '${devcontainerId}', '${templateOption:x}', '${foo}', '${}']) {
    assert.equal(substituteLocal(v, ctx), v);
  }
});

test('substitutes recursively in arrays and objects, never keys', () => {
  const value = { '${localEnv:HOME}': ['${localEnv:HOME}', 3, true, null, { deep: '${localWorkspaceFolderBasename}' }] };
  assert.deepEqual(substituteLocal(value, ctx), { '${localEnv:HOME}': ['/home/u', 3, true, null, { deep: 'my-proj' }] });
});

test('devcontainerId: sha256 of sorted-key JSON, base 32, 52 characters', () => {
  const labels = {
    'devcontainer.local_folder': '/home/u/proj',
    'devcontainer.config_file': '/home/u/proj/.devcontainer/devcontainer.json',
  };
  // Expected values computed independently (Python hashlib) from the spec's definition.
  assert.equal(devcontainerId(labels), '14ak8ob72e8kj9tspe40d7s4kp04qkoe2serr1g7b3oea7nffegl');
  assert.equal(devcontainerId({ b: '2', a: '1' }), '08fndntvsrfu47rm420eui212b7iikkn9jnj0t0vq69hs73di88i');
  assert.equal(devcontainerId({ a: '1', b: '2' }), devcontainerId({ b: '2', a: '1' }), 'key order does not matter');
  assert.equal(devcontainerId({ a: '1' }).length, 52);
  assert.match(devcontainerId({ a: '1' }), /^[0-9a-v]{52}$/);
  assert.deepEqual(substituteDevcontainerId({ v: 'vol-${devcontainerId}' }, { b: '2', a: '1' }), {
    v: 'vol-08fndntvsrfu47rm420eui212b7iikkn9jnj0t0vq69hs73di88i',
  });
});

test('containerEnv against the container environment', () => {
  const containerEnv = envListToObject(['PATH=/usr/bin:/bin', 'EQ=a=b', 'BAD']);
  assert.deepEqual(containerEnv, { PATH: '/usr/bin:/bin', EQ: 'a=b' });
  assert.equal(substituteContainerEnv('${containerEnv:PATH}:/x', containerEnv), '/usr/bin:/bin:/x');
  assert.equal(substituteContainerEnv('${containerEnv:NOPE:d}', containerEnv), 'd');
  assert.equal(substituteContainerEnv('${containerEnv:NOPE}', containerEnv), '');
  assert.equal(substituteContainerEnv('${localEnv:HOME}', containerEnv), '${localEnv:HOME}');
});

test('templateOption', () => {
  assert.equal(substituteTemplateOptions('node:${templateOption:version}-${templateOption:variant}', { version: '20', variant: 'bookworm' }), 'node:20-bookworm');
  assert.equal(substituteTemplateOptions('${templateOption:missing}', {}), '${templateOption:missing}');
  assert.equal(substituteTemplateOptions('${templateOption: version }', { version: '1' }), '1');
});
