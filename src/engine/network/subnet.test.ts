import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidateSubnets, contains, formatIp, formatSubnet, hostRange, macFor, overlaps, parseIp, parseSubnet } from './subnet';

test('addresses and subnets', () => {
  assert.equal(formatIp(parseIp('10.200.3.7')), '10.200.3.7');
  assert.equal(formatSubnet(parseSubnet('10.200.3.7/24')), '10.200.3.0/24');
  assert.throws(() => parseIp('10.1.2'), /invalid IPv4/);
  assert.throws(() => parseSubnet('10.0.0.0/31'), /invalid subnet/);
  const s = parseSubnet('172.30.0.0/16');
  assert.ok(contains(s, parseIp('172.30.255.254')));
  assert.ok(!contains(s, parseIp('172.31.0.0')));
  assert.ok(overlaps(s, parseSubnet('172.30.5.0/24')));
  assert.ok(!overlaps(s, parseSubnet('172.31.0.0/24')));
  const r = hostRange(parseSubnet('10.0.0.0/24'));
  assert.equal(formatIp(r.first), '10.0.0.1');
  assert.equal(formatIp(r.last), '10.0.0.254');
  assert.equal(macFor(parseIp('10.210.150.2')), '02:42:0a:d2:96:02');
});

test('candidate subnets wrap around their pool and never repeat', () => {
  const seen = new Set<string>();
  for (const c of candidateSubnets(4090)) seen.add(formatSubnet(c));
  assert.equal(seen.size, 4096);
  assert.ok(seen.has('10.200.0.0/24') && seen.has('10.215.255.0/24'));
});
