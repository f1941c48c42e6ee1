import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { SLAB, SlabSource } from './slab-source';

test('a collection every 4 slabs, each slab its own 1 MiB', () => {
  let taken = 0;
  const collections: number[] = [];
  const slabs = new SlabSource(() => collections.push(taken));
  const seen: Buffer[] = [];
  while (taken < 9) {
    const slab = slabs.take();
    taken++;
    assert.equal(slab.length, SLAB);
    assert.ok(seen.every((s) => s.buffer !== slab.buffer), 'a slab is never handed out twice');
    seen.push(slab);
  }
  // Called before the 4th and the 8th slab were taken.
  assert.deepEqual(collections, [3, 7]);
});

test('without a collection, slabs come all the same', () => {
  const slabs = new SlabSource();
  for (let i = 0; i < 8; i++) assert.equal(slabs.take().length, SLAB);
});

/** What youngCollection gives a node started with `flags`: 'none', or the kinds of the collections it ran. */
function collectionIn(flags: readonly string[]): string {
  const script = `
    const { PerformanceObserver, constants } = require('node:perf_hooks');
    const { youngCollection } = require(${JSON.stringify(require.resolve('./slab-source'))});
    const collect = youngCollection();
    if (!collect) process.stdout.write('none');
    else {
      const kinds = [];
      const observer = new PerformanceObserver((list) => kinds.push(...list.getEntries().map((e) => (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : 'other'))));
      observer.observe({ entryTypes: ['gc'] });
      collect();
      setTimeout(() => {
        observer.disconnect();
        process.stdout.write(kinds.join(','));
      }, 50);
    }
  `;
  return execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
}

test('youngCollection is a scavenge of the young generation under --expose-gc, and nothing without it', () => {
  assert.equal(collectionIn([]), 'none');
  assert.equal(collectionIn(['--expose-gc']), 'minor');
});
