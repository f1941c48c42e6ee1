/**
 * Per-container agent keys, made by the engine on first use and kept with the
 * container's record (root only): the agent's host key, and the one client
 * key the agent accepts.
 */
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';

export interface AgentKeys {
  /** OpenSSH private key of the agent (its host key). */
  readonly hostKey: string;
  /** "ssh-ed25519 AAAA..." of the host key, for known_hosts. */
  readonly hostPublicKey: string;
  /** OpenSSH private key that clients authenticate with. */
  readonly clientKey: string;
  /** authorized_keys text for the agent: the client key's public half. */
  readonly authorizedKeys: string;
}

async function readKeys(dir: string): Promise<AgentKeys> {
  const [hostKey, hostPublicKey, clientKey, authorizedKeys] = await Promise.all(
    ['host_key', 'host_key.pub', 'client_key', 'client_key.pub'].map((f) => readFile(path.join(dir, f), 'utf8')),
  );
  return { hostKey: hostKey ?? '', hostPublicKey: (hostPublicKey ?? '').trim(), clientKey: clientKey ?? '', authorizedKeys: authorizedKeys ?? '' };
}

/** The keys in `dir`, made there first if missing (ed25519, with ssh-keygen). */
export async function ensureAgentKeys(dir: string, comment: string, options: { signal?: AbortSignal } = {}): Promise<AgentKeys> {
  try {
    return await readKeys(dir);
  } catch {
    /* not made yet */
  }
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    for (const name of ['host_key', 'client_key']) {
      await runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${comment}-${name}`, '-f', path.join(tmp, name)], options);
    }
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw new BerthError('failed_precondition', `cannot make agent keys (is ssh-keygen installed?): ${(err as Error).message}`, { cause: err });
  }
  return readKeys(dir);
}
