import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerRecord } from '../api/types/containers';
import { stopOrder } from './down';

const c = (service: string, dependsOn = ''): ContainerRecord =>
  ({ name: `p-${service}-1`, request: { image: 'x', labels: { 'com.docker.compose.service': service, 'com.docker.compose.depends_on': dependsOn } } }) as unknown as ContainerRecord;

test('stopOrder: dependents stop before what they depend on', () => {
  const waves = stopOrder([c('db'), c('app', 'db:service_healthy:false,cache:service_started:false'), c('cache', 'db:service_started:false'), c('tool')]);
  assert.deepEqual(
    waves.map((w) => w.map((x) => x.name).sort()),
    [['p-app-1', 'p-tool-1'], ['p-cache-1'], ['p-db-1']],
  );
});

test('stopOrder: a cycle stops the rest together', () => {
  const waves = stopOrder([c('a', 'b:service_started:false'), c('b', 'a:service_started:false')]);
  assert.deepEqual(
    waves.map((w) => w.map((x) => x.name).sort()),
    [['p-a-1', 'p-b-1']],
  );
});
