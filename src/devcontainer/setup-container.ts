/**
 * What happens in a running dev container after `up` found or made it (and
 * what `run-user-commands` and `set-up` do on their own): the remote user
 * and environment (containerEnv substitution, the user env probe, remoteEnv),
 * then the lifecycle hooks in the spec's order, create-time ones once,
 * postStart once per start of the container.
 */
import type { ApiClient } from '../api/client';
import type { ContainerRecord } from '../api/types/containers';
import type { Logger } from '../common/log';
import type { MergedDevContainerConfig } from '../config/image-metadata';
import { envListToObject, substituteContainerEnv } from '../config/substitute';
import type { UserEnvProbe } from '../config/types';
import { installDotfiles, type DotfilesOptions } from './dotfiles';
import { batchable, runBatch } from './hook-batch';
import { markerDirectory, markersOf, planHook, readMarkerFiles, runPlanned, type ExecContext, type HookName, type PlannedHook } from './lifecycle';
import { probeUserEnv, type ProbeOptions } from './user-env';

export interface SetupOptions {
  readonly api: ApiClient;
  readonly record: ContainerRecord;
  readonly merged: MergedDevContainerConfig;
  /** The image's user (Config.User), when neither remoteUser nor containerUser is set. */
  readonly imageUser: string;
  readonly remoteWorkspaceFolder: string;
  /** Extra remote env (K=V) from the command line. */
  readonly remoteEnv?: readonly string[];
  readonly skipPostCreate?: boolean;
  readonly skipPostAttach?: boolean;
  /** Stop after the `waitFor` hook (default updateContentCommand). */
  readonly skipNonBlocking?: boolean;
  /** Prebuild: onCreate and updateContent only, updateContent again even if it ran before. */
  readonly prebuild?: boolean;
  /** Installed after postCreateCommand, once per container. */
  readonly dotfiles?: DotfilesOptions;
  /**
   * This run created the container: no marker in it can be its own (an
   * image committed from a dev container may carry some), so none are read
   * and every create-time hook runs. One exec fewer on the way to ready.
   */
  readonly fresh?: boolean;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export interface SetupResult {
  readonly remoteUser: string;
  /** The environment commands get: probed, then remoteEnv on top (K=V). */
  readonly env: readonly string[];
  readonly hooks: Readonly<Record<string, 'ran' | 'skipped'>>;
}

const HOOKS: readonly HookName[] = ['onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand'];
const ONCE = new Set<HookName>(['onCreateCommand', 'updateContentCommand', 'postCreateCommand']);

export function remoteUserOf(merged: MergedDevContainerConfig, imageUser: string): string {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return str(merged['remoteUser']) ?? str(merged['containerUser']) ?? (imageUser || 'root');
}

/** The remote user's environment: the probe's result (cached in the container), then remoteEnv. */
export async function remoteEnvironment(
  base: Omit<ExecContext, 'env'>,
  record: ContainerRecord,
  merged: MergedDevContainerConfig,
  extra: readonly string[] = [],
  probeOptions: ProbeOptions = {},
): Promise<string[]> {
  const containerEnv = envListToObject([...(record.request.env ?? [])]);
  const remoteEnv = substituteContainerEnv({ ...merged.remoteEnv, ...envListToObject([...extra]) }, containerEnv);
  const probed = await probeUserEnv({ ...base, env: [] }, (merged['userEnvProbe'] as UserEnvProbe | undefined) ?? 'loginInteractiveShell', probeOptions);
  const env: Record<string, string> = { ...probed };
  for (const [k, v] of Object.entries(remoteEnv)) {
    if (typeof v === 'string') env[k] = v;
    else delete env[k];
  }
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

export async function setUpContainer(o: SetupOptions): Promise<SetupResult> {
  const remoteUser = remoteUserOf(o.merged, o.imageUser);
  const base = { api: o.api, containerId: o.record.id, user: remoteUser, workingDir: o.remoteWorkspaceFolder, logger: o.logger, ...(o.signal ? { signal: o.signal } : {}) };
  // Markers and the cached user environment in one read by the engine; a container this run made has none of its own.
  const files = o.fresh ? new Map<string, string>() : await readMarkerFiles(base);
  // The dotfiles script records itself in the marker directory as the remote user.
  if (o.dotfiles) await o.api.call('containerFilesWrite', { params: { id: o.record.id }, body: { entries: [markerDirectory()] }, ...(o.signal ? { signal: o.signal } : {}) });
  const markers = markersOf(files);
  const pending: Promise<void>[] = [];
  const env = await remoteEnvironment(base, o.record, o.merged, o.remoteEnv, { files, pending });
  const ctx: ExecContext = { ...base, env };
  const hooks: Record<string, 'ran' | 'skipped'> = {};
  if (o.skipPostCreate) {
    await Promise.all(pending);
    return { remoteUser, env, hooks };
  }
  const waitFor: HookName = o.prebuild
    ? 'updateContentCommand'
    : typeof o.merged['waitFor'] === 'string' && HOOKS.includes(o.merged['waitFor'] as HookName)
      ? (o.merged['waitFor'] as HookName)
      : 'updateContentCommand';
  // Hooks of string commands in a row share one exec (hook-batch); the rest run one exec per command.
  const batch: PlannedHook[] = [];
  const flush = async (): Promise<void> => {
    const run = batch.splice(0);
    if (run.length === 1 && run[0]?.commands.length === 1) await runPlanned(ctx, run[0], pending);
    else if (run.length > 0) await runBatch(ctx, run, pending);
  };
  try {
    for (const hook of HOOKS) {
      // Create-time hooks once per container; postStart once per start (its marker holds the start time); postAttach each time.
      const marker = ONCE.has(hook) ? '' : hook === 'postStartCommand' ? o.record.state.startedAt || 'started' : undefined;
      if (!(hook === 'postAttachCommand' && o.skipPostAttach)) {
        const planned = await planHook(ctx, o.merged, hook, { ...(marker !== undefined ? { marker } : {}), again: o.prebuild === true && hook === 'updateContentCommand', markers });
        hooks[hook] = planned ? 'ran' : 'skipped';
        if (planned && batchable(planned)) batch.push(planned);
        else if (planned) {
          await flush();
          await runPlanned(ctx, planned, pending);
        }
      }
      if (hook === 'postCreateCommand' && o.dotfiles) {
        await flush();
        hooks['dotfiles'] = await installDotfiles(ctx, o.dotfiles);
      }
      if ((o.skipNonBlocking || o.prebuild) && hook === waitFor) break;
    }
    await flush();
  } catch (err) {
    // A failed hook still leaves the markers of those that ran.
    await Promise.allSettled(pending);
    throw err;
  }
  await Promise.all(pending);
  return { remoteUser, env, hooks };
}
