/**
 * Workspace URIs of a container: berth-container://CONTAINER_ID/abs/path.
 * The authority is the engine's container id (64 hex), the path is the path
 * inside the container. Pure: no vscode import, unit-tested.
 */
import { BerthError } from '../../src/common/errors';

export const CONTAINER_SCHEME = 'berth-container';

export interface ContainerLocation {
  readonly containerId: string;
  readonly path: string;
}

const ID = /^[0-9a-f]{12,64}$/;

/** The pieces of a URI (scheme, authority, path) as vscode.Uri or URL give them. */
export function parseContainerUri(uri: { scheme: string; authority: string; path: string }): ContainerLocation {
  if (uri.scheme !== CONTAINER_SCHEME) throw new BerthError('invalid_argument', `not a container URI: ${uri.scheme}://${uri.authority}${uri.path}`);
  if (!ID.test(uri.authority)) throw new BerthError('invalid_argument', `not a container id: "${uri.authority}"`);
  return { containerId: uri.authority, path: normalizePath(uri.path) };
}

/** An absolute POSIX path without trailing slash ("/" stays). */
export function normalizePath(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

export function containerUriString(loc: ContainerLocation): string {
  return `${CONTAINER_SCHEME}://${loc.containerId}${normalizePath(loc.path)}`;
}
