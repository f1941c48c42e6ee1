import path from 'node:path';
import { findConfigFiles } from '../../config/discover';
import { stringOption, type Command } from '../command';

export const listConfigurationsCommand: Command = {
  name: 'list-configurations',
  summary: 'List the dev container configurations of a workspace folder.',
  usage: 'list-configurations [--workspace-folder DIR]',
  options: {
    'workspace-folder': { type: 'string', valueName: 'DIR', description: 'Workspace folder (default: the current directory).' },
  },
  async run(values, _positionals, ctx) {
    const workspaceFolder = path.resolve(ctx.cwd, stringOption(values, 'workspace-folder') ?? '.');
    const files = await findConfigFiles(workspaceFolder, { signal: ctx.signal });
    ctx.result({
      outcome: 'success',
      workspaceFolder,
      configurations: files.map((file) => ({ file, relativePath: path.relative(workspaceFolder, file) })),
    });
    return 0;
  },
};
