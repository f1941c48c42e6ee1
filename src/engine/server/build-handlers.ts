/** The native build route: a context tar in, NDJSON progress and the result out. */
import { errorBody } from '../../api/http-errors';
import type { BuildMessage, BuildProgress } from '../../api/types/build';
import type { BuildOptions } from '../../api/types/build';
import { AsyncQueue } from '../../common/async-queue';
import { BerthError, notYet, toBerthError } from '../../common/errors';
import type { Handlers } from './router';
import type { BuildService } from './services';

function parseOptions(text: string | undefined): BuildOptions {
  if (text === undefined || text === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    const cacheFrom = (v as { cacheFrom?: unknown }).cacheFrom;
    if (cacheFrom !== undefined && (!Array.isArray(cacheFrom) || !cacheFrom.every((x) => typeof x === 'string'))) throw new Error('cacheFrom must be an array of image names');
    return v;
  } catch (err) {
    throw new BerthError('invalid_argument', `build options must be a JSON object: ${(err as Error).message}`);
  }
}

export function buildHandlers(builder: BuildService | undefined): Handlers {
  return {
    imageBuild: ({ query, body, signal }) => {
      if (!builder) throw notYet('building images on this engine', 6);
      const options = parseOptions(query.options);
      const queue = new AsyncQueue<BuildMessage>();
      const run = { signal, onProgress: (progress: BuildProgress): void => queue.push({ progress }) };
      if (query.context) body.resume(); // a stored context: the body is empty
      (query.context ? builder.buildFromStored(query.context, options, run) : builder.buildFromTar(body, options, run)).then(
        (result) => {
          queue.push({ result });
          queue.end();
        },
        (err: unknown) => {
          const e = toBerthError(err);
          queue.push({ error: { ...errorBody(e), details: { ...e.details } } });
          queue.end();
        },
      );
      return queue;
    },
  };
}
