/**
 * One build: the stages up to the target, in order; each instruction
 * looked up in the cache (keyed by the state before, the instruction, the
 * build args in scope and the content it reads) or executed. Failures name
 * the Dockerfile line and instruction.
 */
import path from 'node:path';
import type { BuildOptions, BuildProgress, BuildResult } from '../../api/types/build';
import type { ImageRecord } from '../../api/types/images';
import type { Platform } from '../../api/types/oci';
import { BerthError, toBerthError } from '../../common/errors';
import type { BuilderDeps } from './builder';
import { type BuildCache, cacheKey, type LayerCheck } from './build-cache';
import { type BuildState, fromImage, runtimeConfig, scratchState, stateId, withConfig, withLayer } from './build-state';
import { applyConfig, commandOf } from './config-steps';
import { CacheFromImages } from './cache-from';
import { contextRoot, hashSources, plainRoot, type Source, type SourceRoot } from './context';
import { checkSeveralSources, copySources, mkdirIn } from './copy-files';
import { type CopyPlan, ownerIn, withInlineFiles } from './copy-plan';
import { onBuildTriggers, withoutOnBuild } from './onbuild';
import type { Dockerfile, Instruction, Stage } from './dockerfile';
import { RunFailed, runStep } from './step-run';
import { isUrl } from './remote-source';
import { downloadSources, sourcesInOrder, withDownloads } from './add-downloads';
import { configCreatedBy, contentComment, copyCreatedBy, runCreatedBy, stepOutcomes, workdirCreatedBy } from './step-outcome';
import { shellExpand, shellWords } from './shell-words';
import type { WorkRoots } from './work-root';

/** Build args every Dockerfile may use without declaring them (Docker's predefined ARGs). */
export const PROXY_ARGS: readonly string[] = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/** What a COPY's patterns name in a context: its root, the matches, their content digest. */
export interface ContextSources {
  readonly root: SourceRoot;
  readonly sources: readonly Source[];
  readonly content: string;
}

export interface JobRun {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: BuildProgress) => void;
}

interface StageScope {
  /** ARGs declared in this stage, with their values (undefined: declared, no value). */
  readonly args: Map<string, string | undefined>;
  cmdSet: boolean;
}

export class BuildJob {
  private readonly stageStates = new Map<number, BuildState>();
  private readonly metaArgs = new Map<string, string>();
  private step = 0;
  private readonly total: number;
  readonly counts = { cached: 0, layersWritten: 0, containersCreated: 0 };
  private readonly layerCheck: LayerCheck;
  private cacheFrom = new CacheFromImages([]);
  /** Ids of the states this build hashed (states never change; each is asked for twice or more). */
  private readonly ids = new WeakMap<BuildState, string>();

  constructor(
    private readonly deps: BuilderDeps,
    private readonly parts: { readonly cache: BuildCache; readonly work: WorkRoots; readonly contextPlans: Map<string, ContextSources> },
    private readonly dockerfile: Dockerfile,
    private readonly file: string,
    private readonly context: { readonly dir: string; readonly digest?: string },
    private readonly options: BuildOptions,
    private readonly run: JobRun,
  ) {
    this.total = dockerfile.stages.reduce((n, s) => n + 1 + s.instructions.length, 0);
    this.layerCheck = parts.cache.check();
  }

  private idOf(state: BuildState): string {
    let id = this.ids.get(state);
    if (id === undefined) {
      id = stateId(state);
      this.ids.set(state, id);
    }
    return id;
  }

  private label(state: BuildState): string {
    return this.idOf(state).slice(0, 12);
  }

  private say(text: string): void {
    this.run.onProgress?.({ stream: text.endsWith('\n') ? text : `${text}\n` });
  }

  private fail(ins: Instruction, err: unknown): BerthError {
    const e = toBerthError(err);
    const where = `${this.file}:${ins.line}`;
    const output = e instanceof RunFailed ? `\n${e.output.join('\n')}` : '';
    return new BerthError(e.code === 'internal' ? 'internal' : e.code, `${where}: ${ins.text}: ${e.message}${output}`, {
      cause: e,
      details: { ...e.details, file: this.file, line: ins.line, instruction: ins.text },
    });
  }

  async execute(): Promise<{ state: BuildState; result: Omit<BuildResult, 'id' | 'tags'> }> {
    const { stages } = this.dockerfile;
    const buildArgs = this.options.buildArgs ?? {};
    for (const ins of this.dockerfile.globalArgs) {
      for (const [name, value] of this.argDecls(ins, this.metaArgs)) {
        const v = buildArgs[name] ?? value;
        if (v !== undefined) this.metaArgs.set(name, v);
      }
    }
    const targetName = this.options.target?.toLowerCase();
    const target = targetName === undefined ? stages.length - 1 : stages.findIndex((s) => s.name === targetName);
    if (target < 0) throw new BerthError('invalid_argument', `target stage "${this.options.target ?? ''}" could not be found`);
    if (!this.options.noCache && this.options.cacheFrom?.length) this.cacheFrom = new CacheFromImages(await this.cacheFromImages(this.options.cacheFrom));
    let state = scratchState();
    for (const stage of stages.slice(0, target + 1)) {
      state = await this.buildStage(stage, stage.index === target);
      this.stageStates.set(stage.index, state);
    }
    return { state, result: { steps: this.step, ...this.counts } };
  }

  /** The name=default pairs an ARG declares (defaults expanded with `vars`). */
  private argDecls(ins: Instruction, vars: ReadonlyMap<string, string>): [string, string | undefined][] {
    return shellWords(ins.args, vars, this.dockerfile.escape).map((w): [string, string | undefined] => {
      const eq = w.indexOf('=');
      return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
    });
  }

  private async baseState(stage: Stage): Promise<BuildState> {
    const name = shellExpand(stage.from.args.split(/\s+/)[0] ?? '', this.metaArgs, this.dockerfile.escape);
    if (name === '') throw new BerthError('invalid_argument', 'FROM names no image (an ARG without a value?)');
    if (name.toLowerCase() === 'scratch') return scratchState();
    const earlier = this.dockerfile.stages.find((s) => s.index < stage.index && s.name === name.toLowerCase());
    if (earlier) return this.stageStates.get(earlier.index) ?? scratchState();
    const platformFlag = stage.from.flags.get('platform');
    const platform = platformFlag ? platformOf(shellExpand(platformFlag, this.metaArgs, this.dockerfile.escape)) : undefined;
    return fromImage(await this.image(name, platform));
  }

  /** A stored image, else pulled (always pulled with --pull); `platform` picks from a multi-platform image. */
  private async image(name: string, platform?: Platform): Promise<ImageRecord> {
    const signal = { ...(this.run.signal ? { signal: this.run.signal } : {}), ...(platform ? { platform } : {}) };
    if (!this.options.pull) {
      try {
        return await this.deps.images.get(name);
      } catch (err) {
        if (!BerthError.is(err, 'not_found')) throw err;
      }
    }
    this.say(`Pulling ${name}`);
    return this.deps.images.pull(name, signal);
  }

  /** The --cache-from images, pulled when missing; one that cannot be had is left out (as Docker does), with a note. */
  private async cacheFromImages(names: readonly string[]): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    for (const name of names) {
      try {
        out.push(await this.image(name));
      } catch (err) {
        if (BerthError.is(err, 'cancelled')) throw err;
        this.say(`cache-from ${name} left out: ${(err as Error).message}`);
      }
    }
    return out;
  }

  private async buildStage(stage: Stage, last: boolean): Promise<BuildState> {
    this.say(`Step ${++this.step}/${this.total} : ${stage.from.text}`);
    let state: BuildState;
    try {
      state = await this.baseState(stage);
    } catch (err) {
      throw this.fail(stage.from, err);
    }
    this.say(` ---> ${this.label(state)}`);
    const scope: StageScope = { args: new Map(), cmdSet: false };
    // ONBUILD triggers of the base run first, in this build's context; the child's config drops them.
    const triggers = onBuildTriggers(state, stage.from, this.file);
    if (triggers.length > 0) {
      state = { ...state, config: { ...state.config, config: withoutOnBuild(runtimeConfig(state)) } };
      this.say(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'}`);
    }
    for (const ins of triggers) {
      try {
        state = await this.instruction(ins, state, scope);
      } catch (err) {
        throw this.fail(ins, err);
      }
    }
    const instructions = [...stage.instructions];
    if (last && this.options.labels && Object.keys(this.options.labels).length > 0) {
      const text = Object.entries(this.options.labels)
        .map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`)
        .join(' ');
      instructions.push({ keyword: 'LABEL', line: stage.from.line, args: text, flags: new Map(), text: `LABEL ${text}` });
    }
    for (const ins of instructions) {
      if (ins !== stage.from) this.say(`Step ${++this.step}/${this.total} : ${ins.text}`);
      try {
        state = await this.instruction(ins, state, scope);
      } catch (err) {
        throw this.fail(ins, err);
      }
    }
    return state;
  }

  /**
   * Docker's predefined proxy args: given as build args, RUN sees them without
   * an ARG; undeclared, they stay out of the history and the cache key (a
   * proxy's credentials must not land in the image, and a new proxy must not
   * rebuild everything).
   */
  private proxyEnv(scope: StageScope): string[] {
    const buildArgs = this.options.buildArgs ?? {};
    return PROXY_ARGS.filter((k) => buildArgs[k] !== undefined && !scope.args.has(k)).map((k) => `${k}=${buildArgs[k] ?? ''}`);
  }

  /** Build args in scope ("K=V"), in declaration order. */
  private argEnv(scope: StageScope): string[] {
    return [...scope.args].filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${v}`);
  }

  /** Expansion variables: the args in scope, then the image's env on top. */
  private vars(state: BuildState, scope: StageScope): Map<string, string> {
    const vars = new Map<string, string>();
    for (const [k, v] of scope.args) if (v !== undefined) vars.set(k, v);
    for (const kv of runtimeConfig(state).Env ?? []) {
      const eq = kv.indexOf('=');
      if (eq > 0) vars.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    return vars;
  }

  private async instruction(ins: Instruction, state: BuildState, scope: StageScope): Promise<BuildState> {
    if (ins.keyword === 'ARG') {
      const buildArgs = this.options.buildArgs ?? {};
      for (const [name, value] of this.argDecls(ins, this.vars(state, scope))) scope.args.set(name, buildArgs[name] ?? value ?? this.metaArgs.get(name));
      return state;
    }
    if (ins.keyword === 'CMD') scope.cmdSet = true;
    const copy = ins.keyword === 'COPY' || ins.keyword === 'ADD' ? await this.copyPlan(ins, state, scope) : undefined;
    try {
      return await this.cachedStep(ins, state, scope, copy);
    } finally {
      await copy?.release?.();
    }
  }

  /** The step from the cache, else executed and stored there. */
  private async cachedStep(ins: Instruction, state: BuildState, scope: StageScope, copy: CopyPlan | undefined): Promise<BuildState> {
    const instruction = ins.heredocs ? JSON.stringify([ins.text, ins.args]) : ins.text;
    const key = cacheKey({ parent: this.idOf(state), instruction, args: this.argEnv(scope), content: copy?.content ?? '' });
    if (!this.options.noCache) {
      const hit = await this.parts.cache.get(key, this.layerCheck);
      if (hit) {
        this.counts.cached++;
        this.say(' ---> Using cache');
        this.say(` ---> ${this.label(hit)}`);
        return hit;
      }
      const reused = await this.fromCacheImages(ins, state, scope, copy);
      if (reused) {
        await this.parts.cache.put(key, reused);
        this.counts.cached++;
        this.say(' ---> Using cache (cache-from)');
        this.say(` ---> ${this.label(reused)}`);
        return reused;
      }
    }
    const next = await this.executeStep(ins, state, scope, copy);
    await this.parts.cache.put(key, next);
    this.layerCheck.made(next);
    this.say(` ---> ${this.label(next)}`);
    return next;
  }

  /** The state after the step from a --cache-from image, its layers unpacked; undefined when none has it. */
  private async fromCacheImages(ins: Instruction, state: BuildState, scope: StageScope, copy: CopyPlan | undefined): Promise<BuildState | undefined> {
    if (this.cacheFrom.size === 0) return undefined;
    const ctx = { vars: this.vars(state, scope), escape: this.dockerfile.escape, cmdSet: scope.cmdSet, env: this.argEnv(scope) };
    const next = this.cacheFrom.match(state, stepOutcomes(ins, runtimeConfig(state), ctx, copy?.content));
    if (!next) return undefined;
    const signal = this.run.signal;
    await this.deps.unpacker.ensureChain(next.layers, (d) => this.deps.content.openRead(d), signal ? { signal } : {});
    this.layerCheck.made(next);
    return next;
  }

  private async executeStep(ins: Instruction, state: BuildState, scope: StageScope, copy?: CopyPlan): Promise<BuildState> {
    const config = runtimeConfig(state);
    const vars = this.vars(state, scope);
    const signal = this.run.signal;
    switch (ins.keyword) {
      case 'RUN': {
        const argv = commandOf(ins, config);
        const env = this.argEnv(scope);
        const layer = await runStep(this.deps, state, {
          argv,
          env: [...this.proxyEnv(scope), ...env],
          ...(this.options.networkMode ? { networkMode: this.options.networkMode } : {}),
          onOutput: (line) => this.say(line),
          onContainer: (id) => {
            this.counts.containersCreated++;
            this.say(` ---> Running in ${id.slice(0, 12)}`);
          },
          ...(signal ? { signal } : {}),
        });
        const next = withLayer(state, layer, runCreatedBy(ins, argv, env));
        await this.deps.unpacker.ensureChain(next.layers, (d) => this.deps.content.openRead(d), signal ? { signal } : {});
        this.counts.layersWritten++;
        return next;
      }
      case 'COPY':
      case 'ADD':
        return this.copyStep(ins, state, copy as CopyPlan);
      case 'WORKDIR': {
        const nextConfig = applyConfig(ins, config, { vars, escape: this.dockerfile.escape, cmdSet: scope.cmdSet });
        const dir = nextConfig.WorkingDir ?? '/';
        const layer = await this.parts.work.change(state, async (root) => void (await mkdirIn(root, dir)), signal);
        if (layer) this.counts.layersWritten++;
        return layer ? withLayer(state, layer, workdirCreatedBy(dir, true), nextConfig) : withConfig(state, nextConfig, workdirCreatedBy(dir, false));
      }
      case 'MAINTAINER':
        return { ...withConfig(state, config, `/bin/sh -c #(nop)  MAINTAINER ${ins.args}`), config: { ...withConfig(state, config, '').config, author: ins.args } };
      default: {
        const nextConfig = applyConfig(ins, config, { vars, escape: this.dockerfile.escape, cmdSet: scope.cmdSet });
        return withConfig(state, nextConfig, configCreatedBy(ins));
      }
    }
  }

  /** What a COPY or ADD reads: its root, its sources, their content digest. */
  private async copyPlan(ins: Instruction, state: BuildState, scope: StageScope): Promise<CopyPlan> {
    const vars = this.vars(state, scope);
    const words = ins.json ?? shellWords(ins.heredocs ? (ins.args.split('\n')[0] ?? '') : ins.args, vars, this.dockerfile.escape);
    if (words.length < 2) throw new BerthError('invalid_argument', `${ins.keyword} requires at least two arguments`);
    const patterns = words.slice(0, -1);
    const rawDest = words.at(-1) ?? '';
    const workdir = runtimeConfig(state).WorkingDir || '/';
    const dest = rawDest.startsWith('/') ? rawDest : `${workdir.replace(/\/$/, '')}/${rawDest}`;
    const checksum = ins.flags.get('checksum');
    const urls = patterns.filter(isUrl);
    if (urls.length > 0 && ins.keyword === 'COPY') throw new BerthError('invalid_argument', 'COPY cannot copy from a URL (use ADD)');
    const signal = this.run.signal;
    if (urls.length > 0 && urls.length === patterns.length) {
      const downloads = await downloadSources(this.deps.root, urls, {
        ...(checksum !== undefined ? { checksum } : {}),
        ...(rawDest.endsWith('/') ? {} : { fallbackName: path.posix.basename(dest) }),
        ...(signal ? { signal } : {}),
      });
      return { from: { kind: 'context', root: plainRoot(downloads.dir) }, sources: downloads.sources, patterns, dest, content: downloads.content, extract: false, release: downloads.release };
    }
    if (checksum !== undefined) throw new BerthError('invalid_argument', urls.length > 0 ? '--checksum needs a single URL source (not URLs together with other sources)' : '--checksum is only supported for URL sources');
    const docs = patterns.map((p) => /^<<-?(.+)$/.exec(p)?.[1]);
    if (ins.heredocs && docs.some((d) => d !== undefined)) {
      if (docs.some((d) => d === undefined)) throw new BerthError('invalid_argument', `${ins.keyword} cannot mix here-documents and other sources`);
      const files = docs.map((name) => {
        const doc = ins.heredocs?.find((h) => h.name === name);
        if (!doc) throw new BerthError('invalid_argument', `no here-document named ${name ?? ''}`);
        return { name: doc.name, content: doc.quoted ? doc.content : shellExpand(doc.content, vars, this.dockerfile.escape) };
      });
      return { from: { kind: 'inline', files }, sources: [], patterns: files.map((f) => f.name), dest, content: JSON.stringify(files) };
    }
    if (urls.length === 0) return this.localPlan(ins, vars, patterns, dest);
    checkSeveralSources(patterns.length, dest);
    const downloads = await downloadSources(this.deps.root, urls, signal ? { signal } : {});
    try {
      return withDownloads(await this.localPlan(ins, vars, patterns, dest, downloads.sources), downloads);
    } catch (err) {
      await downloads.release();
      throw err;
    }
  }

  /** A COPY or ADD from the context or --from (an ADD's downloads placed among the matches). */
  private async localPlan(ins: Instruction, vars: Map<string, string>, patterns: readonly string[], dest: string, downloads?: readonly Source[]): Promise<CopyPlan> {
    const from = ins.flags.get('from');
    if (from === undefined) {
      // A stored context never changes: what its patterns match and hold is found once.
      const memo = this.context.digest && !downloads ? `${this.context.digest}\0${JSON.stringify(patterns)}` : undefined;
      let found = memo ? this.parts.contextPlans.get(memo) : undefined;
      if (!found) {
        const root = await contextRoot(this.context.dir);
        const sources = await sourcesInOrder(root, patterns, downloads);
        found = { root, sources, content: await hashSources(root, sources.filter((s) => !s.remote)) };
        if (memo) this.parts.contextPlans.set(memo, found);
      }
      return { from: { kind: 'context', root: found.root }, sources: found.sources, patterns, dest, content: found.content };
    }
    const expanded = shellExpand(from, vars, this.dockerfile.escape);
    const stage = this.dockerfile.stages.find((s) => s.name === expanded.toLowerCase() || String(s.index) === expanded);
    let source: BuildState;
    if (stage) {
      const built = this.stageStates.get(stage.index);
      if (!built) throw new BerthError('invalid_argument', `stage ${expanded} is not built before this one`);
      source = built;
    } else source = fromImage(await this.image(expanded));
    return { from: { kind: 'state', state: source }, sources: [], patterns, dest, content: `${this.idOf(source)}\0${patterns.join('\0')}` };
  }

  private async copyStep(ins: Instruction, state: BuildState, plan: CopyPlan): Promise<BuildState> {
    const signal = this.run.signal;
    const chmodFlag = ins.flags.get('chmod');
    const mode = chmodFlag === undefined ? undefined : parseInt(chmodFlag, 8);
    if (mode !== undefined && (Number.isNaN(mode) || mode > 0o7777)) throw new BerthError('invalid_argument', `invalid --chmod=${chmodFlag ?? ''}: an octal mode is needed`);
    const chown = ins.flags.get('chown');
    const fill = async (rootfs: string, root: SourceRoot, sources: readonly Source[]): Promise<void> => {
      const owner = chown ? await ownerIn(rootfs, chown) : undefined;
      await copySources(rootfs, root, sources, plan.dest, { ...(owner ? { owner } : {}), ...(mode !== undefined ? { mode } : {}), extract: plan.extract ?? ins.keyword === 'ADD', ...(signal ? { signal } : {}) });
    };
    const from = plan.from;
    const layer =
      from.kind === 'context'
        ? await this.parts.work.change(state, (rootfs) => fill(rootfs, from.root, plan.sources), signal)
        : from.kind === 'inline'
          ? await withInlineFiles(from.files, (root, sources) => this.parts.work.change(state, (rootfs) => fill(rootfs, root, sources), signal))
          : await this.parts.work.withView(
            from.state,
            async (dir) => {
              const root = plainRoot(dir);
              const sources = await sourcesInOrder(root, plan.patterns, plan.downloads);
              return this.parts.work.change(state, (rootfs) => fill(rootfs, root, sources), signal);
            },
            signal,
          );
    const createdBy = copyCreatedBy(ins);
    const extra = { comment: contentComment(plan.content) };
    if (!layer) return withConfig(state, runtimeConfig(state), createdBy, extra);
    this.counts.layersWritten++;
    return withLayer(state, layer, createdBy, runtimeConfig(state), extra);
  }
}

/** "os/arch[/variant]" (FROM --platform). */
function platformOf(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.split('/');
  if (!os || !architecture || rest.length > 0) throw new BerthError('invalid_argument', `--platform must look like os/arch[/variant] (got "${text}")`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export const dockerfilePath = (contextDir: string, file: string | undefined): string => path.join(contextDir, path.posix.normalize(`/${file ?? 'Dockerfile'}`));
