import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createLogger } from '../../src/common/log';
import { IdleMemoryRelease, releasableRanges } from './memory-release';

const mapping = (range: string, perms: string, name: string, rss: number, anonymous: number): string =>
  `${range} ${perms} 00000000 08:01 1234        ${name}\nSize:  64 kB\nRss:  ${rss} kB\nPss:  ${rss} kB\nAnonymous:  ${anonymous} kB\nVmFlags: rd mr\n`;

test('only private read-only mappings of existing files, with pages resident and none of their own, are released', () => {
  const smaps = [
    mapping('00400000-00410000', 'r--p', '/usr/bin/node', 40, 0),
    mapping('00410000-00420000', 'r-xp', '/usr/bin/node', 64, 0),
    // The loader's relocations: copy-on-write pages that exist nowhere else.
    mapping('00420000-00424000', 'r--p', '/usr/bin/node', 16, 8),
    mapping('00424000-00428000', 'rw-p', '/usr/bin/node', 16, 16),
    mapping('7f0000000000-7f0000010000', 'r--s', '/dev/shm/shared', 64, 0),
    mapping('7f0000010000-7f0000020000', 'r-xp', '/tmp/gone.node (deleted)', 64, 0),
    mapping('7f0000020000-7f0000030000', 'rw-p', '', 64, 64),
    mapping('7f0000030000-7f0000040000', 'r--p', '[vvar]', 8, 0),
    mapping('7f0000040000-7f0000050000', 'r-xp', '/usr/lib/x86_64-linux-gnu/libc.so.6', 0, 0),
    mapping('7f0000050000-7f0000060000', 'r-xp', '/usr/lib/x86_64-linux-gnu/libm.so.6', 12, 0),
  ].join('');
  assert.deepEqual(releasableRanges(smaps), [
    { start: 0x400000, length: 0x10000, residentKiB: 40 },
    { start: 0x410000, length: 0x10000, residentKiB: 64 },
    { start: 0x7f0000050000, length: 0x10000, residentKiB: 12 },
  ]);
});

test('a mapping whose Anonymous line is missing is not released', () => {
  const smaps = '00400000-00410000 r--p 00000000 08:01 1234 /usr/bin/node\nRss:  40 kB\n';
  assert.deepEqual(releasableRanges(smaps), []);
});

test("this process's own smaps: node's code is among the ranges, and every range is a read-only private file mapping", () => {
  const smaps = readFileSync('/proc/self/smaps', 'utf8');
  const ranges = releasableRanges(smaps);
  const headers = new Map(
    smaps
      .split('\n')
      .filter((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l))
      .map((l) => [parseInt(l.slice(0, l.indexOf('-')), 16), l] as const),
  );
  assert.ok(ranges.some((r) => headers.get(r.start)?.includes('r-xp') && headers.get(r.start)?.endsWith(process.execPath)));
  for (const r of ranges) {
    const header = headers.get(r.start) ?? '';
    assert.match(header, /^\S+ r-[-x]p \S+ \S+ \S+\s+\//, header);
  }
});

test('a release that fails stops the releases and is logged; it does not throw out of the timer', async () => {
  const records: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (line) => records.push(JSON.parse(line) as Record<string, unknown>) });
  let drops = 0;
  const failing = {
    dropPages: (): number => {
      drops++;
      throw new Error('madvise is not there');
    },
    trimHeap: (): boolean => false,
  };
  const release = new IdleMemoryRelease({ calls: failing, logger, afterStartMs: 20, intervalMs: 30, idleCpuMs: 1e9, workCpuMs: 0 }).start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  release.stop();
  assert.equal(drops, 1, 'no release after the failed one');
  assert.deepEqual(
    records.filter((r) => r['level'] === 'warn').map((r) => [r['msg'], r['error']]),
    [['the agent stops giving memory back', 'madvise is not there']],
  );
});
