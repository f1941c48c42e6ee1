/**
 * `berth compose up|down|stop|ps|logs`: Compose projects on Berth's engine,
 * without a docker-compose binary. Files with `-f` (default compose.yaml,
 * compose.yml, docker-compose.yaml, docker-compose.yml in the current
 * folder, with their .override siblings), `-p`, `--profile`, `--env-file`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { composeDown, composeStop } from '../../compose/down';
import { loadProject } from '../../compose/load';
import { projectName } from '../../compose/project-name';
import { composeLogs, composePs } from '../../compose/ps';
import { composeUp } from '../../compose/up';
import { stringList, stringOption, type Command, type CommandContext, type ParsedOptions } from '../command';
import { packContext } from '../context-tar';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/** The files to load: -f, else COMPOSE_FILE, else the first default file in cwd and its override. */
export function composeFiles(values: ParsedOptions, ctx: Pick<CommandContext, 'cwd' | 'env'>): string[] {
  const given = stringList(values, 'file');
  if (given.length > 0) return given.map((f) => path.resolve(ctx.cwd, f));
  const env = ctx.env['COMPOSE_FILE'];
  if (env) return env.split(ctx.env['COMPOSE_PATH_SEPARATOR'] ?? ':').map((f) => path.resolve(ctx.cwd, f));
  const found = DEFAULT_FILES.map((f) => path.join(ctx.cwd, f)).find((f) => existsSync(f));
  if (!found) throw new BerthError('not_found', `no Compose file in ${ctx.cwd} (looked for ${DEFAULT_FILES.join(', ')}); name one with -f`);
  const override = found.replace(/\.(ya?ml)$/, '.override.$1');
  return existsSync(override) ? [found, override] : [found];
}

function load(values: ParsedOptions, ctx: CommandContext) {
  const name = stringOption(values, 'project-name');
  const envFile = stringOption(values, 'env-file');
  const dir = stringOption(values, 'project-directory');
  const profiles = stringList(values, 'profile');
  return loadProject({
    files: composeFiles(values, ctx),
    cwd: ctx.cwd,
    ...(name ? { projectName: name } : {}),
    ...(envFile ? { envFile } : {}),
    ...(dir ? { projectDir: dir } : {}),
    ...(profiles.length > 0 ? { profiles } : {}),
    env: ctx.env,
    signal: ctx.signal,
  });
}

/** down, stop, ps and logs need only the name: -p, or the files' (as Compose does). */
async function nameOnly(values: ParsedOptions, ctx: CommandContext): Promise<string> {
  const flag = stringOption(values, 'project-name');
  return flag ? projectName({ flag, workingDir: ctx.cwd }) : (await load(values, ctx)).name;
}

type Verb = (values: ParsedOptions, args: readonly string[], ctx: CommandContext) => Promise<number>;

const VERBS: Readonly<Record<string, Verb>> = {
  up: async (values, args, ctx) => {
    const project = await load(values, ctx);
    const r = await composeUp({ api: engineClient(values, ctx.env), project, services: args, forceRecreate: values['force-recreate'] === true, pack: packContext, logger: ctx.logger, signal: ctx.signal });
    ctx.result({ outcome: 'success', ...r });
    return 0;
  },
  down: async (values, _args, ctx) => {
    const r = await composeDown({ api: engineClient(values, ctx.env), project: await nameOnly(values, ctx), volumes: values['volumes'] === true, logger: ctx.logger, signal: ctx.signal });
    ctx.result({ outcome: 'success', ...r });
    return 0;
  },
  stop: async (values, _args, ctx) => {
    const stopped = await composeStop({ api: engineClient(values, ctx.env), project: await nameOnly(values, ctx), logger: ctx.logger, signal: ctx.signal });
    ctx.result({ outcome: 'success', stopped });
    return 0;
  },
  ps: async (values, args, ctx) => {
    const project = await nameOnly(values, ctx);
    const containers = await composePs({ api: engineClient(values, ctx.env), project, services: args, logger: ctx.logger, signal: ctx.signal });
    ctx.result({ outcome: 'success', project, containers });
    return 0;
  },
  logs: async (values, args, ctx) => {
    const tail = stringOption(values, 'tail');
    const lines = await composeLogs({ api: engineClient(values, ctx.env), project: await nameOnly(values, ctx), services: args, ...(tail ? { tail: Number(tail) } : {}), logger: ctx.logger, signal: ctx.signal });
    for (const l of lines) ctx.stderr(`${l.container}  | ${l.line}\n`);
    ctx.result({ outcome: 'success', lines });
    return 0;
  },
};

export const composeCommand: Command = {
  name: 'compose',
  summary: 'Run Compose projects on the engine (up, down, stop, ps, logs), no docker-compose needed.',
  usage: 'compose [-f FILE]... [-p NAME] [--profile P] [--env-file F] up [--force-recreate] [SERVICE...] | down [-v] | stop | ps [SERVICE...] | logs [--tail N] [SERVICE...]',
  allowPositionals: true,
  options: {
    ...ENGINE_OPTIONS,
    file: { type: 'string', short: 'f', multiple: true, valueName: 'FILE', description: 'Compose file, merged in order (default: compose.yaml, docker-compose.yml... in the current folder).' },
    'project-name': { type: 'string', short: 'p', valueName: 'NAME', description: 'Project name (default: COMPOSE_PROJECT_NAME, the name: in the files, or the folder).' },
    'project-directory': { type: 'string', valueName: 'DIR', description: "Folder for relative paths and .env (default: the first file's)." },
    profile: { type: 'string', multiple: true, valueName: 'P', description: 'Enable a profile (default: COMPOSE_PROFILES).' },
    'env-file': { type: 'string', valueName: 'FILE', description: 'Variables for interpolation (default: .env in the project folder).' },
    'force-recreate': { type: 'boolean', description: 'Make every container again (up).' },
    detach: { type: 'boolean', short: 'd', description: 'Accepted for compatibility: up always returns once the services are started.' },
    volumes: { type: 'boolean', short: 'v', description: 'Also remove the named volumes and anonymous ones (down).' },
    tail: { type: 'string', valueName: 'N', description: 'Only the last N lines of each container (logs).' },
  },
  run(values, positionals, ctx) {
    const [verb, ...args] = positionals;
    const fn = verb === undefined ? undefined : VERBS[verb];
    if (!fn) return Promise.reject(new BerthError('invalid_argument', `usage: berth ${this.usage}`));
    return fn(values, args, ctx);
  },
};
