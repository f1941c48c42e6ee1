/**
 * The ports channel: reports listening TCP ports as they appear and vanish,
 * read from /proc/net/tcp and /proc/net/tcp6 (the container's network
 * namespace), as JSON lines: {"event":"open"|"close","port":N,"address":"..."}.
 */
import { readFile } from 'node:fs/promises';
import type { ServerChannel } from 'ssh2';
import type { Logger } from '../../src/common/log';

export interface ListeningPort {
  readonly port: number;
  readonly address: string;
}

const LISTEN = '0A';

function ipv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

function ipv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const le = hex.slice(i, i + 8).match(/../g)?.reverse().join('') ?? '00000000';
    words.push(le.slice(0, 4), le.slice(4, 8));
  }
  const text = words.map((w) => parseInt(w, 16).toString(16)).join(':');
  return text === '0:0:0:0:0:0:0:0' ? '::' : text.replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Parses the text of /proc/net/tcp or tcp6 into its listening sockets. */
export function parseProcNetTcp(text: string, family: 4 | 6): ListeningPort[] {
  const out: ListeningPort[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[3] !== LISTEN) continue;
    const [addrHex = '', portHex = ''] = (cols[1] ?? '').split(':');
    out.push({ port: parseInt(portHex, 16), address: family === 4 ? ipv4(addrHex) : ipv6(addrHex) });
  }
  return out;
}

export async function listeningPorts(procRoot = '/proc'): Promise<ListeningPort[]> {
  const read = (f: string): Promise<string> => readFile(`${procRoot}/net/${f}`, 'utf8').catch(() => '');
  const [v4, v6] = await Promise.all([read('tcp'), read('tcp6')]);
  return [...parseProcNetTcp(v4, 4), ...parseProcNetTcp(v6, 6)];
}

const key = (p: ListeningPort): string => `${p.address}|${p.port}`;

export function servePorts(stream: ServerChannel, logger: Logger, intervalMs = 250): void {
  let known = new Map<string, ListeningPort>();
  let stopped = false;
  const tick = async (): Promise<void> => {
    const now = new Map((await listeningPorts()).map((p) => [key(p), p]));
    for (const [k, p] of now) if (!known.has(k)) stream.write(`${JSON.stringify({ event: 'open', ...p })}\n`);
    for (const [k, p] of known) if (!now.has(k)) stream.write(`${JSON.stringify({ event: 'close', ...p })}\n`);
    known = now;
  };
  const loop = (): void => {
    if (stopped) return;
    tick().then(
      () => setTimeout(loop, intervalMs),
      (err: unknown) => {
        logger.warn('port scan failed', { error: (err as Error).message });
        setTimeout(loop, intervalMs);
      },
    );
  };
  stream.on('close', () => (stopped = true));
  stream.on('data', () => undefined);
  loop();
}
