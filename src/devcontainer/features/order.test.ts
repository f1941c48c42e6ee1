/** Feature install order and option values: pure rules of the features spec. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optionEnvName, optionValues, type FeatureJson } from './feature-json';
import { installOrder } from './order';
import type { ResolvedFeature } from './resolve';

const f = (userId: string, json: Partial<FeatureJson> = {}): ResolvedFeature => ({
  userId,
  baseId: userId.replace(/:[^/]*$/, ''),
  kind: 'oci',
  dir: '/nowhere',
  json: { id: userId.split('/').at(-1) ?? userId, ...json },
  value: {},
});

test('dependsOn and installsAfter come first; the configuration order breaks ties; override ranks the free ones', () => {
  const a = f('r/ns/a:1', { installsAfter: ['r/ns/c'] });
  const b = f('r/ns/b:1');
  const c = f('r/ns/c:2', { dependsOn: { 'r/ns/d:1': {} } });
  const d = f('r/ns/d:1');
  assert.deepEqual(installOrder([a, b, c, d]).map((x) => x.userId), ['r/ns/b:1', 'r/ns/d:1', 'r/ns/c:2', 'r/ns/a:1']);
  assert.deepEqual(installOrder([a, b, c, d], ['r/ns/d', 'r/ns/c']).map((x) => x.userId), ['r/ns/d:1', 'r/ns/c:2', 'r/ns/a:1', 'r/ns/b:1']);
  // installsAfter a feature that is not in the set is no constraint.
  assert.deepEqual(installOrder([f('x', { installsAfter: ['missing'] })]).map((x) => x.userId), ['x']);
  assert.throws(() => installOrder([f('p', { installsAfter: ['q'] }), f('q', { dependsOn: { p: {} } })]), /cycle: p, q/);
});

test('option values: the user value, else the default; a bare string sets version; names as the spec says', () => {
  assert.equal(optionEnvName('loud-mode'), 'LOUD_MODE');
  assert.equal(optionEnvName('9lives'), '_LIVES');
  assert.equal(optionEnvName('my.opt'), 'MY_OPT');
  const json: FeatureJson = { id: 'x', options: { version: { type: 'string', default: 'latest' }, flag: { type: 'boolean', default: true } } };
  assert.deepEqual(optionValues(json, {}), { VERSION: 'latest', FLAG: 'true' });
  assert.deepEqual(optionValues(json, '18'), { VERSION: '18', FLAG: 'true' });
  assert.deepEqual(optionValues(json, { flag: false, extra: 'y' }), { VERSION: 'latest', FLAG: 'false', EXTRA: 'y' });
});
