/**
 * `berth up`: a ready dev container for a workspace folder (image-based
 * configurations today). One JSON result on stdout (outcome, containerId,
 * remoteUser, remoteWorkspaceFolder); hook output and pull progress on stderr.
 */
import path from 'node:path';
import { up } from '../../devcontainer/up';
import { stringList, stringOption, type Command, type OptionSpecs, type ParsedOptions } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';
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

export const upCommand: Command = {
  name: 'up',
  summary: 'Create (or find) and start the dev container of a workspace, then run its lifecycle hooks.',
  usage: 'up [--workspace-folder DIR] [--config FILE] [--id-label K=V] [--remove-existing-container] [--mount SPEC] [--remote-env K=V] [--skip-post-create] [--skip-post-attach] [--skip-non-blocking-commands] [--prebuild]',
  options: {
    ...WORKSPACE_OPTIONS,
    'remove-existing-container': { type: 'boolean', description: 'Remove the existing container first.' },
    mount: { type: 'string', multiple: true, valueName: 'SPEC', description: 'Extra mount, Docker --mount syntax.' },
    'skip-post-create': { type: 'boolean', description: 'Do not run onCreate, updateContent, postCreate, postStart and postAttach commands.' },
    'skip-post-attach': { type: 'boolean', description: 'Do not run postAttachCommand.' },
    'skip-non-blocking-commands': { type: 'boolean', description: "Return once the configuration's waitFor command (default updateContentCommand) has run." },
    prebuild: { type: 'boolean', description: 'Run onCreateCommand and updateContentCommand only (updateContentCommand again if it ran before), then stop.' },
  },
  async run(values, _positionals, ctx) {
    const renderer = new ProgressRenderer({ write: ctx.stderr, isTTY: process.stderr.isTTY, columns: process.stderr.columns, format: stringOption(values, 'log-format') === 'json' ? 'json' : 'text' });
    const result = await up({
      api: engineClient(values, ctx.env),
      ...workspaceArgs(values, ctx.cwd),
      removeExistingContainer: values['remove-existing-container'] === true,
      skipPostCreate: values['skip-post-create'] === true,
      skipPostAttach: values['skip-post-attach'] === true,
      skipNonBlocking: values['skip-non-blocking-commands'] === true,
      prebuild: values['prebuild'] === true,
      mounts: stringList(values, 'mount'),
      env: ctx.env,
      logger: ctx.logger,
      onPullProgress: (p) => renderer.update(p),
      signal: ctx.signal,
    });
    ctx.result(result);
    return 0;
  },
};
