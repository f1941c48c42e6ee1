/** One image build on the engine: its progress lines to a callback, its result, or a BerthError that says what failed. */
import type { Readable } from 'node:stream';
import type { ApiClient } from '../api/client';
import { errorFromResponse } from '../api/http-errors';
import type { BuildOptions, BuildResult } from '../api/types/build';
import { BerthError } from '../common/errors';

export async function runBuild(
  api: ApiClient,
  options: BuildOptions,
  context: Readable,
  run: { readonly what: string; readonly onLine: (text: string) => void; readonly signal?: AbortSignal | undefined },
): Promise<BuildResult> {
  for await (const m of api.stream('imageBuild', { query: { options: JSON.stringify(options) }, body: context, ...(run.signal ? { signal: run.signal } : {}) })) {
    if ('progress' in m) {
      const text = m.progress.stream.replace(/\n$/, '');
      if (text) run.onLine(text);
    } else if ('error' in m) {
      const err = errorFromResponse(500, m.error);
      throw new BerthError(err.code, `${run.what} failed: ${err.message}`, { details: m.error.details ?? {} });
    } else return m.result;
  }
  throw new BerthError('unavailable', `the engine closed the build (${run.what}) without a result`);
}
