/**
 * The network manager: bridge networks (the default "bridge" and user-
 * defined ones), and each container's part in them: a network namespace
 * made by the engine, veths on the bridges, addresses from the IPAM,
 * published ports through the userland proxy, and /etc/hosts entries for
 * peers on user networks (name, aliases, short id). iptables rules live in
 * the engine's own chains; they and idle bridges go at dispose().
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerRecord } from '../../api/types/containers';
import { DEFAULT_NETWORK, type ContainerNetwork, type EndpointRecord, type NetworkCreateRequest, type NetworkRecord } from '../../api/types/networks';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { bridgePorts, deleteBridge, ensureBridge } from './bridge';
import type { ContainerNetworking, NetworkPlan, NetworkPlanInput } from './container-networking';
import { containerResolvConf, etcPaths, hostsFile, writeInPlace, type HostsEntry } from './etc-files';
import { listLinks } from './host-tools';
import { Ipam } from './ipam';
import { NatRules } from './nat';
import { exposedPorts, parseNetworkMode, publishedPorts } from './plan';
import { openPortProxy, type PortProxy } from './port-proxy';
import { NetworkStore } from './store';
import { addEndpoint, createNetns, endpointInside, endpointOutside, hostVethName, listNetns, listOurVeths, removeNetns, removeVeth, vethAlias, type EndpointPlug } from './sandbox';
import { macFor, parseIp, parseSubnet } from './subnet';

export interface NetworkManagerOptions {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly logger: Logger;
  /** Every container record (usage, peers, reconcile). */
  readonly containers: () => Promise<readonly ContainerRecord[]>;
  /** The berth-proxy binary for published TCP ports (absent: node's net module proxies them). */
  readonly proxyBinary?: string;
}

/** The engine's mark on the host (iptables chains, veth aliases): from its data root, so engines never share one. */
export function enginePrefix(dataRoot: string): string {
  return `BERTH-${createHash('sha256').update(path.resolve(dataRoot)).digest('hex').slice(0, 6)}`;
}

/** `--add-host name:ip` lines; "host-gateway" is the container's gateway (the host, on the bridge). */
export function extraHostEntries(extra: readonly string[] | undefined, gateway: string | undefined): HostsEntry[] {
  return (extra ?? []).map((h) => {
    const i = h.indexOf(':');
    if (i <= 0) throw new BerthError('invalid_argument', `invalid extra host "${h}": use name:ip`);
    const ip = h.slice(i + 1).replace(/^\[|\]$/g, '');
    if (ip === 'host-gateway' && !gateway) throw new BerthError('invalid_argument', `extra host "${h}": host-gateway needs a bridge network`);
    return { ip: ip === 'host-gateway' ? (gateway ?? '') : ip, names: [h.slice(0, i)] };
  });
}

const running = (r: ContainerRecord): boolean => r.state.status === 'running' || r.state.status === 'paused' || r.state.status === 'restarting';
const hostnameOf = (r: ContainerRecord): string => r.request.hostname ?? r.id.slice(0, 12);

export class NetworkManager implements ContainerNetworking {
  readonly prefix: string;
  readonly nat: NatRules;
  private readonly store: NetworkStore;
  private readonly ipam: Ipam;
  private readonly proxies = new Map<string, PortProxy[]>();
  private readonly netnsDir: string;
  private hostsTail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: NetworkManagerOptions) {
    this.prefix = enginePrefix(options.dataRoot);
    this.nat = new NatRules(this.prefix);
    this.store = new NetworkStore(path.join(options.dataRoot, 'network', 'networks'), options.dataRoot);
    this.ipam = new Ipam(path.join(options.dataRoot, 'network', 'ipam'));
    this.netnsDir = path.join(options.execRoot, 'netns');
  }

  /** Loads the networks (making the default one), turns on forwarding, makes the bridges and our iptables chains. */
  static async create(options: NetworkManagerOptions): Promise<NetworkManager> {
    const m = new NetworkManager(options);
    await m.store.load();
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
    for (const n of m.store.all()) await ensureBridge(n);
    await m.nat.sync(m.store.all());
    return m;
  }

  netnsPath(id: string): string {
    return path.join(this.netnsDir, id);
  }

  // ---- the network API ----

  private async usage(): Promise<Map<string, string[]>> {
    const used = new Map<string, string[]>();
    for (const c of await this.options.containers()) for (const e of c.network?.endpoints ?? []) used.set(e.networkId, [...(used.get(e.networkId) ?? []), c.id]);
    return used;
  }

  async createNetwork(request: NetworkCreateRequest): Promise<NetworkRecord> {
    const record = await this.store.create(request);
    try {
      await ensureBridge(record);
      await this.nat.sync(this.store.all());
    } catch (err) {
      await this.store.delete(record.id);
      await deleteBridge(record.bridge).catch(() => undefined);
      throw err;
    }
    return record;
  }

  async listNetworks(): Promise<NetworkRecord[]> {
    const used = await this.usage();
    return this.store.all().map((n) => ({ ...n, containers: used.get(n.id) ?? [] }));
  }

  async inspectNetwork(idOrName: string): Promise<NetworkRecord> {
    const n = this.store.find(idOrName);
    return { ...n, containers: (await this.usage()).get(n.id) ?? [] };
  }

  async removeNetwork(idOrName: string): Promise<void> {
    const n = this.store.find(idOrName);
    if (n.name === DEFAULT_NETWORK) throw new BerthError('failed_precondition', `${n.name} is a pre-defined network and cannot be removed`);
    const users = (await this.usage()).get(n.id) ?? [];
    if (users.length > 0) throw new BerthError('conflict', `network ${n.name} has containers attached (${users.map((u) => u.slice(0, 12)).join(', ')}); remove or disconnect them first`);
    await this.store.delete(n.id);
    await this.ipam.drop(n.id);
    await this.nat.sync(this.store.all());
    await deleteBridge(n.bridge);
  }

  // ---- containers ----

  async plan(input: NetworkPlanInput, options: { signal?: AbortSignal } = {}): Promise<NetworkPlan> {
    const choice = parseNetworkMode(input.request.networkMode);
    const exposed = exposedPorts(input.request, input.imageExposedPorts);
    const etc = etcPaths(input.dir);
    await mkdir(input.dir, { recursive: true, mode: 0o700 });
    await writeFile(etc.hostname, `${input.hostname}\n`);
    const base = { endpoints: [], ports: [], boundPorts: [], exposed };
    if (choice.mode === 'host') {
      await writeFile(etc.resolvConf, await containerResolvConf(true));
      await writeFile(etc.hosts, await readFile('/etc/hosts', 'utf8').catch(() => hostsFile([], [])));
      return { netns: 'host', etcFiles: { ...etc, hostname: undefined }, network: { mode: 'host', ...base } };
    }
    await writeFile(etc.resolvConf, await containerResolvConf(false));
    if (choice.mode === 'container') {
      const all = await this.options.containers();
      const target = all.find((c) => c.id === choice.target || c.name === choice.target.replace(/^\//, '')) ?? all.find((c) => c.id.startsWith(choice.target));
      if (!target) throw new BerthError('not_found', `no such container: ${choice.target}`);
      const tn = target.network;
      if (!tn || tn.mode === 'container') throw new BerthError('invalid_argument', `cannot join the network of container ${target.name}: it shares another's`);
      const tEtc = etcPaths(path.dirname(target.bundle));
      return { netns: tn.mode === 'host' ? 'host' : this.netnsPath(target.id), etcFiles: { hosts: tEtc.hosts, resolvConf: tEtc.resolvConf }, network: { mode: 'container', container: target.id, ...base } };
    }
    const netns = this.netnsPath(input.id);
    if (choice.mode === 'none') {
      await writeFile(etc.hosts, hostsFile([], []));
      return { netns, etcFiles: etc, network: { mode: 'none', ...base } };
    }
    const wanted = [{ name: choice.network, aliases: input.request.networkAliases ?? [] }, ...(input.request.extraNetworks ?? [])];
    const nets = wanted.map((w) => ({ net: this.store.find(w.name), aliases: w.aliases ?? [] }));
    const endpoints: EndpointRecord[] = [];
    try {
      for (const { net, aliases } of nets) {
        if (endpoints.some((e) => e.networkId === net.id)) continue;
        endpoints.push(await this.endpoint(net, input.id, net.name === DEFAULT_NETWORK ? [] : [...aliases], options));
      }
    } catch (err) {
      for (const e of endpoints) await this.ipam.release(e.networkId, input.id);
      throw err;
    }
    const extra = extraHostEntries(input.request.extraHosts, endpoints[0]?.gateway);
    await writeFile(etc.hosts, hostsFile([...endpoints.map((e) => ({ ip: e.ip, names: [input.hostname] })), ...extra], []));
    return { netns, etcFiles: etc, network: { mode: 'bridge', ...base, endpoints, ports: publishedPorts(input.request, exposed) } };
  }

  private async endpoint(net: NetworkRecord, id: string, aliases: readonly string[], _options: { signal?: AbortSignal }): Promise<EndpointRecord> {
    const ip = await this.ipam.allocate(net, id);
    return { networkId: net.id, networkName: net.name, ip, prefixLen: parseSubnet(net.subnet).prefixLen, gateway: net.gateway, mac: macFor(parseIp(ip)), aliases };
  }

  /** The bridge up and no stale host end: what plugging an endpoint needs first. */
  private async preparePlug(id: string, e: EndpointRecord, ifname: string, defaultRoute: boolean, options: { signal?: AbortSignal }): Promise<EndpointPlug> {
    const net = this.store.find(e.networkId);
    await ensureBridge(net, options);
    const hostVeth = hostVethName(id, e.networkId);
    await removeVeth(hostVeth, options);
    return { netns: this.netnsPath(id), ifname, endpoint: e, hostVeth, bridge: net.bridge, alias: vethAlias(this.prefix, id), defaultRoute };
  }

  private async plug(id: string, e: EndpointRecord, ifname: string, defaultRoute: boolean, options: { signal?: AbortSignal }): Promise<void> {
    await addEndpoint(await this.preparePlug(id, e, ifname, defaultRoute, options), options);
  }

  async up(record: ContainerRecord, options: { signal?: AbortSignal } = {}): Promise<ContainerNetwork | undefined> {
    const n = record.network;
    if (!n || n.mode === 'host') return n;
    if (n.mode === 'container') {
      const target = (await this.options.containers()).find((c) => c.id === n.container);
      if (!target || !running(target)) throw new BerthError('failed_precondition', `cannot join the network of container ${target?.name ?? n.container ?? '?'}: it is not running`);
      return n;
    }
    try {
      // The namespace and its first endpoint's inside in one process.
      const [first, ...rest] = n.endpoints;
      const firstPlug = first ? await this.preparePlug(record.id, first, 'eth0', true, options) : undefined;
      if (await createNetns(this.netnsPath(record.id), options, firstPlug ? endpointInside(firstPlug) : [])) {
        if (firstPlug) await endpointOutside(firstPlug, options);
      } else if (firstPlug) await addEndpoint(firstPlug, options);
      for (const [i, e] of rest.entries()) await this.plug(record.id, e, `eth${i + 1}`, false, options);
      const target = n.endpoints[0];
      const opened: PortProxy[] = [];
      this.proxies.set(record.id, opened);
      if (target) for (const p of n.ports) opened.push(await openPortProxy(p, { ip: target.ip, port: p.containerPort }, this.options.proxyBinary));
      return { ...n, boundPorts: opened.map((o) => o.binding) };
    } catch (err) {
      await this.down(record).catch(() => undefined);
      throw err;
    }
  }

  async down(record: ContainerRecord): Promise<void> {
    const open = this.proxies.get(record.id) ?? [];
    this.proxies.delete(record.id);
    await Promise.all(open.map((p) => p.close()));
    const n = record.network;
    if (!n || (n.mode !== 'bridge' && n.mode !== 'none')) return;
    for (const e of n.endpoints) await removeVeth(hostVethName(record.id, e.networkId));
    await removeNetns(this.netnsPath(record.id));
  }

  async release(id: string, network: ContainerNetwork | undefined): Promise<void> {
    if (network) await this.down({ id, network } as ContainerRecord);
    for (const e of network?.endpoints ?? []) await this.ipam.release(e.networkId, id);
  }

  async connect(record: ContainerRecord, network: string, options: { aliases?: readonly string[]; signal?: AbortSignal } = {}): Promise<ContainerNetwork> {
    const n = record.network;
    if (!n || n.mode !== 'bridge') throw new BerthError('failed_precondition', `container ${record.name} uses network mode ${n?.mode ?? 'none'}: it cannot join networks`);
    const net = this.store.find(network);
    if (n.endpoints.some((e) => e.networkId === net.id)) throw new BerthError('conflict', `endpoint with name ${record.name} already exists in network ${net.name}`);
    const e = await this.endpoint(net, record.id, net.name === DEFAULT_NETWORK ? [] : [...(options.aliases ?? [])], options);
    try {
      if (running(record)) {
        const names = new Set((await listLinks([], { netns: this.netnsPath(record.id) })).map((l) => l.ifname.split('@')[0]));
        let i = 0;
        while (names.has(`eth${i}`)) i++;
        await this.plug(record.id, e, `eth${i}`, n.endpoints.length === 0, options);
      }
    } catch (err) {
      await this.ipam.release(net.id, record.id);
      throw err;
    }
    return { ...n, endpoints: [...n.endpoints, e] };
  }

  async disconnect(record: ContainerRecord, network: string): Promise<ContainerNetwork> {
    const n = record.network;
    const net = this.store.find(network);
    const e = n?.endpoints.find((x) => x.networkId === net.id);
    if (!n || !e) throw new BerthError('not_found', `container ${record.name} is not connected to network ${net.name}`);
    if (running(record)) await removeVeth(hostVethName(record.id, net.id));
    await this.ipam.release(net.id, record.id);
    return { ...n, endpoints: n.endpoints.filter((x) => x !== e) };
  }

  /** Serialized: a slower earlier rewrite must not land after a later one. */
  changed(starting?: ContainerRecord): Promise<void> {
    const next = this.hostsTail.then(() => this.rewriteHosts(starting));
    this.hostsTail = next.catch(() => undefined);
    return next;
  }

  private async rewriteHosts(starting?: ContainerRecord): Promise<void> {
    const all = (await this.options.containers()).map((r) => (r.id === starting?.id ? starting : r));
    const live = all.filter((r) => running(r) || r.id === starting?.id);
    for (const r of all) {
      const n = r.network;
      if (!n || n.mode !== 'bridge') continue;
      const self: HostsEntry[] = n.endpoints.map((e) => ({ ip: e.ip, names: [hostnameOf(r)] }));
      const peers: HostsEntry[] = [];
      for (const e of n.endpoints.filter((x) => x.networkName !== DEFAULT_NETWORK)) {
        for (const o of live) {
          const oe = o.id !== r.id ? o.network?.endpoints.find((x) => x.networkId === e.networkId) : undefined;
          if (oe) peers.push({ ip: oe.ip, names: [o.name, ...oe.aliases, o.id.slice(0, 12)] });
        }
        if (e.aliases.length > 0) self.push({ ip: e.ip, names: [r.name, ...e.aliases] });
      }
      const file = etcPaths(path.dirname(r.bundle)).hosts;
      const text = hostsFile([...self, ...extraHostEntries(r.request.extraHosts, n.endpoints[0]?.gateway)], peers);
      const now = await readFile(file, 'utf8').catch(() => undefined);
      if (now !== undefined && now !== text) await writeInPlace(file, text).catch((err: unknown) => this.options.logger.warn('cannot update /etc/hosts', { id: r.id, error: String(err) }));
    }
  }

  async reconcile(): Promise<void> {
    const all = await this.options.containers();
    const live = all.filter((r) => running(r) && (r.network?.mode === 'bridge' || r.network?.mode === 'none'));
    const liveIds = new Set(live.map((r) => r.id));
    const log = this.options.logger;
    for (const file of await listNetns(this.netnsDir)) {
      if (liveIds.has(path.basename(file))) continue;
      await removeNetns(file).catch((err: unknown) => log.warn('cannot remove a leaked network namespace', { file, error: String(err) }));
      log.info('removed a leaked network namespace', { file });
    }
    const wanted = new Set(live.flatMap((r) => (r.network?.endpoints ?? []).map((e) => hostVethName(r.id, e.networkId))));
    for (const [veth, owner] of await listOurVeths(this.prefix)) {
      if (wanted.has(veth)) continue;
      await removeVeth(veth).catch((err: unknown) => log.warn('cannot remove a leaked veth', { veth, owner, error: String(err) }));
      log.info('removed a leaked veth', { veth, owner });
    }
    const freed = await this.ipam.releaseAllBut(new Set(all.map((r) => r.id)));
    if (freed > 0) log.info('freed addresses of containers that are gone', { count: freed });
    for (const r of live) {
      const n = r.network;
      const target = n?.endpoints[0];
      if (!n || !target || n.boundPorts.length === 0) continue;
      const opened: PortProxy[] = [];
      for (const b of n.boundPorts) {
        try {
          opened.push(await openPortProxy(b, { ip: target.ip, port: b.containerPort }, this.options.proxyBinary));
        } catch (err) {
          log.warn('cannot publish a port again', { id: r.id, port: b.hostPort, error: String(err) });
        }
      }
      this.proxies.set(r.id, opened);
    }
    await this.changed();
  }

  /** Closes the published ports, removes our iptables chains and the bridges nothing is plugged into. Containers keep running. */
  async dispose(): Promise<void> {
    const open = [...this.proxies.values()].flat();
    this.proxies.clear();
    await Promise.all(open.map((p) => p.close()));
    await this.nat.teardown();
    for (const n of this.store.all()) if ((await bridgePorts(n.bridge)).length === 0) await deleteBridge(n.bridge).catch(() => undefined);
  }
}
