/**
 * A container's /etc/resolv.conf, /etc/hosts and /etc/hostname: files in
 * its directory, bind-mounted by the runtime. /etc/hosts is rewritten in
 * place (the bind mount holds the inode) when peers on its user networks
 * come and go: that is how containers find each other by name and alias.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface EtcPaths {
  readonly hosts: string;
  readonly resolvConf: string;
  readonly hostname: string;
}

export function etcPaths(containerDir: string): EtcPaths {
  return { hosts: path.join(containerDir, 'hosts'), resolvConf: path.join(containerDir, 'resolv.conf'), hostname: path.join(containerDir, 'hostname') };
}

const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * The host's resolv.conf for a container with its own network: loopback
 * nameservers (systemd-resolved, dnsmasq) cannot be reached from there, so
 * they are dropped (systemd-resolved's upstream file is used when it
 * exists); with none left, public resolvers, with a note saying so.
 */
export async function containerResolvConf(hostNetwork: boolean): Promise<string> {
  const upstream = await readFile('/run/systemd/resolve/resolv.conf', 'utf8').catch(() => undefined);
  const host = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  if (hostNetwork) return host;
  const source = upstream !== undefined && /^\s*nameserver\s+127\./m.test(host) ? upstream : host;
  const lines = source.split('\n');
  const isLoopback = (l: string): boolean => /^\s*nameserver\s+(127\.|::1\b)/.test(l);
  const kept = lines.filter((l) => !isLoopback(l));
  const dropped = lines.filter(isLoopback).map((l) => l.trim().split(/\s+/)[1] ?? '');
  if (kept.some((l) => /^\s*nameserver\s/.test(l))) return `${kept.join('\n').trimEnd()}\n`;
  const note = `# Berth: the host's nameservers (${dropped.join(', ') || 'none'}) cannot be reached from a container; using public ones.`;
  return `${[note, ...kept.filter((l) => l.trim() !== ''), ...FALLBACK_NAMESERVERS.map((n) => `nameserver ${n}`)].join('\n')}\n`;
}

export interface HostsEntry {
  readonly ip: string;
  readonly names: readonly string[];
}

/** /etc/hosts: loopback, the container's own addresses, then its peers'. */
export function hostsFile(self: readonly HostsEntry[], peers: readonly HostsEntry[]): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...[...self, ...peers].filter((e) => e.names.length > 0).map((e) => `${e.ip}\t${[...new Set(e.names)].join(' ')}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes in place (same inode), so a bind mount of the file sees it. */
export async function writeInPlace(file: string, content: string): Promise<void> {
  await writeFile(file, content, { flag: 'w' });
}
