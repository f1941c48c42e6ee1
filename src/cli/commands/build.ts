import path from 'node:path';
import { errorFromResponse } from '../../api/http-errors';
import type { BuildOptions } from '../../api/types/build';
import { BerthError } from '../../common/errors';
import type { Command, ParsedOptions } from '../command';
import { stringOption } from '../command';
import { OUTSIDE_DOCKERFILE, packContext } from '../context-tar';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';
import { buildDevContainer, DEVCONTAINER_BUILD_OPTIONS } from './build-devcontainer';

function list(values: ParsedOptions, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

/** KEY=VALUE pairs; a lone KEY takes its value from the environment (as docker build does). */
function pairs(items: readonly string[], env: NodeJS.ProcessEnv, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new BerthError('invalid_argument', `invalid ${what} "${item}": expected KEY=VALUE`);
    if (eq < 0) {
      const fromEnv = env[item];
      if (fromEnv !== undefined) out[item] = fromEnv;
    } else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export const buildCommand: Command = {
  name: 'build',
  summary: "Build an image from a Dockerfile on the engine (layer cache, multi-stage), or a workspace's dev container image.",
  usage: 'build [CONTEXT] [-f Dockerfile] [-t name:tag]... [--target STAGE] [--build-arg K=V]... [--label K=V]... [--no-cache] [--pull] [--network MODE] [--cache-from IMAGE]... | build --workspace-folder DIR [--image-name NAME]... [--push] [--no-cache]',
  allowPositionals: true,
  options: {
    ...ENGINE_OPTIONS,
    ...DEVCONTAINER_BUILD_OPTIONS,
    file: { type: 'string', short: 'f', valueName: 'path', description: 'The Dockerfile (default: CONTEXT/Dockerfile).' },
    tag: { type: 'string', short: 't', multiple: true, valueName: 'name:tag', description: 'Name the image (repeatable).' },
    target: { type: 'string', valueName: 'stage', description: 'Build this stage (default: the last).' },
    'build-arg': { type: 'string', multiple: true, valueName: 'K=V', description: 'A build argument (repeatable).' },
    label: { type: 'string', multiple: true, valueName: 'K=V', description: 'A label for the image (repeatable).' },
    'no-cache': { type: 'boolean', description: 'Run every step again.' },
    pull: { type: 'boolean', description: 'Pull base images even when stored.' },
    network: { type: 'string', valueName: 'mode', description: 'Network mode of RUN steps (default: the engine default; "host" shares the host network).' },
    'cache-from': { type: 'string', multiple: true, valueName: 'image', description: 'An image (pulled when missing) whose layers can stand in for steps whose history matches (repeatable).' },
  },
  async run(values, positionals, ctx) {
    if (stringOption(values, 'workspace-folder') !== undefined) return buildDevContainer(values, ctx);
    if (positionals.length > 1) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    const contextDir = path.resolve(positionals[0] ?? '.');
    const file = stringOption(values, 'file');
    let dockerfile: string | undefined;
    let extra: { name: string; file: string } | undefined;
    if (file !== undefined) {
      const abs = path.resolve(file);
      const rel = path.relative(contextDir, abs);
      if (rel.startsWith('..') || path.isAbsolute(rel)) {
        dockerfile = OUTSIDE_DOCKERFILE;
        extra = { name: OUTSIDE_DOCKERFILE, file: abs };
      } else dockerfile = rel.split(path.sep).join('/');
    }
    const target = stringOption(values, 'target');
    const network = stringOption(values, 'network');
    const options: BuildOptions = {
      ...(dockerfile ? { dockerfile } : {}),
      tags: list(values, 'tag'),
      ...(target ? { target } : {}),
      buildArgs: pairs(list(values, 'build-arg'), ctx.env, 'build argument'),
      labels: pairs(list(values, 'label'), {}, 'label'),
      noCache: values['no-cache'] === true,
      pull: values['pull'] === true,
      ...(network ? { networkMode: network } : {}),
      ...(list(values, 'cache-from').length > 0 ? { cacheFrom: list(values, 'cache-from') } : {}),
    };
    const client = engineClient(values, ctx.env);
    const json = stringOption(values, 'log-format') === 'json';
    const body = packContext(contextDir, [dockerfile ?? 'Dockerfile', '.dockerignore'], extra);
    for await (const message of client.stream('imageBuild', { query: { options: JSON.stringify(options) }, body, signal: ctx.signal })) {
      if ('progress' in message) ctx.stderr(json ? `${JSON.stringify(message.progress)}\n` : message.progress.stream);
      else if ('error' in message) {
        const err = errorFromResponse(500, message.error);
        throw new BerthError(err.code, err.message, { details: message.error.details ?? {} });
      } else {
        ctx.result({ outcome: 'success', ...message.result });
        return 0;
      }
    }
    throw new BerthError('unavailable', 'the engine closed the build without a result');
  },
};
