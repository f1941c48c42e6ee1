/**
 * Installing features as image layers: a generated Dockerfile on top of the
 * base image copies each feature and runs its install.sh as root, with its
 * options and the _REMOTE_USER/_CONTAINER_USER variables in the environment,
 * one COPY and one RUN per feature, through the engine's builder. Its layer
 * cache makes an unchanged feature set reinstall nothing. The image carries
 * the merged devcontainer.metadata label (the base's entries, then each
 * feature's).
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '../../api/client';
import type { Logger } from '../../common/log';
import { IMAGE_METADATA_LABEL, type ImageMetadataEntry } from '../../config/image-metadata';
import type { ContextPacker } from '../build-image';
import { runBuild } from '../run-build';
import { metadataEntry, optionValues } from './feature-json';
import type { ResolvedFeature } from './resolve';

export interface InstallOptions {
  readonly api: ApiClient;
  readonly baseImage: string;
  /** The base image's Config.User (restored after the installs). */
  readonly imageUser: string;
  readonly remoteUser: string;
  readonly containerUser: string;
  /** The base image's metadata entries. */
  readonly baseEntries: readonly ImageMetadataEntry[];
  /** In install order. */
  readonly features: readonly ResolvedFeature[];
  readonly pack: ContextPacker;
  readonly noCache?: boolean;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export interface FeaturesImage {
  readonly image: string;
  readonly entries: readonly ImageMetadataEntry[];
  readonly cached: number;
  readonly steps: number;
  readonly layersWritten: number;
}

const q = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;
const envLine = (k: string, v: string): string => `ENV ${k}=${JSON.stringify(v)}`;

export async function installFeatures(o: InstallOptions): Promise<FeaturesImage> {
  const context = await mkdtemp(path.join(os.tmpdir(), 'berth-features-build-'));
  try {
    const lines = [`FROM ${o.baseImage}`, 'USER root'];
    const entries: ImageMetadataEntry[] = [...o.baseEntries];
    for (const [i, f] of o.features.entries()) {
      const name = `${i}-${f.json.id.replace(/[^A-Za-z0-9._-]/g, '-')}`;
      await cp(f.dir, path.join(context, 'features', name), { recursive: true });
      const env = optionValues(f.json, f.value);
      await writeFile(
        path.join(context, 'features', name, 'devcontainer-features.env'),
        Object.entries(env)
          .map(([k, v]) => `${k}=${q(v)}`)
          .join('\n') + '\n',
      );
      for (const [k, v] of Object.entries(f.json.containerEnv ?? {})) lines.push(envLine(k, v));
      const dir = `/tmp/berth-features/${name}`;
      lines.push(`COPY features/${name}/ ${dir}/`);
      const home = (u: string): string => `$(awk -F: -v u=${q(u)} '$1==u{print $6}' /etc/passwd)`;
      const script = [
        `cd ${dir}`,
        'chmod +x ./install.sh',
        'set -a',
        '. ./devcontainer-features.env',
        `_REMOTE_USER=${q(o.remoteUser)}`,
        `_REMOTE_USER_HOME=${home(o.remoteUser)}`,
        `_CONTAINER_USER=${q(o.containerUser)}`,
        `_CONTAINER_USER_HOME=${home(o.containerUser)}`,
        'set +a',
        './install.sh',
      ].join(' && ');
      lines.push(`RUN ${script}`);
      entries.push(metadataEntry(f.json, f.userId));
    }
    if (o.imageUser) lines.push(`USER ${o.imageUser}`);
    await writeFile(path.join(context, 'Dockerfile'), lines.join('\n') + '\n');
    const image = `berth-features-${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`;
    const options = { dockerfile: 'Dockerfile', tags: [image], labels: { [IMAGE_METADATA_LABEL]: JSON.stringify(entries) }, ...(o.noCache ? { noCache: true } : {}) };
    o.logger.info(`installing features: ${o.features.map((f) => f.userId).join(', ')}`);
    const body = o.pack(context, ['Dockerfile']);
    const r = await runBuild(o.api, options, body, { what: 'installing the features', onLine: (text) => o.logger.info(text), signal: o.signal });
    return { image, entries, cached: r.cached, steps: r.steps, layersWritten: r.layersWritten };
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}
