/**
 * Image references, normalized like Docker: `busybox` is
 * `docker.io/library/busybox:latest`; `127.0.0.1:5000/app@sha256:...` keeps
 * its registry and digest.
 */
import { BerthError } from '../../common/errors';
import type { Digest } from '../../api/types/oci';

export interface ImageReference {
  /** Registry host, e.g. "docker.io" or "127.0.0.1:5000". */
  readonly domain: string;
  /** Repository path, e.g. "library/busybox". */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export function parseReference(input: string): ImageReference {
  let rest = input.trim();
  if (rest === '') throw new BerthError('invalid_argument', 'empty image reference');
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!/^sha256:[a-f0-9]{64}$/.test(d)) throw new BerthError('invalid_argument', `invalid digest in image reference "${input}"`);
    digest = d as Digest;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new BerthError('invalid_argument', `invalid tag "${tag}" in image reference "${input}"`);
  }
  const parts = rest.split('/');
  let domain = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!DOMAIN.test(first)) throw new BerthError('invalid_argument', `invalid registry "${first}" in image reference "${input}"`);
    domain = first;
    parts.shift();
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  for (const p of parts) {
    if (!PATH_COMPONENT.test(p)) throw new BerthError('invalid_argument', `invalid image reference "${input}": repository names are lowercase letters, digits and separators`);
  }
  if (!tag && !digest) tag = 'latest';
  return { domain, path: parts.join('/'), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** "domain/path" */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The familiar form for display and tags: "busybox:latest", "127.0.0.1:5000/app:1". */
export function formatReference(ref: ImageReference): string {
  const name = ref.domain === 'docker.io' ? ref.path.replace(/^library\//, '') : repositoryName(ref);
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The canonical, fully qualified form used as a key: "docker.io/library/busybox:latest". */
export function canonicalReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
