/**
 * `berth features package|publish`: a feature folder (or a collection of
 * them, e.g. `src/`) to `devcontainer-feature-<id>.tgz` archives, and those
 * pushed as OCI artifacts the way the devcontainers distribution spec lays
 * them out: config `application/vnd.devcontainers`, one layer
 * `application/vnd.devcontainers.layer.v1+tar`, tags <version>, <major>,
 * <major>.<minor> and latest.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../../api/client';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';
import { parseFeatureJson, type FeatureJson } from './feature-json';
import { FEATURE_CONFIG_MEDIA_TYPE, FEATURE_LAYER_MEDIA_TYPE } from './resolve';

export interface PackagedFeature {
  readonly id: string;
  readonly version: string;
  readonly archive: string;
  readonly json: FeatureJson;
}

/** The feature folders under `dir`: itself when it holds devcontainer-feature.json, else its subfolders that do. */
export async function featureFolders(dir: string): Promise<string[]> {
  if (existsSync(path.join(dir, 'devcontainer-feature.json'))) return [dir];
  const subs = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name));
  const found = subs.filter((d) => existsSync(path.join(d, 'devcontainer-feature.json'))).sort();
  if (found.length === 0) throw new BerthError('not_found', `no devcontainer-feature.json in ${dir} or its subfolders`);
  return found;
}

export async function packageFeatures(dir: string, outDir: string, signal?: AbortSignal): Promise<PackagedFeature[]> {
  await mkdir(outDir, { recursive: true });
  const out: PackagedFeature[] = [];
  for (const folder of await featureFolders(dir)) {
    const json = parseFeatureJson(await readFile(path.join(folder, 'devcontainer-feature.json'), 'utf8'), folder);
    if (!existsSync(path.join(folder, 'install.sh'))) throw new BerthError('invalid_argument', `feature ${json.id} has no install.sh`);
    if (!json.version || !/^\d+\.\d+\.\d+/.test(json.version)) throw new BerthError('invalid_argument', `feature ${json.id} needs a semantic "version" (got ${JSON.stringify(json.version)})`);
    const archive = path.join(outDir, `devcontainer-feature-${json.id}.tgz`);
    await runChecked(['tar', '-czf', archive, '--owner=0', '--group=0', '--numeric-owner', '-C', folder, '.'], signal ? { signal } : {});
    out.push({ id: json.id, version: json.version, archive, json });
  }
  return out;
}

export function versionTags(version: string): string[] {
  const [major, minor] = version.split(/[.+-]/);
  return [version, `${major}.${minor}`, String(major), 'latest'];
}

export async function publishFeature(api: ApiClient, f: PackagedFeature, repository: string, signal?: AbortSignal): Promise<{ reference: string; digest: string; tags: readonly string[] }> {
  const data = await readFile(f.archive);
  const reference = `${repository}/${f.id}`;
  const r = await api.call('artifactPush', {
    body: {
      reference,
      tags: versionTags(f.version),
      config: { mediaType: FEATURE_CONFIG_MEDIA_TYPE, data: Buffer.from('{}').toString('base64') },
      layers: [{ mediaType: FEATURE_LAYER_MEDIA_TYPE, data: data.toString('base64'), annotations: { 'org.opencontainers.image.title': path.basename(f.archive) } }],
      annotations: { 'dev.containers.metadata': JSON.stringify(f.json), 'com.github.package.type': 'devcontainer_feature' },
    },
    ...(signal ? { signal } : {}),
  });
  return { reference, digest: r.digest, tags: r.tags };
}
