/**
 * `berth exec`, `stop`, `down` and `list`: the dev container of a workspace,
 * found by its id labels (`stop` and `down` act on its whole Compose project
 * when it has one). `exec` is a session command: its stdout and
 * stderr are the command's, and its exit code too.
 */
import type { ApiClient } from '../../api/client';
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import { composeDown, composeStop } from '../../compose/down';
import { PROJECT_LABEL } from '../../compose/labels';
import { remoteContext } from '../../devcontainer/remote-context';
import { readConfiguration } from '../../config/read';
import { defaultIdLabels, findDevContainer, LOCAL_FOLDER_LABEL } from '../../devcontainer/up';
import type { Command, CommandContext, ParsedOptions } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';
import { WORKSPACE_OPTIONS, workspaceArgs } from './up';

/** The dev container of the workspace the options name (found by its id labels), or a not_found error. */
export async function requireDevContainer(values: ParsedOptions, ctx: CommandContext): Promise<{ api: ApiClient; record: ContainerRecord }> {
  const api = engineClient(values, ctx.env);
  const args = workspaceArgs(values, ctx.cwd);
  let labels = args.idLabels;
  if (!labels) {
    const read = await readConfiguration({ workspaceFolder: args.workspaceFolder, ...(args.configFile ? { configFile: args.configFile } : {}), env: ctx.env, signal: ctx.signal });
    labels = defaultIdLabels(args.workspaceFolder, read.configFile);
  }
  const record = await findDevContainer(api, labels, ctx.signal);
  if (!record) throw new BerthError('not_found', `no dev container for ${args.workspaceFolder}; run 'berth up' first`);
  return { api, record };
}

export const execCommand: Command = {
  name: 'exec',
  summary: 'Run a command in the dev container of a workspace, as its remote user, in its workspace folder.',
  usage: 'exec [--workspace-folder DIR] [--config FILE] [--remote-env K=V] -- CMD [ARGS...]',
  allowPositionals: true,
  options: WORKSPACE_OPTIONS,
  async run(values, positionals, ctx) {
    if (positionals.length === 0) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    const api = engineClient(values, ctx.env);
    const remote = await remoteContext({ api, ...workspaceArgs(values, ctx.cwd), env: ctx.env, logger: ctx.logger, signal: ctx.signal });
    let exitCode = 1;
    for await (const m of api.stream('containerExec', {
      params: { id: remote.record.id },
      body: { cmd: positionals, user: remote.remoteUser, workingDir: remote.remoteWorkspaceFolder, env: remote.remoteEnv },
      signal: ctx.signal,
    })) {
      if ('exitCode' in m) exitCode = m.exitCode;
      else if (m.stream === 'stdout') process.stdout.write(m.text);
      else process.stderr.write(m.text);
    }
    return exitCode;
  },
};

export const stopCommand: Command = {
  name: 'stop',
  summary: 'Stop the dev container of a workspace.',
  usage: 'stop [--workspace-folder DIR] [--config FILE] [--id-label K=V]',
  options: WORKSPACE_OPTIONS,
  async run(values, _positionals, ctx) {
    const { api, record } = await requireDevContainer(values, ctx);
    const project = record.request.labels?.[PROJECT_LABEL];
    if (project) {
      ctx.result({ outcome: 'success', containerId: record.id, project, stopped: await composeStop({ api, project, logger: ctx.logger, signal: ctx.signal }) });
      return 0;
    }
    if (record.state.status === 'running') await api.call('containerStop', { params: { id: record.id }, signal: ctx.signal });
    ctx.result({ outcome: 'success', containerId: record.id });
    return 0;
  },
};

export const downCommand: Command = {
  name: 'down',
  summary: 'Stop and remove the dev container of a workspace (its volumes stay unless --volumes).',
  usage: 'down [--workspace-folder DIR] [--config FILE] [--id-label K=V] [--volumes]',
  options: { ...WORKSPACE_OPTIONS, volumes: { type: 'boolean', description: "Also remove the container's anonymous volumes (a Compose project's named volumes too)." } },
  async run(values, _positionals, ctx) {
    const { api, record } = await requireDevContainer(values, ctx);
    const project = record.request.labels?.[PROJECT_LABEL];
    if (project) {
      const removed = await composeDown({ api, project, volumes: values['volumes'] === true, logger: ctx.logger, signal: ctx.signal });
      ctx.result({ outcome: 'success', containerId: record.id, project, ...removed });
      return 0;
    }
    await api.call('containerRemove', { params: { id: record.id }, query: { force: 'true', ...(values['volumes'] === true ? { volumes: 'true' } : {}) }, signal: ctx.signal });
    ctx.result({ outcome: 'success', containerId: record.id });
    return 0;
  },
};

export const listCommand: Command = {
  name: 'list',
  summary: 'List dev containers (containers with a devcontainer.local_folder label).',
  usage: 'list',
  options: ENGINE_OPTIONS,
  async run(values, _positionals, ctx) {
    const all = await engineClient(values, ctx.env).call('containerList', { query: { all: 'true', filters: JSON.stringify({ label: [LOCAL_FOLDER_LABEL] }) }, signal: ctx.signal });
    ctx.result({
      outcome: 'success',
      containers: all.map((c) => ({ id: c.id, name: c.name, status: c.state.status, image: c.imageRef, workspaceFolder: c.request.labels?.[LOCAL_FOLDER_LABEL] })),
    });
    return 0;
  },
};
