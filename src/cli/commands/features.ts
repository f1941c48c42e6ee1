/** `berth features package|publish`: dev container features as archives, and as OCI artifacts in a registry. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { packageFeatures, publishFeature } from '../../devcontainer/features/publish';
import { stringOption, type Command } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';

export const featuresCommand: Command = {
  name: 'features',
  summary: 'Package dev container features, or publish them to an OCI registry (through the engine).',
  usage: 'features package DIR [--output DIR] | features publish DIR --registry HOST --namespace NS',
  allowPositionals: true,
  options: {
    ...ENGINE_OPTIONS,
    output: { type: 'string', valueName: 'DIR', description: 'Where package writes the .tgz archives (default: ./output).' },
    registry: { type: 'string', valueName: 'HOST', description: 'Registry to publish to, e.g. 127.0.0.1:5000.' },
    namespace: { type: 'string', valueName: 'NS', description: 'Repository namespace, e.g. my-org/features.' },
  },
  async run(values, positionals, ctx) {
    const [verb, dir, ...extra] = positionals;
    if ((verb !== 'package' && verb !== 'publish') || !dir || extra.length > 0) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    const src = path.resolve(ctx.cwd, dir);
    if (verb === 'package') {
      const out = path.resolve(ctx.cwd, stringOption(values, 'output') ?? 'output');
      const packaged = await packageFeatures(src, out, ctx.signal);
      ctx.result({ outcome: 'success', features: packaged.map(({ id, version, archive }) => ({ id, version, archive })) });
      return 0;
    }
    const registry = stringOption(values, 'registry');
    const namespace = stringOption(values, 'namespace');
    if (!registry || !namespace) throw new BerthError('invalid_argument', 'publish needs --registry and --namespace');
    const api = engineClient(values, ctx.env);
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'berth-publish-'));
    try {
      const packaged = await packageFeatures(src, tmp, ctx.signal);
      const published = [];
      for (const f of packaged) {
        const r = await publishFeature(api, f, `${registry}/${namespace.replace(/^\/+|\/+$/g, '')}`, ctx.signal);
        ctx.logger.info(`published ${r.reference} (${r.tags.join(', ')})`);
        published.push({ id: f.id, version: f.version, ...r });
      }
      ctx.result({ outcome: 'success', features: published });
      return 0;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
};
