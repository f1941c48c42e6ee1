/**
 * ssh2, loaded on first use (other commands start faster without it). It is
 * CommonJS outside the bundle: a dynamic import gives its exports under
 * `default` (tsc's interop gives them at the top level too).
 */
type Ssh2 = typeof import('ssh2');

export async function loadSsh2(): Promise<Ssh2> {
  const m = (await import('ssh2')) as Ssh2 & { default?: Ssh2 };
  return m.default ?? m;
}
