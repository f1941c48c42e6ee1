/**
 * IP address management: per network, which address belongs to which
 * container, in <root>/<networkId>.json (written atomically). Addresses are
 * handed out round-robin after the last one given, so a freed address is
 * not reused at once. Calls are serialized.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NetworkRecord } from '../../api/types/networks';
import { BerthError } from '../../common/errors';
import { contains, formatIp, hostRange, parseIp, parseSubnet } from './subnet';

interface Allocations {
  /** ip -> owner (container id). */
  readonly owners: Record<string, string>;
  /** The last address handed out. */
  readonly last?: string;
}

export class Ipam {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  private file(networkId: string): string {
    return path.join(this.root, `${networkId}.json`);
  }

  private async read(networkId: string): Promise<Allocations> {
    const text = await readFile(this.file(networkId), 'utf8').catch(() => undefined);
    if (text === undefined) return { owners: {} };
    return JSON.parse(text) as Allocations;
  }

  private async write(networkId: string, a: Allocations): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const file = this.file(networkId);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(a));
    await rename(tmp, file);
  }

  /** An address for `owner` on the network (`wanted` if given and free). */
  allocate(network: NetworkRecord, owner: string, wanted?: string): Promise<string> {
    return this.serial(async () => {
      const a = await this.read(network.id);
      const subnet = parseSubnet(network.subnet);
      const gateway = parseIp(network.gateway);
      const taken = (n: number): boolean => n === gateway || formatIp(n) in a.owners;
      let ip: number | undefined;
      if (wanted) {
        const n = parseIp(wanted);
        if (!contains(subnet, n)) throw new BerthError('invalid_argument', `${wanted} is not in ${network.name}'s subnet ${network.subnet}`);
        if (taken(n)) throw new BerthError('conflict', `address ${wanted} is already in use on network ${network.name}`);
        ip = n;
      } else {
        const { first, last } = hostRange(subnet);
        const span = last - first + 1;
        const after = a.last ? parseIp(a.last) : first - 1;
        for (let i = 1; i <= span && ip === undefined; i++) {
          const n = first + ((after - first + i + span) % span);
          if (!taken(n)) ip = n;
        }
        if (ip === undefined) throw new BerthError('unavailable', `no free address left on network ${network.name} (${network.subnet})`);
      }
      const text = formatIp(ip);
      await this.write(network.id, { owners: { ...a.owners, [text]: owner }, last: text });
      return text;
    });
  }

  /** Frees the owner's addresses on the network. */
  release(networkId: string, owner: string): Promise<void> {
    return this.serial(async () => {
      const a = await this.read(networkId);
      const owners = Object.fromEntries(Object.entries(a.owners).filter(([, o]) => o !== owner));
      if (Object.keys(owners).length !== Object.keys(a.owners).length) await this.write(networkId, { ...a, owners });
    });
  }

  /** Frees every address whose owner is not in `keep` (after a crash between allocation and record). */
  releaseAllBut(keep: ReadonlySet<string>): Promise<number> {
    return this.serial(async () => {
      let freed = 0;
      const files = await readdir(this.root).catch(() => [] as string[]);
      for (const f of files.filter((x) => x.endsWith('.json'))) {
        const id = f.slice(0, -5);
        const a = await this.read(id);
        const owners = Object.fromEntries(Object.entries(a.owners).filter(([, o]) => keep.has(o)));
        const n = Object.keys(a.owners).length - Object.keys(owners).length;
        if (n > 0) {
          freed += n;
          await this.write(id, { ...a, owners });
        }
      }
      return freed;
    });
  }

  /** Forgets a removed network. */
  drop(networkId: string): Promise<void> {
    return this.serial(() => rm(this.file(networkId), { force: true }));
  }

  /** Addresses in use on a network (for tests and inspect). */
  used(networkId: string): Promise<Readonly<Record<string, string>>> {
    return this.serial(async () => (await this.read(networkId)).owners);
  }
}
