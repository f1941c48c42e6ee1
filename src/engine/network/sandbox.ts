/**
 * A container's network namespace, made by the engine: an nsfs bind mount
 * on a file under the exec root (`unshare --net=FILE`), which the runtime
 * joins by path. Endpoints are veth pairs: ethN inside, a host end named
 * vb<hash> plugged into the network's bridge and labelled (ifalias) with
 * the engine's prefix and the container id, so leaks can be found.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EndpointRecord } from '../../api/types/networks';
import { BerthError } from '../../common/errors';
import { pathExists } from '../../common/path-exists';
import { run } from '../../common/process/spawn';
import { unmount } from '../snapshots/mount';
import { ipBatch, linkNames, listLinks, type ToolOptions } from './host-tools';

/** The host end of a container's veth on a network (15 characters at most: IFNAMSIZ). */
export function hostVethName(containerId: string, networkId: string): string {
  return `vb${createHash('sha256').update(`${containerId}/${networkId}`).digest('hex').slice(0, 12)}`;
}

/** The ifalias of our host veths: "<prefix>:<container id>". */
export const vethAlias = (prefix: string, containerId: string): string => `${prefix}:${containerId}`;

async function mountedNsfs(): Promise<Set<string>> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const out = new Set<string>();
  for (const line of info.split('\n')) {
    const [left = '', right = ''] = line.split(' - ');
    if (right.startsWith('nsfs ')) out.add((left.split(' ')[4] ?? '').replace(/\\040/g, ' '));
  }
  return out;
}

export async function netnsExists(file: string): Promise<boolean> {
  return (await mountedNsfs()).has(file);
}

/** Every network namespace file mounted under `dir`. */
export async function listNetns(dir: string): Promise<string[]> {
  return [...(await mountedNsfs())].filter((f) => path.dirname(f) === dir);
}

/**
 * Makes the namespace unless it exists, with loopback up and `inside` (ip
 * batch lines) run in it: one process, `unshare --net=FILE ip -batch -`.
 * Answers false when it existed (nothing was run).
 */
export async function createNetns(file: string, options: ToolOptions = {}, inside: readonly string[] = []): Promise<boolean> {
  if (await netnsExists(file)) return false;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, '', { mode: 0o600 });
  const commands = ['link set lo up', ...inside];
  const r = await run(['unshare', `--net=${file}`, 'ip', '-batch', '-'], { input: `${commands.join('\n')}\n`, ...(options.signal ? { signal: options.signal } : {}) });
  if (r.code !== 0) {
    await removeNetns(file).catch(() => undefined);
    throw new BerthError('internal', `cannot set up the network namespace: ${r.stderr.trim() || `exit ${String(r.code)}`}`, { details: { commands: commands.join('; ') } });
  }
  return true;
}

/** Unmounts and removes the namespace file (the namespace and its veths go with the last user). */
export async function removeNetns(file: string): Promise<void> {
  // Gone already (a container's exit took it down before its removal): no umount to run.
  if (!(await pathExists(file))) return;
  await unmount(file);
  await rm(file, { force: true });
}

export interface EndpointPlug {
  readonly netns: string;
  readonly ifname: string;
  readonly endpoint: EndpointRecord;
  readonly hostVeth: string;
  readonly bridge: string;
  readonly alias: string;
  readonly defaultRoute: boolean;
}

/** The ip batch lines, run inside the namespace, that make ethN (the host end goes to the engine's namespace). */
export function endpointInside(input: EndpointPlug): string[] {
  const { endpoint: e, ifname, hostVeth } = input;
  return [
    `link add ${ifname} type veth peer name ${hostVeth} netns ${process.pid}`,
    `link set ${ifname} address ${e.mac}`,
    `addr add ${e.ip}/${e.prefixLen} dev ${ifname}`,
    `link set ${ifname} up`,
    ...(input.defaultRoute ? [`route add default via ${e.gateway} dev ${ifname}`] : []),
  ];
}

/** Labels the host end and plugs it into the bridge. */
export async function endpointOutside(input: EndpointPlug, options: ToolOptions = {}): Promise<void> {
  try {
    await ipBatch([`link set ${input.hostVeth} alias ${input.alias}`, `link set ${input.hostVeth} master ${input.bridge}`, `link set ${input.hostVeth} up`], options);
  } catch (err) {
    await removeVeth(input.hostVeth).catch(() => undefined);
    throw err;
  }
}

/** Plugs the container into a network: ethN inside with its address (and the default route), the host end on the bridge. */
export async function addEndpoint(input: EndpointPlug, options: ToolOptions = {}): Promise<void> {
  await ipBatch(endpointInside(input), { ...options, netns: input.netns });
  await endpointOutside(input, options);
}

/** Deletes a host veth (its peer goes with it); a missing one is fine. */
export async function removeVeth(hostVeth: string, options: ToolOptions = {}): Promise<void> {
  if ((await linkNames()).has(hostVeth)) await ipBatch([`link del ${hostVeth}`], options);
}

/** Our host veths: name -> container id, from their ifalias. */
export async function listOurVeths(prefix: string, options: ToolOptions = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const l of await listLinks([], options)) if (l.ifalias?.startsWith(`${prefix}:`)) out.set(l.ifname.split('@')[0] ?? l.ifname, l.ifalias.slice(prefix.length + 1));
  return out;
}
