import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors';
import { interpolate, interpolateTree } from './interpolate';

const env: Record<string, string> = { SET: 'yes', EMPTY: '', PORT: '5432' };
const lookup = (n: string): string | undefined => env[n];

test('interpolate: plain, braced, defaults for unset and empty, alternatives, $$', () => {
  assert.equal(interpolate('$SET-${SET}_$PORT', lookup), 'yes-yes_5432');
  assert.equal(interpolate('${MISSING:-d} ${EMPTY:-d} ${EMPTY-d} ${MISSING-d}', lookup), 'd d  d');
  assert.equal(interpolate('${SET:+alt} ${EMPTY:+alt}|${EMPTY+alt} ${MISSING+alt}|', lookup), 'alt |alt |');
  assert.equal(interpolate('cost $$5 and $${SET} $', lookup), 'cost $5 and ${SET} $');
  assert.equal(interpolate('${MISSING:-${SET}-${PORT:-0}}', lookup), 'yes-5432');
  assert.equal(interpolate('$MISSING|${MISSING}', lookup), '|');
});

test('interpolate: required variables and bad syntax are errors', () => {
  assert.equal(interpolate('${SET:?need it}', lookup), 'yes');
  assert.throws(() => interpolate('${EMPTY:?need it}', lookup), (e: unknown) => BerthError.is(e, 'invalid_argument') && /EMPTY.*need it/.test((e as Error).message));
  assert.equal(interpolate('${EMPTY?x}', lookup), '');
  assert.throws(() => interpolate('${MISSING?}', lookup), /MISSING/);
  assert.throws(() => interpolate('${SET', lookup), /unterminated/);
  assert.throws(() => interpolate('${1x}', lookup), /invalid interpolation/);
});

test('interpolateTree: values, not keys, and non-strings kept', () => {
  assert.deepEqual(interpolateTree({ $SET: ['${PORT}', 3, true, null, { k: '$SET' }] }, lookup, 'f'), { $SET: ['5432', 3, true, null, { k: 'yes' }] });
});
