/**
 * `berth container run|ps|logs|stop|kill|rm|inspect`: containers on the
 * engine, through the native API (the dev-container verbs are `berth up`,
 * `berth stop`, ...).
 */
import { parsePublish } from '../../api/port-spec';
import { BerthError } from '../../common/errors';
import { stringList, stringOption, type Command, type CommandContext, type ParsedOptions } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';

type Verb = (values: ParsedOptions, args: readonly string[], ctx: CommandContext) => Promise<number>;

const one = (args: readonly string[], what: string): string => {
  const [id, ...rest] = args;
  if (!id || rest.length > 0) throw new BerthError('invalid_argument', `expected one ${what}`);
  return id;
};

const run: Verb = async (values, args, ctx) => {
  const [image, ...cmd] = args;
  if (!image) throw new BerthError('invalid_argument', 'usage: berth container run [--name N] [--env K=V] [-p [IP:]HOST:CONTAINER[/udp]] [--network NET] [--rm] [--detach] IMAGE [CMD...]');
  const client = engineClient(values, ctx.env);
  const name = stringOption(values, 'name');
  const user = stringOption(values, 'user');
  const network = stringOption(values, 'network');
  const ports = stringList(values, 'publish').flatMap(parsePublish);
  const aliases = stringList(values, 'network-alias');
  const { id } = await client.call('containerCreate', {
    body: {
      image,
      ...(cmd.length ? { cmd } : {}),
      ...(name ? { name } : {}),
      ...(user ? { user } : {}),
      ...(values['agent'] === true ? { agent: true } : {}),
      ...(network ? { networkMode: network } : {}),
      ...(aliases.length ? { networkAliases: aliases } : {}),
      ...(ports.length ? { ports } : {}),
      ...(values['publish-all'] === true ? { publishAll: true } : {}),
      env: stringList(values, 'env'),
      labels: Object.fromEntries(stringList(values, 'label').map((l) => [l.split('=')[0] ?? l, l.split('=').slice(1).join('=')])),
    },
    signal: ctx.signal,
  });
  await client.call('containerStart', { params: { id }, signal: ctx.signal });
  if (values['detach'] === true) {
    ctx.result({ outcome: 'success', id });
    return 0;
  }
  for await (const line of client.stream('containerLogs', { params: { id }, query: { follow: 'true' }, signal: ctx.signal })) {
    // stdout carries the one JSON result; the container's output goes to stderr.
    ctx.stderr(`${line.line}\n`);
  }
  const { exitCode } = await client.call('containerWait', { params: { id }, signal: ctx.signal });
  if (values['rm'] === true) await client.call('containerRemove', { params: { id }, query: { force: 'true' } });
  ctx.result({ outcome: 'success', id, exitCode });
  return exitCode === 0 ? 0 : 1;
};

const VERBS: Readonly<Record<string, Verb>> = {
  run,
  ps: async (values, _args, ctx) => {
    const list = await engineClient(values, ctx.env).call('containerList', { query: { all: values['all'] === true ? 'true' : 'false' }, signal: ctx.signal });
    ctx.result({ outcome: 'success', containers: list.map((c) => ({ id: c.id, name: c.name, image: c.imageRef, status: c.state.status, exitCode: c.state.exitCode })) });
    return 0;
  },
  inspect: async (values, args, ctx) => {
    ctx.result(await engineClient(values, ctx.env).call('containerInspect', { params: { id: one(args, 'container') }, signal: ctx.signal }));
    return 0;
  },
  logs: async (values, args, ctx) => {
    const client = engineClient(values, ctx.env);
    const lines: unknown[] = [];
    for await (const l of client.stream('containerLogs', { params: { id: one(args, 'container') }, query: { follow: values['follow'] === true ? 'true' : 'false' }, signal: ctx.signal })) {
      if (values['follow'] === true) ctx.stderr(`${(l as { line: string }).line}\n`);
      else lines.push(l);
    }
    ctx.result({ outcome: 'success', lines });
    return 0;
  },
  stop: async (values, args, ctx) => {
    await engineClient(values, ctx.env).call('containerStop', { params: { id: one(args, 'container') }, signal: ctx.signal });
    ctx.result({ outcome: 'success' });
    return 0;
  },
  kill: async (values, args, ctx) => {
    await engineClient(values, ctx.env).call('containerKill', { params: { id: one(args, 'container') }, signal: ctx.signal });
    ctx.result({ outcome: 'success' });
    return 0;
  },
  rm: async (values, args, ctx) => {
    await engineClient(values, ctx.env).call('containerRemove', { params: { id: one(args, 'container') }, query: { force: values['force'] === true ? 'true' : 'false' }, signal: ctx.signal });
    ctx.result({ outcome: 'success' });
    return 0;
  },
};

export const containerCommand: Command = {
  name: 'container',
  summary: 'Run and manage containers on the engine (run, ps, logs, stop, kill, rm, inspect).',
  usage: 'container run|ps|logs|stop|kill|rm|inspect [options] [ARGS...]',
  allowPositionals: true,
  options: {
    ...ENGINE_OPTIONS,
    name: { type: 'string', valueName: 'NAME', description: 'Container name (run).' },
    agent: { type: 'boolean', description: 'Mount the Berth agent, for berth ssh, ssh-config and port-forward (run).' },
    env: { type: 'string', multiple: true, short: 'e', valueName: 'K=V', description: 'Environment variable (run).' },
    label: { type: 'string', multiple: true, short: 'l', valueName: 'K=V', description: 'Label (run).' },
    user: { type: 'string', short: 'u', valueName: 'USER[:GROUP]', description: 'User to run as (run).' },
    rm: { type: 'boolean', description: 'Remove the container when it exits (run).' },
    publish: { type: 'string', multiple: true, short: 'p', valueName: '[IP:]HOST:CONTAINER[/udp]', description: 'Publish a port; HOST may be a range or empty for a free port (run).' },
    'publish-all': { type: 'boolean', short: 'P', description: 'Publish every exposed port on a free host port (run).' },
    network: { type: 'string', valueName: 'NET', description: 'bridge (default), host, none, container:NAME or a network name (run).' },
    'network-alias': { type: 'string', multiple: true, valueName: 'ALIAS', description: 'Extra name on the network (run).' },
    detach: { type: 'boolean', short: 'd', description: 'Start and return its id (run).' },
    all: { type: 'boolean', short: 'a', description: 'Include stopped containers (ps).' },
    follow: { type: 'boolean', short: 'f', description: 'Follow the log (logs).' },
    force: { type: 'boolean', description: 'Kill a running container first (rm).' },
  },
  run(values, positionals, ctx) {
    const [verb, ...args] = positionals;
    const fn = verb === undefined ? undefined : VERBS[verb];
    if (!fn) return Promise.reject(new BerthError('invalid_argument', `usage: berth ${this.usage}`));
    return fn(values, args, ctx);
  },
};
