import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributesFor, autoForwardAction, forwardTargets } from './port-attributes';

test('port attributes: exact ports beat ranges, ranges beat expressions; others fall back', () => {
  const attrs = {
    '3000': { label: 'web', onAutoForward: 'openBrowser' },
    '3000-3010': { label: 'range', onAutoForward: 'silent' },
    '^90': { label: 'regex', onAutoForward: 'ignore' },
  };
  const other = { onAutoForward: 'silent' };
  assert.equal(attributesFor(3000, attrs, other).label, 'web');
  assert.equal(attributesFor(3005, attrs, other).label, 'range');
  assert.equal(attributesFor(9000, attrs, other).label, 'regex');
  assert.deepEqual(attributesFor(4000, attrs, other), other);
  assert.deepEqual(attributesFor(4000, undefined, undefined), {});
  assert.equal(autoForwardAction(attributesFor(4000, undefined, undefined)), 'notify');
  assert.equal(autoForwardAction(attributesFor(9001, attrs, other)), 'ignore');
});

test('forwardPorts: numbers and host:port strings; bad entries dropped', () => {
  assert.deepEqual(forwardTargets([3000, 'db:5432', '8080', 0, 70000, 'x', true]), [
    { host: '127.0.0.1', port: 3000 },
    { host: 'db', port: 5432 },
    { host: '127.0.0.1', port: 8080 },
  ]);
  assert.deepEqual(forwardTargets(undefined), []);
});
