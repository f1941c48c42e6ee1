import { errorFromResponse } from '../../api/http-errors';
import { BerthError } from '../../common/errors';
import { stringOption, type Command } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';
import { ProgressRenderer } from '../progress';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Pull an image from a registry into the engine, with progress.',
  usage: 'pull IMAGE [--platform os/arch[/variant]]',
  allowPositionals: true,
  options: {
    ...ENGINE_OPTIONS,
    platform: { type: 'string', valueName: 'os/arch', description: 'Platform to pick from a multi-platform image (default: this machine).' },
  },
  async run(values, positionals, ctx) {
    const [reference, ...extra] = positionals;
    if (!reference || extra.length > 0) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    const client = engineClient(values, ctx.env);
    const renderer = new ProgressRenderer({
      write: ctx.stderr,
      isTTY: process.stderr.isTTY,
      columns: process.stderr.columns,
      format: stringOption(values, 'log-format') === 'json' ? 'json' : 'text',
    });
    const platform = stringOption(values, 'platform');
    for await (const message of client.stream('imagePull', { body: { reference, ...(platform ? { platform } : {}) }, signal: ctx.signal })) {
      if ('progress' in message) renderer.update(message.progress);
      else if ('error' in message) throw errorFromResponse(500, message.error);
      else {
        ctx.result({ outcome: 'success', id: message.image.id, repoTags: message.image.repoTags, repoDigests: message.image.repoDigests, size: message.image.size });
        return 0;
      }
    }
    throw new BerthError('unavailable', `the engine closed the pull of ${reference} without a result`);
  },
};
