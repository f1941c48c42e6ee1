/**
 * The container's first process as Docker builds it: argv from entrypoint
 * and cmd, the environment, the working directory.
 */
import type { ContainerCreateRequest } from '../../api/types/containers';
import type { ImageRuntimeConfig } from '../../api/types/oci';
import { BerthError } from '../../common/errors';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const isEmptyEntrypoint = (e: readonly string[]): boolean => e.length === 0 || (e.length === 1 && e[0] === '');

/**
 * Docker's merge: a non-empty request entrypoint replaces the image's and
 * drops the image cmd (the request cmd, if any, follows it); an empty one
 * (`--entrypoint ""`) clears the image entrypoint but keeps its cmd; an
 * empty or absent request cmd means the image cmd.
 */
export function processArgs(request: Pick<ContainerCreateRequest, 'entrypoint' | 'cmd'>, image: ImageRuntimeConfig): string[] {
  const userEntry = request.entrypoint ?? undefined;
  const userCmd = request.cmd ?? [];
  let entrypoint: readonly string[];
  let cmd: readonly string[];
  if (userEntry && !isEmptyEntrypoint(userEntry)) {
    entrypoint = userEntry;
    cmd = userCmd;
  } else {
    entrypoint = userEntry ? [] : (image.Entrypoint ?? []);
    cmd = userCmd.length > 0 ? userCmd : (image.Cmd ?? []);
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0 || args[0] === '') throw new BerthError('invalid_argument', 'no command specified: the image has no Entrypoint or Cmd and none was given');
  return args;
}

const keyOf = (kv: string): string => {
  const eq = kv.indexOf('=');
  return eq < 0 ? kv : kv.slice(0, eq);
};

/**
 * Docker's environment: PATH (default), HOSTNAME, TERM=xterm with a TTY,
 * then the request env, then the image env for keys the request does not
 * set, each replacing a default of the same name. A bare `KEY` (no "=")
 * unsets KEY. HOME is left to the runtime, which sets it from the user's
 * passwd entry ("/" without one) when absent, per process.
 */
export function processEnv(request: Pick<ContainerCreateRequest, 'env' | 'tty'>, image: ImageRuntimeConfig, hostname: string): string[] {
  const user = request.env ?? [];
  const userKeys = new Set(user.map(keyOf));
  const merged = [...user, ...(image.Env ?? []).filter((kv) => !userKeys.has(keyOf(kv)))];
  const env = new Map<string, string>([
    ['PATH', `PATH=${DEFAULT_PATH}`],
    ['HOSTNAME', `HOSTNAME=${hostname}`],
  ]);
  if (request.tty) env.set('TERM', 'TERM=xterm');
  for (const kv of merged) {
    const key = keyOf(kv);
    if (key === '') continue;
    if (kv.includes('=')) env.set(key, kv);
    else env.delete(key);
  }
  return [...env.values()];
}

/** Request working dir, else the image's, else "/"; must be absolute. */
export function processCwd(request: Pick<ContainerCreateRequest, 'workingDir'>, image: ImageRuntimeConfig): string {
  const cwd = request.workingDir || image.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw new BerthError('invalid_argument', `the working directory "${cwd}" is invalid: it needs to be an absolute path`);
  return cwd;
}
