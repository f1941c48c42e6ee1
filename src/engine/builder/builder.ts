/**
 * The image builder: Dockerfiles built on the engine's own parts (content
 * store, snapshots, image store, container manager for RUN), with a layer
 * cache under `<dataRoot>/builder/cache`.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BuildOptions, BuildResult } from '../../api/types/build';
import type { ImageRecord, PullOptions } from '../../api/types/images';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { ContentStore } from '../content/store';
import type { ContainerManager } from '../containers/manager';
import type { ImageUnpacker } from '../images/deps';
import type { LayerSnapshotter } from '../snapshots/dir-snapshotter';
import { BuildCache } from './build-cache';
import { BuildJob, type ContextSources, dockerfilePath, type JobRun } from './build-job';
import { ContextStore } from './context-upload';
import { type Dockerfile, parseDockerfile } from './dockerfile';
import type { StepImages } from './step-images';
import { WorkRoots } from './work-root';
import { writeImage, type ImageSink } from './write-image';
import { BoundedMap } from '../../common/bounded-map';

export interface BuilderImages extends ImageSink {
  get(nameOrId: string): Promise<ImageRecord>;
  pull(reference: string, options?: PullOptions): Promise<ImageRecord>;
}

export interface BuilderDeps {
  /** `<dataRoot>/builder`. */
  readonly root: string;
  readonly content: ContentStore;
  readonly images: BuilderImages;
  readonly snapshotter: LayerSnapshotter;
  readonly unpacker: ImageUnpacker;
  readonly containers: ContainerManager;
  readonly stepImages: StepImages;
  readonly logger: Logger;
}

export class Builder {
  private readonly cache: BuildCache;
  private readonly work: WorkRoots;
  private readonly contexts: ContextStore;
  /** COPY sources and their content digests by context digest and patterns (an unchanged context is not matched or hashed again). */
  private readonly contextPlans = new BoundedMap<string, ContextSources>(256);
  /** Dockerfile texts by context digest and name (a stored context never changes). */
  private readonly dockerfiles = new BoundedMap<string, string>(64);
  /** Parsed Dockerfiles by name and text. */
  private readonly parsed = new BoundedMap<string, Dockerfile>(64);

  constructor(private readonly deps: BuilderDeps) {
    this.cache = new BuildCache(path.join(deps.root, 'cache'), deps.content, deps.snapshotter);
    this.contexts = new ContextStore(path.join(deps.root, 'contexts'));
    this.work = new WorkRoots(path.join(deps.root, 'mnt'), deps.snapshotter, deps.content, deps.logger);
  }

  /** Removes what a killed daemon left mid-build. Call once at start. */
  async init(): Promise<void> {
    await mkdir(path.join(this.deps.root, 'mnt'), { recursive: true, mode: 0o700 });
    await mkdir(path.join(this.deps.root, 'contexts'), { recursive: true, mode: 0o700 });
    for (const name of await readdir(path.join(this.deps.root, 'contexts'))) {
      if (name.startsWith('.upload-')) await rm(path.join(this.deps.root, 'contexts', name), { recursive: true, force: true });
    }
    // Downloads (ADD from a URL) of builds a killed daemon left behind.
    for (const name of await readdir(this.deps.root)) {
      if (name.startsWith('download-')) await rm(path.join(this.deps.root, name), { recursive: true, force: true });
    }
    await this.work.cleanupStale();
    // RUN containers of builds a killed daemon left behind.
    for (const c of await this.deps.containers.list({ all: true, label: ['berth.build'] })) {
      await this.deps.containers.remove(c.id, { force: true, volumes: true }).catch((err: unknown) => this.deps.logger.warn('cannot remove a stale build container', { id: c.id, error: String(err) }));
    }
  }

  /** Builds from a context sent as a tar stream (plain or gzip). */
  buildFromTar(body: Readable, options: BuildOptions, run: JobRun = {}): Promise<BuildResult> {
    return this.contexts.with(body, (ctx) => this.build(ctx.dir, options, run, ctx.digest), run.signal);
  }

  /** Builds from a context a build sent before (named by the sha256 of its tar); not_found when the engine no longer has it. */
  buildFromStored(digest: string, options: BuildOptions, run: JobRun = {}): Promise<BuildResult> {
    return this.contexts.withStored(digest, (ctx) => this.build(ctx.dir, options, run, ctx.digest));
  }

  /** Builds the Dockerfile of `contextDir` (a directory holding the context). */
  async build(contextDir: string, options: BuildOptions, run: JobRun = {}, contextDigest?: string): Promise<BuildResult> {
    const file = options.dockerfile ?? 'Dockerfile';
    const textKey = contextDigest === undefined ? undefined : `${contextDigest}\0${file}`;
    let text = textKey === undefined ? undefined : this.dockerfiles.get(textKey);
    if (text === undefined) {
      try {
        text = await readFile(dockerfilePath(contextDir, options.dockerfile), 'utf8');
      } catch (err) {
        throw new BerthError('invalid_argument', `cannot read ${file} in the build context: ${(err as Error).message}`, { cause: err });
      }
      if (textKey !== undefined) this.dockerfiles.set(textKey, text);
    }
    // Parsed once per text: the parser costs milliseconds a call while its code is cold (each daemon build).
    const parseKey = `${file}\0${text}`;
    const dockerfile = this.parsed.get(parseKey) ?? parseDockerfile(text, file);
    this.parsed.set(parseKey, dockerfile);
    const started = Date.now();
    const job = new BuildJob(this.deps, { cache: this.cache, work: this.work, contextPlans: this.contextPlans }, dockerfile, file, { dir: contextDir, ...(contextDigest ? { digest: contextDigest } : {}) }, options, run);
    const { state, result } = await job.execute();
    const image = await writeImage(this.deps.content, this.deps.images, state, options.tags ?? []);
    run.onProgress?.({ stream: `Successfully built ${image.id.slice(7, 19)}\n` });
    for (const t of image.repoTags) run.onProgress?.({ stream: `Successfully tagged ${t}\n` });
    this.deps.logger.info('image built', { id: image.id, ...result, seconds: (Date.now() - started) / 1000 });
    return { id: image.id, tags: image.repoTags, ...result };
  }
}
