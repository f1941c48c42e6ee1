/**
 * Lifecycle hooks in the container, in the spec's order. onCreate,
 * updateContent and postCreate run once per container (a marker in the
 * container records each); postStart after each start; postAttach on each
 * attach. A string runs through /bin/sh -c, an array directly, an object's
 * entries in parallel. A failing command stops the rest and says why.
 */
import type { ApiClient } from '../api/client';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import type { MergedDevContainerConfig } from '../config/image-metadata';
import type { LifecycleCommand } from '../config/types';
import type { ContainerFileWrite } from '../api/types/containers';

export type HookName = 'onCreateCommand' | 'updateContentCommand' | 'postCreateCommand' | 'postStartCommand' | 'postAttachCommand';

/** Where the container records which hooks ran and caches the probed user environment (mode 1777). */
export const MARKER_DIR = '/var/lib/berth-devcontainer';

export interface ExecContext {
  readonly api: ApiClient;
  readonly containerId: string;
  readonly user: string;
  readonly workingDir: string;
  readonly env: readonly string[];
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** Runs one command; its output goes to the log; answers the exit code and the output's tail. */
export async function execIn(
  ctx: ExecContext,
  cmd: readonly string[],
  options: { user?: string; quiet?: boolean; env?: readonly string[]; raw?: boolean } = {},
): Promise<{ exitCode: number; output: string }> {
  let output = '';
  let exitCode = -1;
  const keep = options.raw ? 4 * 1024 * 1024 : 8192;
  for await (const m of ctx.api.stream('containerExec', {
    params: { id: ctx.containerId },
    body: { cmd, user: options.user ?? ctx.user, workingDir: ctx.workingDir, env: [...(options.env ?? ctx.env)] },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  })) {
    if ('exitCode' in m) exitCode = m.exitCode;
    else {
      output = (output + m.text).slice(-keep);
      if (!options.quiet) ctx.logger.info(m.text.replace(/\n$/, ''));
    }
  }
  return { exitCode, output };
}

function argv(command: string | readonly string[]): string[] {
  return typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
}

async function runOne(ctx: ExecContext, hook: HookName, command: LifecycleCommand): Promise<void> {
  const parts: [string, string | readonly string[]][] =
    typeof command === 'string' || Array.isArray(command) ? [['', command as string | readonly string[]]] : Object.entries(command);
  await Promise.all(
    parts.map(async ([name, c]) => {
      const label = name ? `${hook} ${name}` : hook;
      ctx.logger.info(`running ${label}: ${typeof c === 'string' ? c : JSON.stringify(c)}`);
      const r = await execIn(ctx, argv(c));
      if (r.exitCode !== 0) {
        throw new BerthError('failed_precondition', `${label} failed with exit code ${r.exitCode}: ${typeof c === 'string' ? c : JSON.stringify(c)}\n${r.output.trim()}`, {
          details: { hook, exitCode: r.exitCode },
        });
      }
    }),
  );
}

const PLURAL: Record<HookName, keyof MergedDevContainerConfig> = {
  onCreateCommand: 'onCreateCommands',
  updateContentCommand: 'updateContentCommands',
  postCreateCommand: 'postCreateCommands',
  postStartCommand: 'postStartCommands',
  postAttachCommand: 'postAttachCommands',
};

const HOOK_NAMES = Object.keys(PLURAL) as HookName[];

/** The markers in the container: which hooks ran (and their stamps). */
export type Markers = ReadonlyMap<HookName, string>;

/** The files in the marker directory (name -> content), read by the engine in one call; none when it does not exist yet. */
export async function readMarkerFiles(ctx: Pick<ExecContext, 'api' | 'containerId' | 'signal'>): Promise<ReadonlyMap<string, string>> {
  const files = new Map<string, string>();
  try {
    const r = await ctx.api.call('containerFilesRead', { params: { id: ctx.containerId }, query: { path: MARKER_DIR }, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    for (const e of r.entries) if (e.kind === 'file' && e.content !== undefined) files.set(e.name, Buffer.from(e.content, 'base64').toString('utf8'));
  } catch (err) {
    if (!(BerthError.is(err) && err.code === 'not_found')) throw err;
  }
  return files;
}

/** Which hooks ran (and their stamps), from the marker directory's files. */
export function markersOf(files: ReadonlyMap<string, string>): Markers {
  const markers = new Map<HookName, string>();
  for (const hook of HOOK_NAMES) {
    const stamp = files.get(hook);
    if (stamp !== undefined) markers.set(hook, stamp);
  }
  return markers;
}

/** The marker directory (root's, mode 1777: scripts run as the remote user record things there too), made if missing. */
export function markerDirectory(): ContainerFileWrite {
  return { path: MARKER_DIR, kind: 'directory', mode: 0o1777 };
}

/** Writes a file into the marker directory (made if missing) through the engine, as root. */
export async function writeMarkerFile(ctx: Pick<ExecContext, 'api' | 'containerId' | 'signal'>, name: string, content: string, mode = 0o644): Promise<void> {
  await ctx.api.call('containerFilesWrite', {
    params: { id: ctx.containerId },
    body: { entries: [markerDirectory(), { path: `${MARKER_DIR}/${name}`, kind: 'file', content: Buffer.from(content, 'utf8').toString('base64'), mode }] },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

async function setMarker(ctx: ExecContext, hook: HookName, stamp: string): Promise<void> {
  try {
    await writeMarkerFile(ctx, hook, stamp);
  } catch (err) {
    throw new BerthError('failed_precondition', `cannot record that ${hook} ran: ${(err as Error).message}`, { cause: err });
  }
}

export interface HookOptions {
  /** Run only if the hook's marker does not hold this stamp, and record it after. */
  readonly marker?: string;
  /** Run even if the marker holds the stamp (and record it again). */
  readonly again?: boolean;
  /** The markers as read before the hooks started. */
  readonly markers?: Markers;
}

/** A hook that is to run: its commands (the images' and features' first, the config's last) and the marker to record after. */
export interface PlannedHook {
  readonly hook: HookName;
  readonly commands: readonly LifecycleCommand[];
  readonly marker?: string;
}

/**
 * Whether and what a hook runs. With `marker`, the hook runs only if its
 * marker in the container does not hold that stamp yet (unless `again`):
 * '' for once per container, the container's start time for once per start.
 */
export async function planHook(ctx: ExecContext, merged: MergedDevContainerConfig, hook: HookName, options: HookOptions = {}): Promise<PlannedHook | undefined> {
  const commands = (merged[PLURAL[hook]] as readonly LifecycleCommand[] | undefined) ?? [];
  if (commands.length === 0) return undefined;
  const marker = options.marker;
  if (marker !== undefined && !options.again && (options.markers ?? markersOf(await readMarkerFiles(ctx))).get(hook) === marker) return undefined;
  return { hook, commands, ...(marker !== undefined ? { marker } : {}) };
}

/** Records that a planned hook ran (if it keeps a marker): the write goes into `pending`, to overlap with the next hook; the caller awaits it. */
export function recordHook(ctx: ExecContext, planned: PlannedHook, pending: Promise<void>[]): void {
  if (planned.marker !== undefined) pending.push(setMarker(ctx, planned.hook, planned.marker));
}

/** Runs a planned hook's commands one exec each (an object's entries in parallel), then records it. */
export async function runPlanned(ctx: ExecContext, planned: PlannedHook, pending: Promise<void>[]): Promise<void> {
  for (const c of planned.commands) await runOne(ctx, planned.hook, c);
  recordHook(ctx, planned, pending);
}
