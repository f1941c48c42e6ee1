/**
 * The gateway's TLS identity: the operator's cert and key, or a self-signed
 * pair generated once with Debian's openssl (P-256, ten years) and kept
 * beside the tokens. Clients pin its SHA-256 fingerprint.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { BerthError } from '../common/errors';
import { runChecked } from '../common/process/spawn';

export interface TlsIdentity {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** "AB:CD:..." (SHA-256 of the certificate). */
  readonly fingerprint: string;
  readonly selfSigned: boolean;
  readonly certFile: string;
}

export function fingerprintOf(certPem: Buffer | string): string {
  return new X509Certificate(certPem).fingerprint256;
}

async function loadPair(certFile: string, keyFile: string, selfSigned: boolean): Promise<TlsIdentity> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]).catch((err: unknown) => {
    throw new BerthError('failed_precondition', `cannot read the TLS certificate or key: ${(err as Error).message}`, { cause: err });
  });
  let fingerprint: string;
  try {
    fingerprint = fingerprintOf(cert);
  } catch (err) {
    throw new BerthError('invalid_argument', `${certFile} is not a PEM certificate: ${(err as Error).message}`, { cause: err });
  }
  return { cert, key, fingerprint, selfSigned, certFile };
}

/** The operator's pair, or the self-signed one in `dir` (made now if missing; `hosts` go into its names). */
export async function tlsIdentity(o: { certFile?: string; keyFile?: string; dir: string; hosts: readonly string[]; signal?: AbortSignal }): Promise<TlsIdentity> {
  if (o.certFile || o.keyFile) {
    if (!o.certFile || !o.keyFile) throw new BerthError('invalid_argument', '--tls-cert and --tls-key go together');
    return loadPair(o.certFile, o.keyFile, false);
  }
  const certFile = path.join(o.dir, 'gateway-cert.pem');
  const keyFile = path.join(o.dir, 'gateway-key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    await mkdir(o.dir, { recursive: true, mode: 0o700 });
    const names = [...new Set(['localhost', '127.0.0.1', ...o.hosts.filter((h) => h && h !== '0.0.0.0' && h !== '::')])];
    const san = names.map((h) => (net.isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    await runChecked(
      ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', '/CN=berth-gateway', '-addext', `subjectAltName=${san}`, '-keyout', keyFile, '-out', certFile],
      o.signal ? { signal: o.signal } : {},
    );
    await chmod(keyFile, 0o600);
  }
  return loadPair(certFile, keyFile, true);
}
