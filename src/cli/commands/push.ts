import { errorFromResponse } from '../../api/http-errors';
import { BerthError } from '../../common/errors';
import { stringOption, type Command } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';
import { ProgressRenderer } from '../progress';

export const pushCommand: Command = {
  name: 'push',
  summary: 'Push an image from the engine to its registry, with progress.',
  usage: 'push IMAGE',
  allowPositionals: true,
  options: { ...ENGINE_OPTIONS },
  async run(values, positionals, ctx) {
    const [reference, ...extra] = positionals;
    if (!reference || extra.length > 0) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    const renderer = new ProgressRenderer({
      write: ctx.stderr,
      isTTY: process.stderr.isTTY,
      columns: process.stderr.columns,
      format: stringOption(values, 'log-format') === 'json' ? 'json' : 'text',
    });
    for await (const message of engineClient(values, ctx.env).stream('imagePush', { params: { name: reference }, signal: ctx.signal })) {
      if ('progress' in message) renderer.update(message.progress);
      else if ('error' in message) throw errorFromResponse(500, message.error);
      else {
        ctx.result({ outcome: 'success', id: message.image.id, repoDigests: message.image.repoDigests });
        return 0;
      }
    }
    throw new BerthError('unavailable', `the engine closed the push of ${reference} without a result`);
  },
};

export const tagCommand: Command = {
  name: 'tag',
  summary: 'Give an image in the engine another name.',
  usage: 'tag SOURCE TARGET',
  allowPositionals: true,
  options: { ...ENGINE_OPTIONS },
  async run(values, positionals, ctx) {
    const [source, target, ...extra] = positionals;
    if (!source || !target || extra.length > 0) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    await engineClient(values, ctx.env).call('imageTag', { params: { name: source }, body: { target }, signal: ctx.signal });
    ctx.result({ outcome: 'success', source, target });
    return 0;
  },
};
