import path from 'node:path';
import { readConfiguration } from '../../config/read';
import { mergedConfiguration } from '../../devcontainer/merged-configuration';
import { stringOption, type Command } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';

/**
 * The file URI shape the reference CLI prints for configFilePath: scheme
 * "file" for a --config path, "vscode-fileHost" for a discovered one.
 */
export function configFileUri(file: string, givenByUser: boolean): Record<string, unknown> {
  return { $mid: 1, fsPath: file, path: file, scheme: givenByUser ? 'file' : 'vscode-fileHost' };
}

export const readConfigurationCommand: Command = {
  name: 'read-configuration',
  summary: 'Read, validate and print a dev container configuration (variables substituted).',
  usage: 'read-configuration [--workspace-folder DIR] [--config FILE] [--include-merged-configuration]',
  options: {
    ...ENGINE_OPTIONS,
    'workspace-folder': { type: 'string', valueName: 'DIR', description: 'Workspace folder (default: the current directory).' },
    config: { type: 'string', valueName: 'FILE', description: 'devcontainer.json to use (default: found in the workspace folder).' },
    'mount-workspace-git-root': {
      type: 'string',
      valueName: 'true|false',
      choices: ['true', 'false'],
      default: 'true',
      description: 'Mount the git repository root that holds the workspace.',
    },
    'include-merged-configuration': {
      type: 'boolean',
      description: "Also print the configuration merged with the image's devcontainer.metadata.",
    },
  },
  async run(values, _positionals, ctx) {
    const workspaceFolder = path.resolve(ctx.cwd, stringOption(values, 'workspace-folder') ?? '.');
    const config = stringOption(values, 'config');
    const result = await readConfiguration({
      workspaceFolder,
      ...(config === undefined ? {} : { configFile: path.resolve(ctx.cwd, config) }),
      env: ctx.env,
      mountGitRoot: stringOption(values, 'mount-workspace-git-root') !== 'false',
      logger: ctx.logger,
      signal: ctx.signal,
    });
    const merged =
      values['include-merged-configuration'] === true
        ? await mergedConfiguration(result, { api: engineClient(values, ctx.env), workspaceFolder, env: ctx.env, logger: ctx.logger, signal: ctx.signal })
        : undefined;
    ctx.result({
      configuration: { ...result.config, configFilePath: configFileUri(result.configFile, config !== undefined) },
      workspace: result.workspace,
      ...(merged ? { mergedConfiguration: { ...merged, configFilePath: configFileUri(result.configFile, config !== undefined) } } : {}),
    });
    return 0;
  },
};
