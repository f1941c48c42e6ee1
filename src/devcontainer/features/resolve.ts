/**
 * Finding features: local folders (`./name`, relative to the folder of
 * devcontainer.json), OCI artifacts (`registry/namespace/name[:tag|@digest]`,
 * pulled through the engine with its registry credentials) and tarball URLs
 * (`https://.../devcontainer-feature-name.tgz`). `dependsOn` is followed.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '../../api/client';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';
import { parseFeatureJson, type FeatureJson, type FeatureValue } from './feature-json';

export const FEATURE_LAYER_MEDIA_TYPE = 'application/vnd.devcontainers.layer.v1+tar';
export const FEATURE_CONFIG_MEDIA_TYPE = 'application/vnd.devcontainers';

export interface ResolvedFeature {
  /** As written in devcontainer.json (or dependsOn). */
  readonly userId: string;
  /** Without tag or digest: what installsAfter and overrideFeatureInstallOrder name. */
  readonly baseId: string;
  readonly kind: 'local' | 'oci' | 'tarball';
  /** A folder holding devcontainer-feature.json and install.sh. */
  readonly dir: string;
  readonly json: FeatureJson;
  readonly value: FeatureValue;
  /** OCI: the manifest digest (for devcontainer-lock.json). */
  readonly digest?: string;
  readonly resolved?: string;
}

export interface ResolveOptions {
  readonly api: ApiClient;
  /** The folder of devcontainer.json. */
  readonly configDir: string;
  /** Pinned digests from devcontainer-lock.json, by user id. */
  readonly locked?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export function baseIdOf(userId: string): string {
  if (userId.startsWith('./') || userId.startsWith('../') || /^https?:\/\//.test(userId)) return userId;
  const at = userId.indexOf('@');
  if (at >= 0) return userId.slice(0, at);
  const colon = userId.lastIndexOf(':');
  return colon > userId.lastIndexOf('/') ? userId.slice(0, colon) : userId;
}

async function extract(archive: Buffer, dir: string, signal?: AbortSignal): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = `${dir}.tar`;
  await writeFile(file, archive);
  // GNU tar refuses members that climb out with "..", and detects gzip in a file.
  await runChecked(['tar', '-x', '--no-same-owner', '-f', file, '-C', dir], signal ? { signal } : {});
}

async function readJson(dir: string, userId: string): Promise<FeatureJson> {
  const text = await readFile(path.join(dir, 'devcontainer-feature.json'), 'utf8').catch(() => {
    throw new BerthError('not_found', `feature ${userId}: no devcontainer-feature.json in ${dir}`);
  });
  return parseFeatureJson(text, `feature ${userId}`);
}

async function resolveOne(userId: string, value: FeatureValue, o: ResolveOptions, work: string): Promise<ResolvedFeature> {
  const s = o.signal ? { signal: o.signal } : {};
  const baseId = baseIdOf(userId);
  const slot = path.join(work, createHash('sha256').update(userId).digest('hex').slice(0, 16));
  if (userId.startsWith('./') || userId.startsWith('../')) {
    const dir = path.resolve(o.configDir, userId);
    if (path.relative(o.configDir, dir).startsWith('..')) throw new BerthError('invalid_argument', `feature ${userId}: local features must live in the .devcontainer folder`);
    return { userId, baseId, kind: 'local', dir, json: await readJson(dir, userId), value };
  }
  if (/^https?:\/\//.test(userId)) {
    const res = await fetch(userId, s).catch((err: unknown) => {
      throw new BerthError('unavailable', `feature ${userId}: download failed: ${(err as Error).message}`);
    });
    if (!res.ok) throw new BerthError('not_found', `feature ${userId}: the server answered ${res.status}`);
    await extract(Buffer.from(await res.arrayBuffer()), slot, o.signal);
    return { userId, baseId, kind: 'tarball', dir: slot, json: await readJson(slot, userId), value };
  }
  const pinned = o.locked?.[userId];
  const reference = pinned ? `${baseId}@${pinned}` : userId.includes(':', userId.lastIndexOf('/')) || userId.includes('@') ? userId : `${userId}:latest`;
  const artifact = await o.api.call('artifactPull', { body: { reference }, ...s }).catch((err: unknown) => {
    throw new BerthError(BerthError.is(err, 'not_found') ? 'not_found' : 'unavailable', `feature ${userId}: ${(err as Error).message}`, { cause: err });
  });
  const layer = artifact.layers.find((l) => l.mediaType === FEATURE_LAYER_MEDIA_TYPE) ?? artifact.layers[0];
  if (!layer) throw new BerthError('invalid_argument', `feature ${userId}: the artifact has no layer`);
  await extract(Buffer.from(layer.data, 'base64'), slot, o.signal);
  return { userId, baseId, kind: 'oci', dir: slot, json: await readJson(slot, userId), value, digest: artifact.digest, resolved: `${baseId}@${artifact.digest}` };
}

/** Resolves the configuration's features and, transitively, what they depend on. */
export async function resolveFeatures(features: Readonly<Record<string, FeatureValue>>, o: ResolveOptions): Promise<ResolvedFeature[]> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-features-'));
  const out: ResolvedFeature[] = [];
  const seen = new Set<string>();
  const queue: [string, FeatureValue][] = Object.entries(features);
  while (queue.length > 0) {
    const [userId, value] = queue.shift() as [string, FeatureValue];
    if (seen.has(baseIdOf(userId))) continue;
    seen.add(baseIdOf(userId));
    if (value === false) continue;
    const f = await resolveOne(userId, value, o, work);
    out.push(f);
    for (const [dep, depValue] of Object.entries(f.json.dependsOn ?? {})) queue.push([dep, depValue]);
  }
  return out;
}
