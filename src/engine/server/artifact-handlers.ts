/** Native API handlers for OCI artifacts (dev container features): request checks, then the artifact service. */
import type { ArtifactPushRequest } from '../../api/types/artifacts';
import { BerthError } from '../../common/errors';
import type { Handlers } from './router';
import type { ArtifactService } from './services';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): boolean => v === undefined || (isObject(v) && Object.values(v).every((x) => typeof x === 'string'));

function pushRequest(body: unknown): ArtifactPushRequest {
  const bad = (what: string): BerthError => new BerthError('invalid_argument', `artifact push: ${what}`);
  if (!isObject(body)) throw bad('the request must be a JSON object');
  if (typeof body['reference'] !== 'string' || !body['reference']) throw bad('reference must be a string');
  if (!Array.isArray(body['tags']) || body['tags'].some((t) => typeof t !== 'string')) throw bad('tags must be an array of strings');
  const config = body['config'];
  if (!isObject(config) || typeof config['mediaType'] !== 'string' || typeof config['data'] !== 'string') throw bad('config needs mediaType and data (base64)');
  const layers = body['layers'];
  if (!Array.isArray(layers) || layers.some((l) => !isObject(l) || typeof l['mediaType'] !== 'string' || typeof l['data'] !== 'string' || !isStringMap(l['annotations']))) {
    throw bad('layers must be objects with mediaType, data (base64) and string annotations');
  }
  if (!isStringMap(body['annotations'])) throw bad('annotations must be an object of strings');
  if (body['artifactType'] !== undefined && typeof body['artifactType'] !== 'string') throw bad('artifactType must be a string');
  return body as unknown as ArtifactPushRequest;
}

export function artifactHandlers(artifacts: ArtifactService): Handlers {
  return {
    artifactPull: ({ body, signal }) => {
      if (!isObject(body) || typeof body['reference'] !== 'string' || !body['reference']) throw new BerthError('invalid_argument', 'artifact pull: reference must be a string');
      return artifacts.pull(body['reference'], { signal });
    },
    artifactPush: ({ body, signal }) => artifacts.push(pushRequest(body), { signal }),
  };
}
