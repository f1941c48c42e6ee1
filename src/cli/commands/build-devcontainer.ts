/**
 * `berth build --workspace-folder DIR`: the dev container's image (pulled,
 * or built from its Dockerfile, with its features installed), named with
 * --image-name and pushed with --push. Like `devcontainer build`.
 */
import path from 'node:path';
import { errorFromResponse } from '../../api/http-errors';
import { BerthError } from '../../common/errors';
import { readConfiguration } from '../../config/read';
import type { FeatureValue } from '../../devcontainer/features/feature-json';
import { isComposeConfig } from '../../config/types';
import { prepareImage } from '../../devcontainer/up';
import { composeServiceSource } from '../../devcontainer/up-compose';
import { stringList, stringOption, type CommandContext, type OptionSpecs, type ParsedOptions } from '../command';
import { packContext } from '../context-tar';
import { engineClient } from '../engine-client';

export const DEVCONTAINER_BUILD_OPTIONS: OptionSpecs = {
  'workspace-folder': { type: 'string', valueName: 'DIR', description: "Build this workspace's dev container image instead (Dockerfile or image, plus features)." },
  config: { type: 'string', valueName: 'FILE', description: 'devcontainer.json to use (with --workspace-folder).' },
  'image-name': { type: 'string', multiple: true, valueName: 'NAME', description: 'Name for the dev container image (repeatable; with --workspace-folder).' },
  push: { type: 'boolean', description: 'Push the --image-name names after the build.' },
  'additional-features': { type: 'string', valueName: 'JSON', description: 'Features to add, as a JSON object (with --workspace-folder).' },
};

export async function buildDevContainer(values: ParsedOptions, ctx: CommandContext): Promise<number> {
  const api = engineClient(values, ctx.env);
  const workspaceFolder = path.resolve(ctx.cwd, stringOption(values, 'workspace-folder') ?? '.');
  const configFile = stringOption(values, 'config');
  const read = await readConfiguration({ workspaceFolder, ...(configFile ? { configFile: path.resolve(ctx.cwd, configFile) } : {}), env: ctx.env, logger: ctx.logger, signal: ctx.signal });
  const extra = stringOption(values, 'additional-features');
  let additionalFeatures: Record<string, FeatureValue> | undefined;
  if (extra) {
    try {
      additionalFeatures = JSON.parse(extra) as Record<string, FeatureValue>;
    } catch (err) {
      throw new BerthError('invalid_argument', `--additional-features is not valid JSON: ${(err as Error).message}`);
    }
  }
  const options = { api, workspaceFolder, pack: packContext, buildNoCache: values['no-cache'] === true, ...(additionalFeatures ? { additionalFeatures } : {}), logger: ctx.logger, signal: ctx.signal };
  // A compose configuration's image is its dev service's, with the features on top.
  const source = isComposeConfig(read.config) ? await composeServiceSource(options, read.config, read.configFile, ctx.env) : undefined;
  const { image } = await prepareImage(options, read.config, read.configFile, source);
  const names = stringList(values, 'image-name');
  if (values['push'] === true && names.length === 0) throw new BerthError('invalid_argument', '--push needs --image-name');
  for (const name of names) await api.call('imageTag', { params: { name: image }, body: { target: name }, signal: ctx.signal });
  if (values['push'] === true) {
    for (const name of names) {
      for await (const m of api.stream('imagePush', { params: { name }, signal: ctx.signal })) {
        if ('error' in m) throw errorFromResponse(500, m.error);
      }
      ctx.logger.info(`pushed ${name}`);
    }
  }
  ctx.result({ outcome: 'success', imageName: names.length > 0 ? names : [image] });
  return 0;
}
