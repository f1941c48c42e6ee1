/**
 * `berth run-user-commands` (the lifecycle hooks in the existing dev
 * container of a workspace), `berth set-up` (a container Berth did not make
 * becomes a dev container: user env and hooks from its image's metadata and
 * an optional devcontainer.json) and `berth logs` (the dev container's log).
 */
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { IMAGE_METADATA_LABEL, mergeConfiguration, parseImageMetadataLabel } from '../../config/image-metadata';
import { readConfiguration } from '../../config/read';
import type { DevContainerConfig } from '../../config/types';
import { remoteContext } from '../../devcontainer/remote-context';
import { setUpContainer } from '../../devcontainer/setup-container';
import { withConfig } from '../../devcontainer/up';
import { stringList, stringOption, type Command, type OptionSpecs, type ParsedOptions } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';
import { requireDevContainer } from './devcontainer-verbs';
import { WORKSPACE_OPTIONS, workspaceArgs } from './up';

const HOOK_OPTIONS: OptionSpecs = {
  'skip-post-attach': { type: 'boolean', description: 'Do not run postAttachCommand.' },
  'skip-non-blocking-commands': { type: 'boolean', description: "Stop once the configuration's waitFor command (default updateContentCommand) has run." },
  prebuild: { type: 'boolean', description: 'Run onCreateCommand and updateContentCommand only (updateContentCommand again if it ran before).' },
};

/** The hook flags both commands take, for setUpContainer. */
function hookFlags(values: ParsedOptions): { skipPostAttach: boolean; skipNonBlocking: boolean; prebuild: boolean } {
  return { skipPostAttach: values['skip-post-attach'] === true, skipNonBlocking: values['skip-non-blocking-commands'] === true, prebuild: values['prebuild'] === true };
}

export const runUserCommandsCommand: Command = {
  name: 'run-user-commands',
  summary: "Run the lifecycle commands in a workspace's existing dev container (create-time ones only if they have not run).",
  usage: 'run-user-commands [--workspace-folder DIR] [--config FILE] [--id-label K=V] [--remote-env K=V] [--skip-post-attach] [--skip-non-blocking-commands] [--prebuild]',
  options: { ...WORKSPACE_OPTIONS, ...HOOK_OPTIONS },
  async run(values, _positionals, ctx) {
    const api = engineClient(values, ctx.env);
    const args = workspaceArgs(values, ctx.cwd);
    const remote = await remoteContext({ api, ...args, remoteEnv: [], env: ctx.env, logger: ctx.logger, signal: ctx.signal });
    if (remote.record.state.status !== 'running') throw new BerthError('failed_precondition', `the dev container ${remote.record.name} is not running; run 'berth up'`);
    const image = await api.call('imageInspect', { params: { name: remote.record.imageId }, signal: ctx.signal }).catch(() => undefined);
    const setup = await setUpContainer({
      api,
      record: remote.record,
      merged: remote.merged,
      imageUser: image?.config.config?.User ?? '',
      remoteWorkspaceFolder: remote.remoteWorkspaceFolder,
      remoteEnv: args.remoteEnv,
      ...hookFlags(values),
      logger: ctx.logger,
      signal: ctx.signal,
    });
    ctx.result({ outcome: 'success', containerId: remote.record.id, remoteUser: setup.remoteUser, remoteWorkspaceFolder: remote.remoteWorkspaceFolder, hooks: setup.hooks });
    return 0;
  },
};

export const setUpCommand: Command = {
  name: 'set-up',
  summary: 'Set up a running container Berth did not create as a dev container: user environment and lifecycle commands.',
  usage: 'set-up --container-id ID [--config FILE] [--remote-env K=V] [--skip-post-attach] [--skip-non-blocking-commands]',
  options: {
    ...ENGINE_OPTIONS,
    ...HOOK_OPTIONS,
    'container-id': { type: 'string', valueName: 'ID', description: 'The container (id or name).' },
    config: { type: 'string', valueName: 'FILE', description: 'A devcontainer.json whose settings apply on top of the image metadata.' },
    'remote-env': { type: 'string', multiple: true, valueName: 'K=V', description: 'Extra environment for commands in the container.' },
  },
  async run(values, _positionals, ctx) {
    const id = stringOption(values, 'container-id');
    if (!id) throw new BerthError('invalid_argument', 'set-up needs --container-id');
    const api = engineClient(values, ctx.env);
    const record = await api.call('containerInspect', { params: { id }, signal: ctx.signal });
    if (record.state.status !== 'running') throw new BerthError('failed_precondition', `container ${record.name} is not running`);
    const image = await api.call('imageInspect', { params: { name: record.imageId }, signal: ctx.signal }).catch(() => undefined);
    const configFile = stringOption(values, 'config');
    let config: DevContainerConfig = {};
    if (configFile) {
      const file = path.resolve(ctx.cwd, configFile);
      config = (await readConfiguration({ workspaceFolder: path.dirname(path.dirname(file)), configFile: file, env: ctx.env, logger: ctx.logger, signal: ctx.signal })).config;
    }
    // The container's own label (made by a dev container tool), else its image's.
    const label = record.request.labels?.[IMAGE_METADATA_LABEL] ?? image?.config.config?.Labels?.[IMAGE_METADATA_LABEL];
    const merged = mergeConfiguration(config, withConfig(parseImageMetadataLabel(label), config));
    const folder = config.workspaceFolder ?? record.request.workingDir ?? image?.config.config?.WorkingDir ?? '/';
    const setup = await setUpContainer({
      api,
      record,
      merged,
      imageUser: record.request.user ?? image?.config.config?.User ?? '',
      remoteWorkspaceFolder: folder || '/',
      remoteEnv: stringList(values, 'remote-env'),
      ...hookFlags(values),
      logger: ctx.logger,
      signal: ctx.signal,
    });
    ctx.result({ outcome: 'success', containerId: record.id, remoteUser: setup.remoteUser, remoteWorkspaceFolder: folder || '/', hooks: setup.hooks });
    return 0;
  },
};

export const logsCommand: Command = {
  name: 'logs',
  summary: "Print the log of a workspace's dev container (its stdout and stderr, as written).",
  usage: 'logs [--workspace-folder DIR] [--config FILE] [--id-label K=V] [--follow] [--tail N]',
  options: {
    ...WORKSPACE_OPTIONS,
    follow: { type: 'boolean', short: 'f', description: 'Keep printing new lines until interrupted.' },
    tail: { type: 'string', valueName: 'N', description: 'Only the last N lines.' },
  },
  async run(values, _positionals, ctx) {
    const { api, record } = await requireDevContainer(values, ctx);
    const tail = stringOption(values, 'tail');
    for await (const l of api.stream('containerLogs', {
      params: { id: record.id },
      query: { follow: values['follow'] === true ? 'true' : 'false', ...(tail ? { tail } : {}) },
      signal: ctx.signal,
    })) {
      (l.stream === 'stderr' ? process.stderr : process.stdout).write(`${l.line}\n`);
    }
    return 0;
  },
};
