/**
 * `berth up`: a ready dev container for a workspace folder (image-based
 * configurations today). One JSON result on stdout (outcome, containerId,
 * remoteUser, remoteWorkspaceFolder); hook output and pull progress on stderr.
 */
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { cloneIntoVolume } from '../../devcontainer/clone';
import type { DotfilesOptions } from '../../devcontainer/dotfiles';
import type { FeatureValue } from '../../devcontainer/features/feature-json';
import { up } from '../../devcontainer/up';
import { stringList, stringOption, type Command, type OptionSpecs, type ParsedOptions } from '../command';
import { packContext } from '../context-tar';
import { ENGINE_OPTIONS, engineClient, gatewayTarget } from '../engine-client';
import { gatewayCall } from '../../api/gateway-transport';
import { ProgressRenderer } from '../progress';

export const WORKSPACE_OPTIONS: OptionSpecs = {
  ...ENGINE_OPTIONS,
  'workspace-folder': { type: 'string', valueName: 'DIR', description: 'Workspace folder (default: the current directory).' },
  config: { type: 'string', valueName: 'FILE', description: 'devcontainer.json to use (default: found in the workspace folder).' },
  'id-label': { type: 'string', multiple: true, valueName: 'K=V', description: 'Label that finds the container (default: the folder and config file).' },
  'remote-env': { type: 'string', multiple: true, valueName: 'K=V', description: 'Extra environment for commands in the container.' },
};

export function workspaceArgs(values: ParsedOptions, cwd: string): { workspaceFolder: string; configFile?: string; idLabels?: Record<string, string>; remoteEnv: string[] } {
  const config = stringOption(values, 'config');
  const labels = stringList(values, 'id-label');
  return {
    workspaceFolder: path.resolve(cwd, stringOption(values, 'workspace-folder') ?? '.'),
    ...(config ? { configFile: path.resolve(cwd, config) } : {}),
    ...(labels.length ? { idLabels: Object.fromEntries(labels.map((l) => [l.split('=')[0] ?? l, l.split('=').slice(1).join('=')])) } : {}),
    remoteEnv: stringList(values, 'remote-env'),
  };
}

function dotfilesOption(values: ParsedOptions): { dotfiles?: DotfilesOptions } {
  const repository = stringOption(values, 'dotfiles-repository');
  if (!repository) return {};
  const installCommand = stringOption(values, 'dotfiles-install-command');
  const targetPath = stringOption(values, 'dotfiles-target-path');
  return { dotfiles: { repository, ...(installCommand ? { installCommand } : {}), ...(targetPath ? { targetPath } : {}) } };
}

function additionalFeatures(text: string | undefined): { additionalFeatures?: Record<string, FeatureValue> } {
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new BerthError('invalid_argument', `--additional-features is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BerthError('invalid_argument', '--additional-features must be a JSON object of feature ids to options');
  return { additionalFeatures: v as Record<string, FeatureValue> };
}

export const upCommand: Command = {
  name: 'up',
  summary: 'Create (or find) and start the dev container of a workspace, then run its lifecycle hooks.',
  usage: 'up [--workspace-folder DIR] [--config FILE] [--id-label K=V] [--remove-existing-container] [--build-no-cache] [--additional-features JSON] [--dotfiles-repository URL] [--mount SPEC] [--remote-env K=V] [--skip-post-create] [--skip-post-attach] [--skip-non-blocking-commands] [--prebuild] [--clone URL [--branch B] [--volume NAME]]',
  options: {
    ...WORKSPACE_OPTIONS,
    'remove-existing-container': { type: 'boolean', description: 'Remove the existing container first.' },
    mount: { type: 'string', multiple: true, valueName: 'SPEC', description: 'Extra mount, Docker --mount syntax.' },
    'skip-post-create': { type: 'boolean', description: 'Do not run onCreate, updateContent, postCreate, postStart and postAttach commands.' },
    'skip-post-attach': { type: 'boolean', description: 'Do not run postAttachCommand.' },
    'skip-non-blocking-commands': { type: 'boolean', description: "Return once the configuration's waitFor command (default updateContentCommand) has run." },
    clone: { type: 'string', valueName: 'URL', description: 'Clone Repository in Container Volume: clone URL (file://, a local path, https or ssh, with your git credentials) into a volume and bring up its dev container.' },
    branch: { type: 'string', valueName: 'B', description: 'Branch (or tag) to clone (with --clone).' },
    volume: { type: 'string', valueName: 'NAME', description: 'Volume to clone into (with --clone; default: named after the URL and branch).' },
    'additional-features': { type: 'string', valueName: 'JSON', description: 'Features to add, as a JSON object like the "features" property.' },
    'dotfiles-repository': { type: 'string', valueName: 'URL', description: 'Your dotfiles repository (cloned with your git), installed once in a new container.' },
    'dotfiles-install-command': { type: 'string', valueName: 'CMD', description: 'Command that installs the dotfiles (default: install.sh, bootstrap, setup..., else link the dot files).' },
    'dotfiles-target-path': { type: 'string', valueName: 'PATH', description: 'Where the dotfiles go in the container (default ~/dotfiles).' },
    'build-no-cache': { type: 'boolean', description: "Build the Dockerfile's every step again (no layer cache)." },
    prebuild: { type: 'boolean', description: 'Run onCreateCommand and updateContentCommand only (updateContentCommand again if it ran before), then stop.' },
  },
  async run(values, _positionals, ctx) {
    const renderer = new ProgressRenderer({ write: ctx.stderr, isTTY: process.stderr.isTTY, columns: process.stderr.columns, format: stringOption(values, 'log-format') === 'json' ? 'json' : 'text' });
    const api = engineClient(values, ctx.env);
    const url = stringOption(values, 'clone');
    if (!url && (stringOption(values, 'branch') || stringOption(values, 'volume'))) throw new BerthError('invalid_argument', '--branch and --volume go with --clone');
    if (url && stringOption(values, 'workspace-folder')) throw new BerthError('invalid_argument', '--clone and --workspace-folder exclude each other: the workspace is the clone');
    const branch = stringOption(values, 'branch');
    const volume = stringOption(values, 'volume');
    const gateway = gatewayTarget(values, ctx.env);
    if (gateway) {
      // Behind a gateway, up runs on the gateway's host: the workspace folder (or the clone) is there.
      const ws = workspaceArgs(values, ctx.cwd);
      const dotfiles = dotfilesOption(values).dotfiles;
      const request = {
        ...(url ? { clone: { url, ...(branch ? { branch } : {}), ...(volume ? { volume } : {}) } } : { workspaceFolder: ws.workspaceFolder, ...(ws.configFile ? { configFile: ws.configFile } : {}) }),
        ...(ws.idLabels ? { idLabels: ws.idLabels } : {}),
        remoteEnv: ws.remoteEnv,
        removeExistingContainer: values['remove-existing-container'] === true,
        skipPostCreate: values['skip-post-create'] === true,
        skipPostAttach: values['skip-post-attach'] === true,
        skipNonBlocking: values['skip-non-blocking-commands'] === true,
        prebuild: values['prebuild'] === true,
        buildNoCache: values['build-no-cache'] === true,
        mounts: stringList(values, 'mount'),
        ...additionalFeatures(stringOption(values, 'additional-features')),
        ...(dotfiles ? { dotfiles } : {}),
      };
      ctx.logger.info(`up on the gateway ${gateway.url}`);
      ctx.result(await gatewayCall(gateway, 'POST', '/gw/up', request, ctx.signal));
      return 0;
    }
    const clone = url
      ? await cloneIntoVolume({ api, url, ...(branch ? { branch } : {}), ...(volume ? { volume } : {}), env: ctx.env, logger: ctx.logger, signal: ctx.signal })
      : undefined;
    const result = await up({
      api,
      ...workspaceArgs(values, ctx.cwd),
      ...(clone ? { workspaceFolder: clone.hostFolder, workspaceVolume: clone.volume, chownWorkspace: clone.cloned } : {}),
      removeExistingContainer: values['remove-existing-container'] === true,
      skipPostCreate: values['skip-post-create'] === true,
      skipPostAttach: values['skip-post-attach'] === true,
      skipNonBlocking: values['skip-non-blocking-commands'] === true,
      prebuild: values['prebuild'] === true,
      mounts: stringList(values, 'mount'),
      pack: packContext,
      buildNoCache: values['build-no-cache'] === true,
      ...dotfilesOption(values),
      ...additionalFeatures(stringOption(values, 'additional-features')),
      env: ctx.env,
      logger: ctx.logger,
      onPullProgress: (p) => renderer.update(p),
      signal: ctx.signal,
    });
    ctx.result(clone ? { ...result, volume: clone.volume, cloned: clone.cloned, workspaceFolder: clone.hostFolder } : result);
    return 0;
  },
};
