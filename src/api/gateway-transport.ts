/**
 * `--host https://host:port` (or http:// on loopback): the engine behind a
 * `berth serve` gateway. Each request opens a TLS connection that checks
 * the server: by its SHA-256 fingerprint (--tls-fingerprint or
 * $BERTH_TLS_FINGERPRINT, for a self-signed gateway), else against
 * --tls-ca/$BERTH_TLS_CA or the system's CAs, and carries the token
 * (--token or $BERTH_TOKEN) as a Bearer header.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ApiClient } from './client';
import { errorFromResponse } from './http-errors';
import { BerthError } from '../common/errors';

export interface GatewayTarget {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly token: string;
  /** Upper-case hex without colons. */
  readonly fingerprint?: string;
  readonly ca?: Buffer;
}

const normalize = (fp: string): string => fp.replace(/[^0-9a-f]/gi, '').toUpperCase();

export function parseGatewayHost(url: string, o: { token?: string; fingerprint?: string; caFile?: string }): GatewayTarget {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  if (!o.token) throw new BerthError('invalid_argument', `--host ${url}: a gateway needs a token (--token or $BERTH_TOKEN; made by berth token create on the server)`);
  if (o.fingerprint !== undefined && normalize(o.fingerprint).length !== 64) throw new BerthError('invalid_argument', '--tls-fingerprint: expected a SHA-256 fingerprint (64 hex digits, colons allowed)');
  let ca: Buffer | undefined;
  if (o.caFile) {
    try {
      ca = readFileSync(o.caFile);
    } catch (err) {
      throw new BerthError('invalid_argument', `--tls-ca ${o.caFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  return {
    url: `${u.protocol}//${u.host}`,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 443 : 80,
    tls: secure,
    token: o.token,
    ...(o.fingerprint ? { fingerprint: normalize(o.fingerprint) } : {}),
    ...(ca ? { ca } : {}),
  };
}

/** A connection to the gateway: TLS checked by fingerprint or CA, or plain TCP for http://. */
export function gatewayConnector(t: GatewayTarget): () => Promise<Duplex> {
  // TLS sessions are resumed: a command's later connections skip the full handshake.
  let session: Buffer | undefined;
  return () =>
    new Promise<Duplex>((resolve, reject) => {
      const fail = (err: Error): void => reject(new BerthError('unavailable', `cannot reach the gateway at ${t.url}: ${err.message}`, { cause: err }));
      if (!t.tls) {
        const sock = net.connect(t.port, t.host, () => resolve(sock));
        sock.once('error', fail);
        return;
      }
      // Loaded here: tls costs every command ~4 ms at start, and only gateway targets use it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tls = require('node:tls') as typeof import('node:tls');
      const sock = tls.connect({
        host: t.host,
        port: t.port,
        ...(net.isIP(t.host) ? {} : { servername: t.host }),
        ...(t.ca ? { ca: t.ca } : {}),
        ...(session ? { session } : {}),
        // A pinned fingerprint replaces the CA check (self-signed gateways).
        rejectUnauthorized: t.fingerprint === undefined,
      });
      sock.once('error', fail);
      let trusted = false;
      // Only a session from a checked connection is kept; resuming it proves the same server (it holds the session's key).
      sock.on('session', (s: Buffer) => {
        if (trusted) session = s;
      });
      sock.once('secureConnect', () => {
        if (t.fingerprint !== undefined && !sock.isSessionReused()) {
          const got = normalize(sock.getPeerCertificate().fingerprint256 ?? '');
          if (got !== t.fingerprint) {
            sock.destroy();
            reject(new BerthError('failed_precondition', `the gateway at ${t.url} presented a certificate with SHA-256 fingerprint ${got}, not the expected ${t.fingerprint}`));
            return;
          }
        }
        trusted = true;
        sock.off('error', fail);
        resolve(sock);
      });
    });
}

export function gatewayClient(t: GatewayTarget): ApiClient {
  return new ApiClient({ socketPath: t.url, connect: gatewayConnector(t), headers: { authorization: `Bearer ${t.token}` }, describe: `the gateway at ${t.url}` });
}

/** One of the gateway's own JSON operations (/gw/...). */
export async function gatewayCall<T>(t: GatewayTarget, method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const stream = await gatewayConnector(t)();
  const payload = Buffer.from(JSON.stringify(body ?? {}));
  return new Promise<T>((resolve, reject) => {
    const req = http.request(
      {
        createConnection: () => stream,
        host: t.host,
        method,
        path,
        headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json', 'content-length': payload.length },
        ...(signal ? { signal } : {}),
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => {
          let value: unknown = text;
          try {
            value = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          if ((res.statusCode ?? 500) >= 400) reject(errorFromResponse(res.statusCode ?? 500, value));
          else resolve(value as T);
        });
      },
    );
    req.on('error', (err) => reject(new BerthError('unavailable', `the gateway at ${t.url} failed: ${err.message}`, { cause: err })));
    req.end(payload);
  });
}
