import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImageRecord } from '../api/types/images';
import { normalizeProject } from '../compose/normalize';
import { serviceRequest } from '../compose/service-request';
import { mergeConfiguration } from '../config/image-metadata';
import type { ComposeConfig } from '../config/types';
import { withConfig } from './up';
import { composeFilesOf, devServiceRequest } from './up-compose';

const project = normalizeProject(
  { services: { app: { image: 'app:1', volumes: ['/src:/workspaces/src'], cap_add: ['SYS_PTRACE'] }, cmd: { image: 'app:1', command: 'run me', entrypoint: ['/init'] } } },
  { name: 'ws_devcontainer', workingDir: '/ws/.devcontainer', configFiles: ['/ws/.devcontainer/c.yml'], profiles: [], lookup: () => undefined, envFiles: new Map() },
);
const image = { id: 'sha256:1', config: { config: { Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['serve'] } } } as unknown as ImageRecord;
const idLabels = { 'devcontainer.local_folder': '/ws', 'devcontainer.config_file': '/ws/.devcontainer/devcontainer.json' };

function request(service: 'app' | 'cmd', config: Partial<ComposeConfig>) {
  const svc = project.services[service];
  assert.ok(svc);
  const c: ComposeConfig = { dockerComposeFile: 'c.yml', service, ...config };
  const merged = mergeConfiguration(c, withConfig([{ entrypoint: '/feature-entry.sh' }, { containerEnv: { A: '1' } }], c));
  return devServiceRequest(svc, serviceRequest(project, svc, { reference: 'app:1', id: 'sha256:1' }), image, { merged, entries: [{ remoteUser: 'x' }], idLabels, extraMounts: ['type=volume,source=v,target=/v'] });
}

test("devServiceRequest: the keep-alive entrypoint runs the features' entrypoints, then the image's own command (overrideCommand is false for compose)", () => {
  const r = request('app', { containerEnv: { B: '2' }, capAdd: ['NET_ADMIN'], mounts: ['type=bind,source=/cache,target=/cache'] });
  assert.deepEqual(r.entrypoint?.slice(0, 2), ['/bin/sh', '-c']);
  assert.match(r.entrypoint?.[2] ?? '', /\/feature-entry\.sh\nexec "\$@"/);
  assert.deepEqual(r.entrypoint?.slice(3), ['-', '/docker-entrypoint.sh']);
  assert.deepEqual(r.cmd, ['serve']);
  assert.equal(r.labels?.['devcontainer.local_folder'], '/ws');
  assert.equal(r.labels?.['devcontainer.metadata'], JSON.stringify([{ remoteUser: 'x' }]));
  assert.equal(r.labels?.['com.docker.compose.service'], 'app');
  assert.deepEqual(r.env, ['A=1', 'B=2']);
  assert.deepEqual(r.capAdd, ['SYS_PTRACE', 'NET_ADMIN']);
  assert.deepEqual(
    r.mounts?.map((m) => m.target),
    ['/workspaces/src', '/cache', '/v'],
  );
  assert.equal(r.agent, true);
});

test("devServiceRequest: the service's entrypoint and command; overrideCommand drops both", () => {
  const own = request('cmd', {});
  assert.deepEqual(own.entrypoint?.slice(3), ['-', '/init']);
  assert.deepEqual(own.cmd, ['run', 'me']);
  const over = request('cmd', { overrideCommand: true });
  assert.deepEqual(over.entrypoint?.slice(3), ['-']);
  assert.deepEqual(over.cmd, []);
});

test('composeFilesOf: relative to the config file', () => {
  assert.deepEqual(composeFilesOf({ dockerComposeFile: ['../a.yml', 'b.yml'], service: 's' }, '/ws/.devcontainer/devcontainer.json'), ['/ws/a.yml', '/ws/.devcontainer/b.yml']);
});
