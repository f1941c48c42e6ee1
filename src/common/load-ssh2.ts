/**
 * ssh2, loaded on first use (other commands start faster without it). It is
 * CommonJS outside the bundle, loaded with require: the CLI bundle runs as a
 * vm script (see launcher.ts), where a dynamic import() has no loader.
 */
type Ssh2 = typeof import('ssh2');

export function loadSsh2(): Promise<Ssh2> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return Promise.resolve(require('ssh2') as Ssh2);
}
