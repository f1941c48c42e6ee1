/**
 * The image of a Dockerfile-based dev container: the configuration's
 * `build` (dockerfile, context, args, target, cacheFrom) sent to the
 * engine's builder, whose layer cache makes an unchanged rebuild instant.
 * The context is packed by the caller (the CLI honours .dockerignore).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ApiClient } from '../api/client';
import type { BuildOptions } from '../api/types/build';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import type { DevContainerConfig } from '../config/types';
import { runBuild } from './run-build';

/** Packs a build context: `dir` minus .dockerignore; `keep` always; `extra` adds an outside file under a name. */
export type ContextPacker = (dir: string, keep: readonly string[], extra?: { name: string; file: string }) => Readable;

/** The name the Dockerfile gets in the context when it lives outside it. */
export const OUTSIDE_DOCKERFILE_NAME = '.berth-dockerfile';

export interface BuildImageOptions {
  readonly api: ApiClient;
  readonly config: DevContainerConfig;
  readonly configFile: string;
  readonly workspaceFolder: string;
  readonly pack: ContextPacker;
  /** The image name (default: berth-<folder>-<hash of the config file path>). */
  readonly imageName?: string;
  readonly noCache?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export interface BuiltImage {
  readonly image: string;
  readonly id: string;
  readonly cached: number;
  readonly steps: number;
  /** 0 when every step came from the cache. */
  readonly layersWritten: number;
}

export function defaultImageName(workspaceFolder: string, configFile: string): string {
  const base = path.basename(workspaceFolder).toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[._-]+/, '') || 'workspace';
  return `berth-${base}-${createHash('sha256').update(configFile).digest('hex').slice(0, 12)}`;
}

export async function buildDevContainerImage(o: BuildImageOptions): Promise<BuiltImage> {
  const c = o.config as DevContainerConfig & { build?: { dockerfile?: string; context?: string; target?: string; args?: Record<string, string>; cacheFrom?: string | string[] }; dockerFile?: string; context?: string };
  const configDir = path.dirname(o.configFile);
  const dockerfileRel = c.build?.dockerfile ?? c.dockerFile;
  if (!dockerfileRel) throw new BerthError('invalid_argument', 'the configuration names no Dockerfile');
  const dockerfile = path.resolve(configDir, dockerfileRel);
  const contextDir = path.resolve(configDir, c.build?.context ?? c.context ?? '.');
  const inContext = path.relative(contextDir, dockerfile);
  const outside = inContext.startsWith('..') || path.isAbsolute(inContext);
  const dockerfileName = outside ? OUTSIDE_DOCKERFILE_NAME : inContext.split(path.sep).join('/');
  const image = o.imageName ?? defaultImageName(o.workspaceFolder, o.configFile);
  const options: BuildOptions = {
    dockerfile: dockerfileName,
    tags: [image],
    ...(c.build?.target ? { target: c.build.target } : {}),
    buildArgs: { ...(c.build?.args ?? {}) },
    ...(o.labels ? { labels: o.labels } : {}),
    ...(o.noCache ? { noCache: true } : {}),
    ...cacheFromOf(c.build?.cacheFrom),
  };
  o.logger.info(`building ${image} from ${path.relative(o.workspaceFolder, dockerfile) || dockerfile}`);
  const body = o.pack(contextDir, [dockerfileName, '.dockerignore'], outside ? { name: OUTSIDE_DOCKERFILE_NAME, file: dockerfile } : undefined);
  const r = await runBuild(o.api, options, body, { what: 'building the dev container image', onLine: (text) => o.logger.info(text), signal: o.signal });
  return { image, id: r.id, cached: r.cached, steps: r.steps, layersWritten: r.layersWritten };
}

/** build.cacheFrom (one image or several) as the build's cache-from images. */
function cacheFromOf(value: string | readonly string[] | undefined): { cacheFrom?: readonly string[] } {
  const list = (typeof value === 'string' ? [value] : (value ?? [])).filter((v) => v !== '');
  return list.length > 0 ? { cacheFrom: list } : {};
}
