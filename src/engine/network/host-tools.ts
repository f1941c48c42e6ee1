/**
 * The host's network tools, run with argv arrays: `ip` (batches, JSON
 * listings, inside a network namespace through nsenter) and `iptables`
 * (with the xtables lock).
 */
import { readFile } from 'node:fs/promises';
import { BerthError } from '../../common/errors';
import { run, runChecked } from '../../common/process/spawn';

export interface ToolOptions {
  readonly signal?: AbortSignal;
}

/** Runs `ip -batch -` with one command a line, in the network namespace file `netns` when given. */
export async function ipBatch(commands: readonly string[], options: ToolOptions & { netns?: string } = {}): Promise<void> {
  if (commands.length === 0) return;
  const argv = [...(options.netns ? ['nsenter', `--net=${options.netns}`] : []), 'ip', '-batch', '-'];
  const r = await run(argv, { input: `${commands.join('\n')}\n`, ...(options.signal ? { signal: options.signal } : {}) });
  if (r.code !== 0) throw new BerthError('internal', `ip failed: ${r.stderr.trim() || `exit ${String(r.code)}`}`, { details: { commands: commands.join('; ') } });
}

export interface LinkInfo {
  readonly ifname: string;
  readonly master?: string;
  readonly ifalias?: string;
  readonly operstate?: string;
  readonly link_type?: string;
}

/** `ip -j link show [args]`, in the network namespace file `netns` when given. */
export async function listLinks(args: readonly string[] = [], options: ToolOptions & { netns?: string } = {}): Promise<LinkInfo[]> {
  const argv = [...(options.netns ? ['nsenter', `--net=${options.netns}`] : []), 'ip', '-j', 'link', 'show', ...args];
  const r = await runChecked(argv, options.signal ? { signal: options.signal } : {});
  const text = r.stdout.toString('utf8').trim();
  return text ? (JSON.parse(text) as LinkInfo[]) : [];
}

/**
 * The names of the interfaces in this process's network namespace, from
 * /proc/self/net/dev: no process to spawn (starting a container asks often).
 */
export async function linkNames(): Promise<Set<string>> {
  const text = await readFile('/proc/self/net/dev', 'utf8');
  const names = new Set<string>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon > 0) names.add(line.slice(0, colon).trim());
  }
  return names;
}

export interface RouteInfo {
  readonly dst: string;
  readonly dev?: string;
}

/** The host's IPv4 routes (every table but local), to keep new subnets off them. */
export async function listRoutes(options: ToolOptions = {}): Promise<RouteInfo[]> {
  const r = await runChecked(['ip', '-j', '-4', 'route', 'show', 'table', 'all'], options);
  const text = r.stdout.toString('utf8').trim();
  return text ? (JSON.parse(text) as RouteInfo[]) : [];
}

/** `iptables -w ...`; answers whether it succeeded (for -C and idempotent -N/-X). */
export async function iptables(args: readonly string[], options: ToolOptions = {}): Promise<{ ok: boolean; stderr: string; stdout: string }> {
  const r = await run(['iptables', '-w', '5', ...args], options);
  return { ok: r.code === 0, stderr: r.stderr, stdout: r.stdout.toString('utf8') };
}

/** Like iptables, but an error unless it succeeded. */
export async function iptablesChecked(args: readonly string[], options: ToolOptions = {}): Promise<void> {
  const r = await iptables(args, options);
  if (!r.ok) throw new BerthError('internal', `iptables ${args.join(' ')}: ${r.stderr.trim()}`);
}
