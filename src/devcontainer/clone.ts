/**
 * Clone Repository in Container Volume: the repository is cloned into a
 * named volume (on the engine's host, with the host's git, so its
 * credentials — config, helpers, SSH agent — are used and never copied into
 * a container or image), and the dev container mounts that volume as
 * /workspaces. The same URL and branch find the same volume again; an
 * existing clone is never replaced or deleted.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../api/client';
import { BerthError, notYet } from '../common/errors';
import type { Logger } from '../common/log';
import { run } from '../common/process/spawn';

export const CLONE_URL_LABEL = 'berth.clone.url';
export const CLONE_BRANCH_LABEL = 'berth.clone.branch';

export interface CloneOptions {
  readonly api: ApiClient;
  readonly url: string;
  readonly branch?: string;
  /** The volume's name (default: derived from the URL and branch). */
  readonly volume?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export interface CloneResult {
  readonly volume: string;
  /** The clone's folder on the engine's host, inside the volume. */
  readonly hostFolder: string;
  /** The clone's folder in the container. */
  readonly containerFolder: string;
  /** False when the volume held the clone already. */
  readonly cloned: boolean;
}

/** "https://host/org/my-repo.git" -> "my-repo"; local paths and scp-like URLs too. */
export function repositoryName(url: string): string {
  const last = url.replace(/[/\\]+$/, '').split(/[/:\\]/).at(-1) ?? '';
  const name = last.replace(/\.git$/, '').replace(/[^A-Za-z0-9._-]/g, '-');
  if (!name || name === '.' || name === '..') throw new BerthError('invalid_argument', `cannot tell a repository name from "${url}"`);
  return name;
}

export function cloneVolumeName(url: string, branch?: string): string {
  const hash = createHash('sha256').update(`${url}\n${branch ?? ''}`).digest('hex').slice(0, 10);
  return `berth-clone-${repositoryName(url).toLowerCase()}-${hash}`;
}

export async function cloneIntoVolume(o: CloneOptions): Promise<CloneResult> {
  const s = o.signal ? { signal: o.signal } : {};
  const name = repositoryName(o.url);
  const volume = o.volume ?? cloneVolumeName(o.url, o.branch);
  let created = false;
  let record = await o.api.call('volumeInspect', { params: { name: volume }, ...s }).catch((err: unknown) => {
    if (BerthError.is(err, 'not_found')) return undefined;
    throw err;
  });
  if (!record) {
    record = await o.api.call('volumeCreate', { body: { name: volume, labels: { [CLONE_URL_LABEL]: o.url, ...(o.branch ? { [CLONE_BRANCH_LABEL]: o.branch } : {}) } }, ...s });
    created = true;
  }
  if (!existsSync(record.mountpoint)) {
    if (created) await o.api.call('volumeRemove', { params: { name: volume }, ...s }).catch(() => undefined);
    throw notYet("cloning into a volume of an engine on another machine (the volume's data is not on this one)", 11);
  }
  const hostFolder = path.join(record.mountpoint, name);
  const result = { volume, hostFolder, containerFolder: `/workspaces/${name}` };
  if (await stat(path.join(hostFolder, '.git')).catch(() => undefined)) {
    o.logger.info(`volume ${volume} holds ${name} already; not cloning again`);
    return { ...result, cloned: false };
  }
  if (existsSync(hostFolder)) throw new BerthError('already_exists', `volume ${volume} has a ${name} folder that is not a git clone; remove it or pick another volume with --volume`);
  o.logger.info(`cloning ${o.url}${o.branch ? ` (branch ${o.branch})` : ''} into volume ${volume}`);
  const argv = ['git', 'clone', '--progress', ...(o.branch ? ['--branch', o.branch] : []), '--', o.url, hostFolder];
  const r = await run(argv, { env: { ...o.env, GIT_TERMINAL_PROMPT: '0' }, ...s }).catch((err: unknown) => ({ code: -1, signal: null, stdout: Buffer.alloc(0), stderr: err instanceof Error ? err.message : String(err) }));
  if (r.code !== 0) {
    await rm(hostFolder, { recursive: true, force: true });
    if (created) await o.api.call('volumeRemove', { params: { name: volume }, ...s }).catch(() => undefined);
    throw new BerthError('failed_precondition', `git clone of ${o.url} failed: ${r.stderr.trim().split('\n').slice(-4).join('\n')}`, { details: { url: o.url } });
  }
  return { ...result, cloned: true };
}
