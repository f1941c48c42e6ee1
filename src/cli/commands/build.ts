import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { errorFromResponse } from '../../api/http-errors';
import type { BuildMessage, BuildOptions } from '../../api/types/build';
import { BerthError } from '../../common/errors';
import type { Command, CommandContext, ParsedOptions } from '../command';
import { stringOption } from '../command';
import { ContextMemory, fingerprint, settled } from '../context-memory';
import { OUTSIDE_DOCKERFILE, packScanned, scanContext } from '../context-tar';
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
    const keep = [dockerfile ?? 'Dockerfile', '.dockerignore'];
    const scan = await scanContext(contextDir, keep, extra);
    const memory = ContextMemory.at(ctx.env);
    const print = fingerprint(scan, keep);
    const query = { options: JSON.stringify(options) };
    // An unchanged context the engine has from an earlier build is named, not sent again.
    const stored = await memory.lookup(print);
    if (stored !== undefined) {
      const note = `Using the build context sent before (sha256:${stored.slice(0, 12)}, unchanged)\n`;
      ctx.stderr(json ? `${JSON.stringify({ stream: note })}\n` : note);
      const outcome = await streamBuild(client.stream('imageBuild', { query: { ...query, context: stored }, body: Readable.from([]), signal: ctx.signal }), ctx, json, true);
      if (outcome === 'ok') return 0;
      await memory.record(print, undefined);
    }
    const hash = createHash('sha256');
    const body = packScanned(scan).pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
    );
    await streamBuild(client.stream('imageBuild', { query, body, signal: ctx.signal }), ctx, json, false);
    if (settled(scan)) await memory.record(print, hash.digest('hex'));
    return 0;
  },
};

/**
 * Prints a build's progress and its result. With `stored`, an engine that
 * no longer has the named context answers 'missing' (nothing was built).
 */
async function streamBuild(messages: AsyncIterable<BuildMessage>, ctx: CommandContext, json: boolean, stored: boolean): Promise<'ok' | 'missing'> {
  for await (const message of messages) {
    if ('progress' in message) ctx.stderr(json ? `${JSON.stringify(message.progress)}\n` : message.progress.stream);
    else if ('error' in message) {
      if (stored && message.error.code === 'not_found' && message.error.details?.['context'] !== undefined) return 'missing';
      const err = errorFromResponse(500, message.error);
      throw new BerthError(err.code, err.message, { details: message.error.details ?? {} });
    } else {
      ctx.result({ outcome: 'success', ...message.result });
      return 'ok';
    }
  }
  throw new BerthError('unavailable', 'the engine closed the build without a result');
}
