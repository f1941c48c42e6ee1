import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeProject } from './normalize';
import { configHash, serviceRequest } from './service-request';

const project = normalizeProject(
  {
    services: {
      app: {
        image: 'app:1',
        command: ['run'],
        environment: { A: '1' },
        ports: ['8000-8002:80', '127.0.0.1::90'],
        volumes: ['/host:/h:ro', 'data:/data', '/anon', { type: 'tmpfs', target: '/t' }],
        networks: { default: null, back: { aliases: ['api'] } },
        depends_on: { db: { condition: 'service_healthy' } },
        cap_add: ['NET_ADMIN'],
        init: true,
        labels: ['mine=1'],
        expose: ['3000'],
        stop_grace_period: '3s',
        mem_limit: '512m',
        cpus: 1.5,
        deploy: { replicas: 2 },
      },
      db: { image: 'db:1' },
      side: { image: 'side:1', network_mode: 'service:db' },
    },
    volumes: { data: null },
    networks: { back: null },
  },
  { name: 'proj', workingDir: '/w', configFiles: ['/w/a.yml', '/w/b.yml'], profiles: [], lookup: () => undefined, envFiles: new Map() },
);

test('serviceRequest: Compose labels, volumes by engine name, the service name as an alias on every network, ports', () => {
  const r = serviceRequest(project, project.services['app'] as never, { reference: 'app:1', id: 'sha256:abc' });
  assert.equal(r.name, 'proj-app-1');
  assert.equal(r.image, 'app:1');
  assert.deepEqual(r.cmd, ['run']);
  assert.deepEqual(r.env, ['A=1']);
  assert.equal(r.init, true);
  assert.deepEqual(r.capAdd, ['NET_ADMIN']);
  assert.equal(r.stopTimeout, 3);
  assert.deepEqual(r.resources, { memory: 512 * 1024 * 1024, nanoCpus: 1_500_000_000 });
  assert.deepEqual(project.warnings, ['services.app.deploy is not supported by Berth yet; ignored']);
  assert.deepEqual(r.exposedPorts, ['3000/tcp']);
  const labels = { ...r.labels };
  assert.match(labels['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
  delete labels['com.docker.compose.config-hash'];
  assert.deepEqual(labels, {
    mine: '1',
    'com.docker.compose.project': 'proj',
    'com.docker.compose.service': 'app',
    'com.docker.compose.container-number': '1',
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.project.working_dir': '/w',
    'com.docker.compose.project.config_files': '/w/a.yml,/w/b.yml',
    'com.docker.compose.image': 'sha256:abc',
    'com.docker.compose.version': '2.29.0',
    'com.docker.compose.depends_on': 'db:service_healthy:false',
  });
  assert.deepEqual(r.mounts, [
    { type: 'bind', source: '/host', target: '/h', readOnly: true, createSource: true },
    { type: 'volume', source: 'proj_data', target: '/data', readOnly: false },
    { type: 'volume', target: '/anon', readOnly: false },
    { type: 'tmpfs', target: '/t' },
  ]);
  assert.equal(r.networkMode, 'proj_default');
  assert.deepEqual(r.networkAliases, ['app']);
  assert.deepEqual(r.extraNetworks, [{ name: 'proj_back', aliases: ['app', 'api'] }]);
  assert.deepEqual(r.ports, [
    { containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8000, hostPortEnd: 8002 },
    { containerPort: 90, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 },
  ]);
});

test('serviceRequest: network_mode service:X joins that container; the hash follows the image id', () => {
  const side = serviceRequest(project, project.services['side'] as never, { reference: 'side:1', id: 'sha256:1' });
  assert.equal(side.networkMode, 'container:proj-db-1');
  assert.equal(side.networkAliases, undefined);
  const again = serviceRequest(project, project.services['side'] as never, { reference: 'side:1', id: 'sha256:1' });
  const rebuilt = serviceRequest(project, project.services['side'] as never, { reference: 'side:1', id: 'sha256:2' });
  assert.equal(configHash(side), configHash(again));
  assert.notEqual(configHash(side), configHash(rebuilt));
});
