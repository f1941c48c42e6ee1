/**
 * What the gateway does with the dev container layer, as the user it acts
 * for (`api` goes through the gateway's ownership rules): `up` on the
 * gateway's host (a folder there, or a repository cloned there into a
 * volume), and rebuild a dev container (its workspace folder and config file
 * are in its labels; a cloned workspace keeps its volume).
 */
import type { ApiClient } from '../api/client';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { CLONE_URL_LABEL, cloneIntoVolume } from '../devcontainer/clone';
import type { FeatureValue } from '../devcontainer/features/feature-json';
import { CONFIG_FILE_LABEL, LOCAL_FOLDER_LABEL, up } from '../devcontainer/up';
import type { GatewayActions } from '../gateway/gateway';
import type { GatewayUpRequest } from '../gateway/up-request';
import { packContext } from './context-tar';

export function gatewayActions(env: NodeJS.ProcessEnv, logger: Logger): GatewayActions {
  return {
    async up(api: ApiClient, r: GatewayUpRequest, signal: AbortSignal) {
      const log = logger.child({ up: r.clone?.url ?? r.workspaceFolder });
      const clone = r.clone ? await cloneIntoVolume({ api, ...r.clone, env, logger: log, signal }) : undefined;
      const result = await up({
        api,
        workspaceFolder: clone?.hostFolder ?? r.workspaceFolder ?? '',
        ...(r.configFile ? { configFile: r.configFile } : {}),
        ...(r.idLabels ? { idLabels: r.idLabels } : {}),
        ...(clone ? { workspaceVolume: clone.volume, chownWorkspace: clone.cloned } : {}),
        removeExistingContainer: r.removeExistingContainer === true,
        skipPostCreate: r.skipPostCreate === true,
        skipPostAttach: r.skipPostAttach === true,
        skipNonBlocking: r.skipNonBlocking === true,
        prebuild: r.prebuild === true,
        buildNoCache: r.buildNoCache === true,
        mounts: r.mounts ?? [],
        ...(r.remoteEnv ? { remoteEnv: r.remoteEnv } : {}),
        ...(r.additionalFeatures ? { additionalFeatures: r.additionalFeatures as Record<string, FeatureValue> } : {}),
        ...(r.dotfiles ? { dotfiles: r.dotfiles } : {}),
        pack: packContext,
        env,
        logger: log,
        signal,
      });
      return clone ? { ...result, volume: clone.volume, cloned: clone.cloned, workspaceFolder: clone.hostFolder } : result;
    },
    async rebuild(api: ApiClient, id: string, signal: AbortSignal) {
      const record = await api.call('containerInspect', { params: { id }, signal });
      const labels = record.request.labels ?? {};
      const folder = labels[LOCAL_FOLDER_LABEL];
      if (!folder) throw new BerthError('failed_precondition', `${record.name} is not a dev container (no ${LOCAL_FOLDER_LABEL} label)`);
      const configFile = labels[CONFIG_FILE_LABEL];
      let workspaceVolume: string | undefined;
      for (const m of record.mounts ?? []) {
        if (m.type !== 'volume' || m.destination !== '/workspaces' || !m.name) continue;
        const volume = await api.call('volumeInspect', { params: { name: m.name }, signal }).catch(() => undefined);
        if (volume?.labels[CLONE_URL_LABEL]) workspaceVolume = m.name;
      }
      return up({
        api,
        workspaceFolder: folder,
        ...(configFile ? { configFile } : {}),
        ...(workspaceVolume ? { workspaceVolume } : {}),
        removeExistingContainer: true,
        pack: packContext,
        env,
        logger: logger.child({ rebuild: record.name }),
        signal,
      });
    },
  };
}
