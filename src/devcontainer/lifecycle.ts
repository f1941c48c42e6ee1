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

/** Whether the hook's marker exists (and holds `stamp`, when one is given). */
async function hasMarker(ctx: ExecContext, hook: HookName, stamp: string): Promise<boolean> {
  const r = await execIn(ctx, ['/bin/sh', '-c', `cat ${MARKER_DIR}/${hook} 2>/dev/null || exit 1`], { user: 'root', quiet: true });
  return r.exitCode === 0 && r.output === stamp;
}

/** Makes the marker directory (as root; every user may write its own cache there). */
export async function ensureMarkerDir(ctx: ExecContext): Promise<void> {
  const r = await execIn(ctx, ['/bin/sh', '-c', `mkdir -p ${MARKER_DIR} && chmod 1777 ${MARKER_DIR}`], { user: 'root', quiet: true });
  if (r.exitCode !== 0) throw new BerthError('failed_precondition', `cannot make ${MARKER_DIR} in the container: ${r.output.trim()}`);
}

async function setMarker(ctx: ExecContext, hook: HookName, stamp: string): Promise<void> {
  const r = await execIn(ctx, ['/bin/sh', '-c', `mkdir -p ${MARKER_DIR} && printf %s "$1" > ${MARKER_DIR}/${hook}`, '-', stamp], { user: 'root', quiet: true });
  if (r.exitCode !== 0) throw new BerthError('internal', `cannot record that ${hook} ran: ${r.output}`);
}

/**
 * Runs a hook's commands (the images' and features' first, the config's
 * last). With `marker`, the hook runs only if its marker in the container
 * does not hold that stamp yet (unless `again`), and records it after:
 * '' for once per container, the container's start time for once per start.
 */
export async function runHook(ctx: ExecContext, merged: MergedDevContainerConfig, hook: HookName, options: { marker?: string; again?: boolean } = {}): Promise<'ran' | 'skipped'> {
  const commands = (merged[PLURAL[hook]] as readonly LifecycleCommand[] | undefined) ?? [];
  if (commands.length === 0) return 'skipped';
  if (options.marker !== undefined && !options.again && (await hasMarker(ctx, hook, options.marker))) return 'skipped';
  for (const c of commands) await runOne(ctx, hook, c);
  if (options.marker !== undefined) await setMarker(ctx, hook, options.marker);
  return 'ran';
}
