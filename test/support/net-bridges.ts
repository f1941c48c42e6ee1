/** The bridges of an engine's networks that exist on the host. */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { listLinks } from '../../src/engine/network/host-tools';

export async function listBridgesOf(dataRoot: string): Promise<string[]> {
  const dir = path.join(dataRoot, 'network', 'networks');
  const names: string[] = [];
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (f.endsWith('.json')) names.push((JSON.parse(await readFile(path.join(dir, f), 'utf8')) as { bridge: string }).bridge);
  }
  const links = new Set((await listLinks()).map((l) => l.ifname));
  return names.filter((n) => links.has(n));
}
