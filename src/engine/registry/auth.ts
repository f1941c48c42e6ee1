/**
 * Registry authentication: the WWW-Authenticate challenge (Bearer token
 * flow of the distribution spec, or Basic), credentials from a Docker-style
 * config.json `auths` map.
 */
import { readFile } from 'node:fs/promises';
import { BerthError } from '../../common/errors';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface Challenge {
  readonly scheme: 'bearer' | 'basic';
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (quoted or bare values). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2] ?? ''); p; p = re.exec(m[2] ?? '')) params[(p[1] ?? '').toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme, params };
}

/** Reads credentials for `host` from a Docker config.json (`auths` with base64 "user:pass"). */
export async function credentialsFromConfig(file: string, host: string): Promise<Credentials | undefined> {
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as typeof config;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BerthError('invalid_argument', `cannot read registry credentials from ${file}: ${(err as Error).message}`, { cause: err });
  }
  const keys = [host, `https://${host}`, `http://${host}`, ...(host === 'docker.io' ? ['https://index.docker.io/v1/', 'index.docker.io'] : [])];
  for (const key of keys) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** A credentials lookup over a Docker config.json (re-read on each call, so `docker login` edits apply). */
export function credentialsFromConfigFile(file: string): (host: string) => Promise<Credentials | undefined> {
  return (host) => credentialsFromConfig(file, host);
}
