/**
 * Network records: one JSON file per network under <root>/<id>.json. The
 * default network ("bridge") is made on first start. A new network gets a
 * free /24 (off the host's routes and the engine's other networks) unless
 * it names its subnet, and a bridge named bb-<id prefix>.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_NETWORK, type NetworkCreateRequest, type NetworkRecord } from '../../api/types/networks';
import { BerthError } from '../../common/errors';
import { listRoutes, type ToolOptions } from './host-tools';
import { candidateSubnets, contains, formatIp, formatSubnet, overlaps, parseIp, parseSubnet, type Subnet } from './subnet';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
/** Names Docker reserves for its pseudo networks. */
export const RESERVED_NETWORK_NAMES: readonly string[] = ['host', 'none', 'default'];

/** A route's destination ("a.b.c.d" or "a.b.c.d/len", any length) as a subnet. */
function routeSubnet(dst: string): Subnet {
  const [ip = '', len = '32'] = dst.split('/');
  const prefixLen = Number(len);
  const size = 2 ** (32 - prefixLen);
  const addr = parseIp(ip);
  return { base: addr - (addr % size), prefixLen };
}

export class NetworkStore {
  private readonly records = new Map<string, NetworkRecord>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    /** Spreads engines' default subnets: each engine starts its search elsewhere. */
    private readonly seed: string,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  async load(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const f of (await readdir(this.root)).filter((x) => x.endsWith('.json'))) {
      try {
        const r = JSON.parse(await readFile(path.join(this.root, f), 'utf8')) as NetworkRecord;
        this.records.set(r.id, r);
      } catch {
        /* written atomically: skip anything else */
      }
    }
    if (!this.all().some((n) => n.name === DEFAULT_NETWORK)) await this.create({ name: DEFAULT_NETWORK }, { allowReserved: true });
  }

  all(): NetworkRecord[] {
    return [...this.records.values()].sort((a, b) => a.created.localeCompare(b.created));
  }

  /** By full id, name, or unique id prefix. */
  find(idOrName: string): NetworkRecord {
    const all = this.all();
    const hit = this.records.get(idOrName) ?? all.find((n) => n.name === idOrName);
    if (hit) return hit;
    const byPrefix = /^[0-9a-f]{1,64}$/.test(idOrName) ? all.filter((n) => n.id.startsWith(idOrName)) : [];
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
    if (byPrefix.length > 1) throw new BerthError('invalid_argument', `network id prefix ${idOrName} is ambiguous`);
    throw new BerthError('not_found', `network ${idOrName} not found`);
  }

  private async pickSubnet(requested: string | undefined, options: ToolOptions): Promise<Subnet> {
    const routes = (await listRoutes(options)).filter((r) => r.dst !== 'default' && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r.dst));
    const used = [...routes.map((r) => routeSubnet(r.dst)), ...this.all().map((n) => parseSubnet(n.subnet))];
    if (requested) {
      const s = parseSubnet(requested);
      const clash = this.all().find((n) => overlaps(parseSubnet(n.subnet), s));
      if (clash) throw new BerthError('conflict', `subnet ${requested} overlaps network ${clash.name} (${clash.subnet})`);
      return s;
    }
    const start = createHash('sha256').update(this.seed).digest().readUInt16BE(0);
    for (const s of candidateSubnets(start)) if (!used.some((u) => overlaps(u, s))) return s;
    throw new BerthError('unavailable', 'no free subnet left for a new network');
  }

  async create(request: NetworkCreateRequest, options: ToolOptions & { allowReserved?: boolean } = {}): Promise<NetworkRecord> {
    return this.serial(async () => {
      if (!NAME.test(request.name)) throw new BerthError('invalid_argument', `invalid network name "${request.name}": use letters, digits, _, . and -`);
      if (!options.allowReserved && (RESERVED_NETWORK_NAMES.includes(request.name) || request.name === DEFAULT_NETWORK)) {
        throw new BerthError('invalid_argument', `${request.name} is a pre-defined network and cannot be created`);
      }
      if (this.all().some((n) => n.name === request.name)) throw new BerthError('already_exists', `network with name ${request.name} already exists`);
      if (request.driver && request.driver !== 'bridge') throw new BerthError('invalid_argument', `network driver ${request.driver} is not supported (only bridge)`);
      const subnet = await this.pickSubnet(request.subnet, options);
      const gateway = request.gateway ?? formatIp(subnet.base + 1);
      if (!contains(subnet, parseIp(gateway))) throw new BerthError('invalid_argument', `gateway ${gateway} is not in subnet ${formatSubnet(subnet)}`);
      const id = randomBytes(32).toString('hex');
      const record: NetworkRecord = {
        id,
        name: request.name,
        driver: 'bridge',
        bridge: `bb-${id.slice(0, 12)}`,
        subnet: formatSubnet(subnet),
        gateway,
        internal: request.internal === true,
        labels: request.labels ?? {},
        created: new Date().toISOString(),
      };
      const file = path.join(this.root, `${id}.json`);
      const tmp = `${file}.tmp`;
      await writeFile(tmp, JSON.stringify(record, null, 1));
      await rename(tmp, file);
      this.records.set(id, record);
      return record;
    });
  }

  async delete(id: string): Promise<void> {
    await this.serial(async () => {
      this.records.delete(id);
      await rm(path.join(this.root, `${id}.json`), { force: true });
    });
  }
}
