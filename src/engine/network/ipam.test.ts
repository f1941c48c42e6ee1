import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { NetworkRecord } from '../../api/types/networks';
import { Ipam } from './ipam';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const net: NetworkRecord = { id: 'n1', name: 'n', driver: 'bridge', bridge: 'bb-x', subnet: '10.9.9.0/29', gateway: '10.9.9.1', internal: false, labels: {}, created: '' };

test('IPAM: round-robin after the last address, skips the gateway, persists, frees, runs out', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ipam-'));
  dirs.push(dir);
  const ipam = new Ipam(dir);
  assert.equal(await ipam.allocate(net, 'a'), '10.9.9.2');
  assert.equal(await ipam.allocate(net, 'b'), '10.9.9.3');
  await ipam.release('n1', 'a');
  assert.equal(await ipam.allocate(net, 'c'), '10.9.9.4', 'a freed address is not reused at once');
  const again = new Ipam(dir);
  assert.deepEqual(await again.used('n1'), { '10.9.9.3': 'b', '10.9.9.4': 'c' });
  await assert.rejects(again.allocate(net, 'd', '10.9.9.3'), /already in use/);
  await assert.rejects(again.allocate(net, 'd', '10.9.8.3'), /not in/);
  for (const o of ['d', 'e', 'f']) await again.allocate(net, o);
  await assert.rejects(again.allocate(net, 'h'), /no free address/);
  assert.equal(await again.releaseAllBut(new Set(['b'])), 4);
  assert.deepEqual(await again.used('n1'), { '10.9.9.3': 'b' });
});

test('IPAM: concurrent allocations get distinct addresses', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ipam-'));
  dirs.push(dir);
  const ipam = new Ipam(dir);
  const wide = { ...net, subnet: '10.9.0.0/24', gateway: '10.9.0.1' };
  const ips = await Promise.all(Array.from({ length: 40 }, (_, i) => ipam.allocate(wide, `c${i}`)));
  assert.equal(new Set(ips).size, 40);
});
