/**
 * A service's image: built from its `build` section by the engine's builder
 * (whose step cache makes an unchanged rebuild cheap; named `image:` or
 * PROJECT-SERVICE), or pulled when the engine does not have it.
 */
import path from 'node:path';
import type { ApiClient } from '../api/client';
import { errorFromResponse } from '../api/http-errors';
import type { ImageRecord } from '../api/types/images';
import type { BuildOptions } from '../api/types/build';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import type { ComposeProject, ComposeService, ContextPacker } from './types';

/** The name Dockerfile gets in the context when it lies outside it (as the dev container builds do). */
const OUTSIDE_DOCKERFILE = '.berth-dockerfile';

export interface ImageOptions {
  readonly api: ApiClient;
  readonly pack?: ContextPacker;
  readonly noCache?: boolean;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export function builtImageName(project: ComposeProject, service: ComposeService): string {
  return service.image ?? `${project.name}-${service.name}`;
}

async function inspect(api: ApiClient, name: string, signal?: AbortSignal): Promise<ImageRecord | undefined> {
  try {
    return await api.call('imageInspect', { params: { name }, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (BerthError.is(err, 'not_found')) return undefined;
    throw err;
  }
}

async function build(o: ImageOptions, project: ComposeProject, service: ComposeService): Promise<string> {
  const b = service.build;
  if (!b) throw new BerthError('internal', `service ${service.name} has no build section`);
  if (!o.pack) throw new BerthError('internal', 'building a service needs a context packer');
  const tag = builtImageName(project, service);
  const dockerfile = path.resolve(b.context, b.dockerfile);
  const rel = path.relative(b.context, dockerfile);
  const outside = rel.startsWith('..') || path.isAbsolute(rel);
  const name = outside ? OUTSIDE_DOCKERFILE : rel.split(path.sep).join('/');
  const options: BuildOptions = { dockerfile: name, tags: [tag], buildArgs: b.args, ...(b.target ? { target: b.target } : {}), ...(o.noCache ? { noCache: true } : {}) };
  o.logger.info(`building ${tag} for service ${service.name}`);
  const body = o.pack(b.context, [name, '.dockerignore'], outside ? { name: OUTSIDE_DOCKERFILE, file: dockerfile } : undefined);
  for await (const m of o.api.stream('imageBuild', { query: { options: JSON.stringify(options) }, body, ...(o.signal ? { signal: o.signal } : {}) })) {
    if ('progress' in m) {
      const text = m.progress.stream.replace(/\n$/, '');
      if (text) o.logger.info(text);
    } else if ('error' in m) {
      const err = errorFromResponse(500, m.error);
      throw new BerthError(err.code, `building service ${service.name} failed: ${err.message}`, { details: m.error.details ?? {} });
    } else return tag;
  }
  throw new BerthError('unavailable', `the engine closed the build of service ${service.name} without a result`);
}

async function pull(o: ImageOptions, reference: string): Promise<void> {
  o.logger.info(`pulling ${reference}`);
  for await (const m of o.api.stream('imagePull', { body: { reference }, ...(o.signal ? { signal: o.signal } : {}) })) {
    if ('error' in m) throw errorFromResponse(500, m.error);
  }
}

/** The service's image, built or pulled as needed: its reference and record. */
export async function serviceImage(o: ImageOptions, project: ComposeProject, service: ComposeService): Promise<{ reference: string; image: ImageRecord }> {
  let reference: string;
  if (service.build) reference = await build(o, project, service);
  else {
    reference = service.image as string;
    if (!(await inspect(o.api, reference, o.signal))) await pull(o, reference);
  }
  const image = await inspect(o.api, reference, o.signal);
  if (!image) throw new BerthError('not_found', `image ${reference} of service ${service.name} is not in the engine`);
  return { reference, image };
}
