import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerRecord } from '../../../src/api/types/containers';
import { attachFolder } from './attach-folder';

const record = (labels: Record<string, string>, mounts: { source: string; destination: string }[], workingDir?: string): Pick<ContainerRecord, 'request' | 'mounts'> =>
  ({ request: { labels, ...(workingDir ? { workingDir } : {}) }, mounts: mounts.map((m) => ({ type: 'bind', readOnly: false, ...m })) }) as unknown as Pick<ContainerRecord, 'request' | 'mounts'>;

test('attach: the mount of the local folder, else the working directory, else the root', () => {
  assert.equal(attachFolder(record({ 'devcontainer.local_folder': '/home/me/app' }, [{ source: '/x', destination: '/x' }, { source: '/home/me/app', destination: '/workspaces/app' }])), '/workspaces/app');
  assert.equal(attachFolder(record({}, [], '/srv')), '/srv');
  assert.equal(attachFolder(record({ 'devcontainer.local_folder': '/gone' }, [])), '/');
});
