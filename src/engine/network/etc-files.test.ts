import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostsFile } from './etc-files';

test('hosts file: loopback first, then own and peer entries, names unique per line', () => {
  const text = hostsFile([{ ip: '10.0.0.2', names: ['abc'] }], [{ ip: '10.0.0.3', names: ['db', 'database', 'db'] }, { ip: '10.0.0.4', names: [] }]);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], '127.0.0.1\tlocalhost');
  assert.deepEqual(lines.slice(-2), ['10.0.0.2\tabc', '10.0.0.3\tdb database']);
});
