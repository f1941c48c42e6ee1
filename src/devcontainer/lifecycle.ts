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

/**
 * Makes the marker directory (as root, mode 1777: every user may cache its
 * probed environment there) and reads every hook's marker, in one exec.
 */
export async function readMarkers(ctx: ExecContext): Promise<Markers> {
  const script = [
    `mkdir -p ${MARKER_DIR} && chmod 1777 ${MARKER_DIR} || exit 1`,
    `for h in ${HOOK_NAMES.join(' ')}; do [ -f ${MARKER_DIR}/$h ] && printf '%s=%s\\n' "$h" "$(cat ${MARKER_DIR}/$h)"; done; exit 0`,
  ].join('\n');
  const r = await execIn(ctx, ['/bin/sh', '-c', script], { user: 'root', quiet: true, env: [] });
  if (r.exitCode !== 0) throw new BerthError('failed_precondition', `cannot make ${MARKER_DIR} in the container: ${r.output.trim()}`);
  const markers = new Map<HookName, string>();
  for (const line of r.output.split('\n')) {
    const eq = line.indexOf('=');
    const hook = line.slice(0, eq) as HookName;
    if (eq > 0 && HOOK_NAMES.includes(hook)) markers.set(hook, line.slice(eq + 1));
  }
  return markers;
}

async function setMarker(ctx: ExecContext, hook: HookName, stamp: string): Promise<void> {
  // The directory may not exist yet (a fresh container's markers are not read, which would make it).
  const r = await execIn(ctx, ['/bin/sh', '-c', `mkdir -p ${MARKER_DIR} && chmod 1777 ${MARKER_DIR} && printf %s "$1" > ${MARKER_DIR}/${hook}`, '-', stamp], { user: 'root', quiet: true, env: [] });
  if (r.exitCode !== 0) throw new BerthError('internal', `cannot record that ${hook} ran: ${r.output}`);
}

export interface HookOptions {
  /** Run only if the hook's marker does not hold this stamp, and record it after. */
  readonly marker?: string;
  /** Run even if the marker holds the stamp (and record it again). */
  readonly again?: boolean;
  /** The markers as read before the hooks started. */
  readonly markers?: Markers;
  /** Marker writes go here, to overlap with the next hook; the caller awaits them. */
  readonly pending?: Promise<void>[];
}

/**
 * Runs a hook's commands (the images' and features' first, the config's
 * last). With `marker`, the hook runs only if its marker in the container
 * does not hold that stamp yet (unless `again`), and records it after:
 * '' for once per container, the container's start time for once per start.
 */
export async function runHook(ctx: ExecContext, merged: MergedDevContainerConfig, hook: HookName, options: HookOptions = {}): Promise<'ran' | 'skipped'> {
  const commands = (merged[PLURAL[hook]] as readonly LifecycleCommand[] | undefined) ?? [];
  if (commands.length === 0) return 'skipped';
  const marker = options.marker;
  if (marker !== undefined && !options.again && (options.markers ?? (await readMarkers(ctx))).get(hook) === marker) return 'skipped';
  for (const c of commands) await runOne(ctx, hook, c);
  if (marker !== undefined) {
    const write = setMarker(ctx, hook, marker);
    if (options.pending) options.pending.push(write);
    else await write;
  }
  return 'ran';
}
