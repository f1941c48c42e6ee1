import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCgroupFile } from './cgroup';
import { parsePs } from './top';

test('ps output: the header gives the columns, rows of other processes are dropped, the command keeps its spaces', () => {
  const out = ['UID          PID    PPID  C STIME TTY          TIME CMD', 'root           1       0  0 09:00 ?        00:00:01 /sbin/init', 'root        4242    4240  0 09:14 ?        00:00:00 sleep 1000 now', ''].join('\n');
  assert.deepEqual(parsePs(out, new Set([4242])), {
    titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    processes: [['root', '4242', '4240', '0', '09:14', '?', '00:00:00', 'sleep 1000 now']],
  });
  assert.throws(() => parsePs('USER COMMAND\nroot x\n', new Set([1])), /no PID column/);
});

test('/proc/PID/cgroup: v1 controllers (named ones too), the unified hierarchy beside them, or v2 alone', () => {
  const hybrid = parseCgroupFile('9:name=systemd:/berth/abc\n4:memory:/berth/abc\n2:cpu,cpuacct:/berth/abc\n0::/berth/abc\n', '/cg');
  assert.equal(hybrid.v1.get('memory'), '/cg/memory/berth/abc');
  assert.equal(hybrid.v1.get('cpuacct'), '/cg/cpuacct/berth/abc');
  assert.equal(hybrid.v1.get('systemd'), '/cg/systemd/berth/abc');
  assert.equal(hybrid.v2, '/cg/unified/berth/abc');
  const v2 = parseCgroupFile('0::/berth/abc\n', '/cg');
  assert.deepEqual([v2.v1.size, v2.v2], [0, '/cg/berth/abc']);
  assert.equal(parseCgroupFile('4:memory:/x\n0::/\n', '/cg').v2, undefined);
});
