/**
 * NAT and forwarding for the engine's bridges, in iptables chains of its
 * own (named after the engine, so two engines on one host never share
 * one), jumped to from the builtin POSTROUTING and FORWARD chains. Nothing
 * else is touched: no policy, no flush of any chain but ours.
 *   nat    <prefix>-POST: -s SUBNET ! -o BRIDGE -j MASQUERADE   (egress of non-internal networks)
 *   filter <prefix>-FWD:  -i BRIDGE -j ACCEPT, -o BRIDGE -j ACCEPT
 */
import type { NetworkRecord } from '../../api/types/networks';
import { iptables, iptablesChecked, type ToolOptions } from './host-tools';

interface ChainSpec {
  readonly table: 'nat' | 'filter';
  readonly builtin: string;
  readonly chain: string;
}

export class NatRules {
  private readonly chains: readonly ChainSpec[];

  constructor(readonly prefix: string) {
    this.chains = [
      { table: 'nat', builtin: 'POSTROUTING', chain: `${prefix}-POST` },
      { table: 'filter', builtin: 'FORWARD', chain: `${prefix}-FWD` },
    ];
  }

  /** Names of our chains, "table/chain". */
  get chainNames(): readonly string[] {
    return this.chains.map((c) => `${c.table}/${c.chain}`);
  }

  /** Creates the chains and jumps if missing and replaces their rules with those of `networks`. */
  async sync(networks: readonly NetworkRecord[], options: ToolOptions = {}): Promise<void> {
    for (const c of this.chains) {
      await iptables(['-t', c.table, '-N', c.chain], options);
      await iptablesChecked(['-t', c.table, '-F', c.chain], options);
      if (!(await iptables(['-t', c.table, '-C', c.builtin, '-j', c.chain], options)).ok) await iptablesChecked(['-t', c.table, '-I', c.builtin, '-j', c.chain], options);
    }
    const [post, fwd] = this.chains;
    for (const n of networks) {
      if (post && !n.internal) await iptablesChecked(['-t', 'nat', '-A', post.chain, '-s', n.subnet, '!', '-o', n.bridge, '-j', 'MASQUERADE'], options);
      if (fwd) {
        await iptablesChecked(['-t', 'filter', '-A', fwd.chain, '-i', n.bridge, '-j', 'ACCEPT'], options);
        await iptablesChecked(['-t', 'filter', '-A', fwd.chain, '-o', n.bridge, '-j', 'ACCEPT'], options);
      }
    }
  }

  /** Removes the jumps and the chains. Idempotent. */
  async teardown(options: ToolOptions = {}): Promise<void> {
    for (const c of this.chains) {
      while ((await iptables(['-t', c.table, '-D', c.builtin, '-j', c.chain], options)).ok);
      await iptables(['-t', c.table, '-F', c.chain], options);
      await iptables(['-t', c.table, '-X', c.chain], options);
    }
  }

  /** The rules in our chains (for leak checks): `iptables -S` lines. */
  async rules(options: ToolOptions = {}): Promise<string[]> {
    const out: string[] = [];
    for (const c of this.chains) {
      const r = await iptables(['-t', c.table, '-S', c.chain], options);
      if (r.ok) out.push(...r.stdout.split('\n').filter((l) => l.startsWith('-A ')));
    }
    return out;
  }
}
