import type { Command } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';

export const imagesCommand: Command = {
  name: 'images',
  summary: 'List the images in the engine.',
  usage: 'images',
  options: { ...ENGINE_OPTIONS },
  async run(values, _positionals, ctx) {
    const images = await engineClient(values, ctx.env).call('imageList', { signal: ctx.signal });
    ctx.result({
      outcome: 'success',
      images: images.map((i) => ({ id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: i.size, platform: i.platform })),
    });
    return 0;
  },
};
