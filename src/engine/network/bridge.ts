/**
 * A network's bridge on the host: made (with the gateway address) when
 * missing, removed when its network is removed or, at shutdown, when no
 * container is plugged into it.
 */
import type { NetworkRecord } from '../../api/types/networks';
import { readFile } from 'node:fs/promises';
import { ipBatch, linkNames, listLinks, type ToolOptions } from './host-tools';
import { parseSubnet } from './subnet';

export async function bridgeExists(name: string, _options: ToolOptions = {}): Promise<boolean> {
  return (await linkNames()).has(name);
}

/** IFF_UP in sysfs; false when unknown (then `ip` sets it up, which is harmless). */
async function adminUp(name: string): Promise<boolean> {
  const flags = await readFile(`/sys/class/net/${name}/flags`, 'utf8').catch(() => '');
  return flags !== '' && (Number.parseInt(flags.trim(), 16) & 1) === 1;
}

export async function ensureBridge(network: NetworkRecord, options: ToolOptions = {}): Promise<void> {
  const prefixLen = parseSubnet(network.subnet).prefixLen;
  const exists = await bridgeExists(network.bridge, options);
  if (exists && (await adminUp(network.bridge))) return;
  const commands = exists ? [] : [`link add ${network.bridge} type bridge`, `addr add ${network.gateway}/${prefixLen} dev ${network.bridge}`];
  await ipBatch([...commands, `link set ${network.bridge} up`], options);
}

/** The interfaces plugged into a bridge. */
export async function bridgePorts(name: string, options: ToolOptions = {}): Promise<string[]> {
  if (!(await bridgeExists(name, options))) return [];
  return (await listLinks(['master', name], options)).map((l) => l.ifname);
}

export async function deleteBridge(name: string, options: ToolOptions = {}): Promise<void> {
  if (await bridgeExists(name, options)) await ipBatch([`link del ${name}`], options);
}
