import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerUriString, normalizePath, parseContainerUri } from './container-uri';

const id = 'a'.repeat(64);

test('container URIs: the authority is the container id, the path is normalized', () => {
  assert.deepEqual(parseContainerUri({ scheme: 'berth-container', authority: id, path: '/workspaces/app/' }), { containerId: id, path: '/workspaces/app' });
  assert.equal(containerUriString({ containerId: id, path: 'workspaces//app/./x/../y' }), `berth-container://${id}/workspaces/app/y`);
  assert.equal(normalizePath(''), '/');
  assert.equal(normalizePath('/../..'), '/');
});

test('container URIs: other schemes and ids that are not hex are refused', () => {
  assert.throws(() => parseContainerUri({ scheme: 'file', authority: '', path: '/x' }), /not a container URI/);
  assert.throws(() => parseContainerUri({ scheme: 'berth-container', authority: 'my-name', path: '/x' }), /not a container id/);
});
