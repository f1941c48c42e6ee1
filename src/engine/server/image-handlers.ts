import { errorBody } from '../../api/http-errors';
import type { PullMessage } from '../../api/routes';
import type { Platform } from '../../api/types/oci';
import { AsyncQueue } from '../../common/async-queue';
import { BerthError, toBerthError } from '../../common/errors';
import type { ImageStore } from '../../api/types/images';
import type { Handlers } from './router';

export function parsePlatform(value: string): Platform {
  const [os, architecture, variant, ...rest] = value.split('/');
  if (!os || !architecture || rest.length > 0) {
    throw new BerthError('invalid_argument', `platform must look like os/arch[/variant] (got "${value}")`);
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

function requireString(body: unknown, key: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
  if (typeof value !== 'string' || value === '') throw new BerthError('invalid_argument', `"${key}" must be a non-empty string`);
  return value;
}

/** Runs a long image operation, streaming its progress and then its result or error. */
function streamOperation(run: (queue: AsyncQueue<PullMessage>) => Promise<PullMessage>): AsyncQueue<PullMessage> {
  const queue = new AsyncQueue<PullMessage>();
  run(queue).then(
    (final) => {
      queue.push(final);
      queue.end();
    },
    (err: unknown) => {
      queue.push({ error: errorBody(toBerthError(err)) });
      queue.end();
    },
  );
  return queue;
}

export function imageHandlers(images: ImageStore): Handlers {
  return {
    imagePull: ({ body, signal }) => {
      const reference = requireString(body, 'reference');
      const platform = typeof body.platform === 'string' ? parsePlatform(body.platform) : undefined;
      return streamOperation(async (queue) => {
        const image = await images.pull(reference, {
          signal,
          ...(platform ? { platform } : {}),
          onProgress: (progress) => queue.push({ progress }),
        });
        return { image };
      });
    },
    imagePush: ({ params, signal }) =>
      streamOperation(async (queue) => {
        await images.push(params.name, { signal, onProgress: (progress) => queue.push({ progress }) });
        return { image: await images.get(params.name) };
      }),
    imageList: () => images.list(),
    imageInspect: ({ params }) => images.get(params.name),
    imageTag: async ({ params, body }) => {
      await images.tag(params.name, requireString(body, 'target'));
      return { ok: true };
    },
    imageRemove: ({ params, query }) => images.remove(params.name, { force: query.force === 'true' || query.force === '1' }),
  };
}
