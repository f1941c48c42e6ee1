/**
 * What an engine holds on the host for networking, counted from the host
 * itself: its veths (by ifalias), network namespace mounts under its exec
 * root, rules in its iptables chains, bridges, and IPAM allocations.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { listBridgesOf } from './net-bridges';
import { enginePrefix } from '../../src/engine/network/manager';
import { NatRules } from '../../src/engine/network/nat';
import { listNetns, listOurVeths } from '../../src/engine/network/sandbox';

export interface NetState {
  readonly veths: number;
  readonly netns: number;
  readonly rules: number;
  readonly chains: number;
  readonly bridges: number;
  readonly addresses: number;
}

export async function netState(dataRoot: string, execRoot: string): Promise<NetState> {
  const prefix = enginePrefix(dataRoot);
  const nat = new NatRules(prefix);
  const rules = await nat.rules();
  const save = (await import('node:child_process')).execFileSync('iptables-save', { encoding: 'utf8' });
  const ipamDir = path.join(dataRoot, 'network', 'ipam');
  let addresses = 0;
  for (const f of await readdir(ipamDir).catch(() => [] as string[])) {
    if (f.endsWith('.json')) addresses += Object.keys((JSON.parse(await readFile(path.join(ipamDir, f), 'utf8')) as { owners: object }).owners).length;
  }
  return {
    veths: (await listOurVeths(prefix)).size,
    netns: (await listNetns(path.join(execRoot, 'netns'))).length,
    rules: rules.length,
    chains: save.split('\n').filter((l) => l.startsWith(`:${prefix}-`)).length,
    bridges: (await listBridgesOf(dataRoot)).length,
    addresses,
  };
}
