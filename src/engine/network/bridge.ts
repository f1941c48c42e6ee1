/**
 * A network's bridge on the host: made (with the gateway address) when
 * missing, removed when its network is removed or, at shutdown, when no
 * container is plugged into it.
 */
import type { NetworkRecord } from '../../api/types/networks';
import { ipBatch, listLinks, type ToolOptions } from './host-tools';
import { parseSubnet } from './subnet';

export async function bridgeExists(name: string, options: ToolOptions = {}): Promise<boolean> {
  return (await listLinks([], options)).some((l) => l.ifname === name);
}

export async function ensureBridge(network: NetworkRecord, options: ToolOptions = {}): Promise<void> {
  const prefixLen = parseSubnet(network.subnet).prefixLen;
  const commands = (await bridgeExists(network.bridge, options)) ? [] : [`link add ${network.bridge} type bridge`, `addr add ${network.gateway}/${prefixLen} dev ${network.bridge}`];
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
