import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors';
import { normalizeProject } from './normalize';
import { servicesToStart } from './plan';

function project(services: Record<string, unknown>, profiles: string[] = []) {
  return normalizeProject({ services }, { name: 'p', workingDir: '/w', configFiles: ['/w/c.yml'], profiles, lookup: () => undefined, envFiles: new Map() });
}

test('servicesToStart: dependencies first, requested services pull theirs in', () => {
  const p = project({ app: { image: 'a', depends_on: ['db', 'cache'] }, db: { image: 'd' }, cache: { image: 'c', depends_on: { db: { condition: 'service_healthy' } } }, other: { image: 'o' } });
  assert.deepEqual(servicesToStart(p), ['db', 'cache', 'app', 'other']);
  assert.deepEqual(servicesToStart(p, ['app']), ['db', 'cache', 'app']);
  assert.throws(() => servicesToStart(p, ['nope']), (e: unknown) => BerthError.is(e, 'not_found'));
});

test('servicesToStart: profiles', () => {
  const services = { app: { image: 'a' }, debug: { image: 'd', profiles: ['debug'] }, tools: { image: 't', profiles: ['tools', 'debug'] } };
  assert.deepEqual(servicesToStart(project(services)), ['app']);
  assert.deepEqual(servicesToStart(project(services, ['debug'])), ['app', 'debug', 'tools']);
  assert.deepEqual(servicesToStart(project(services, ['tools'])), ['app', 'tools']);
  // A service named on the command line starts whatever its profiles.
  assert.deepEqual(servicesToStart(project(services), ['debug']), ['debug']);
});

test('servicesToStart: a cycle is an error', () => {
  const p = project({ a: { image: 'a', depends_on: ['b'] }, b: { image: 'b', depends_on: ['a'] } });
  assert.throws(() => servicesToStart(p), /dependency cycle: a -> b -> a/);
});
