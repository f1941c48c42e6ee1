/**
 * `--security-opt` values, parsed as Docker does: `key=value` (or the
 * deprecated `key:value`), plus the bare `no-new-privileges` and `disable`.
 *
 *   seccomp=unconfined | builtin | <profile JSON> | <path>  (a path is read by loadSecurityOptions)
 *   no-new-privileges[=bool]   apparmor=<profile>   label=<...>   writable-cgroups=bool
 *   systempaths=unconfined     (no masked or read-only paths, as `docker run --security-opt systempaths=unconfined`)
 *
 * AppArmor and SELinux are not available on the hosts Berth targets: their
 * options are accepted (so `apparmor=unconfined` and `label=disable` work)
 * and have no effect.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { parseSeccompProfile, type SeccompTemplate } from './seccomp';

export type SeccompChoice = { readonly kind: 'default' } | { readonly kind: 'unconfined' } | { readonly kind: 'custom'; readonly template: SeccompTemplate };

export interface SecurityOptions {
  readonly seccomp: SeccompChoice;
  readonly noNewPrivileges: boolean;
  /** No masked and no read-only paths. */
  readonly systemPathsUnconfined: boolean;
  /** /sys/fs/cgroup mounted read-write. */
  readonly writableCgroups: boolean;
  /** Accepted, not applied (no AppArmor here). */
  readonly apparmorProfile?: string;
  /** Accepted, not applied (no SELinux here). */
  readonly labels: readonly string[];
}

const MAX_PROFILE = 1024 * 1024;

function parseBool(value: string, opt: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new BerthError('invalid_argument', `invalid --security-opt: ${JSON.stringify(opt)}`);
}

function split(opt: string): [string, string] {
  const eq = opt.indexOf('=');
  const colon = opt.indexOf(':');
  const at = eq >= 0 ? eq : colon;
  if (at <= 0) throw new BerthError('invalid_argument', `invalid --security-opt: ${JSON.stringify(opt)}`);
  return [opt.slice(0, at), opt.slice(at + 1)];
}

/**
 * Parses security options; `profiles` maps a seccomp profile path to its
 * content (loadSecurityOptions fills it). A path without content is an error.
 */
export function parseSecurityOptions(opts: readonly string[] = [], profiles: ReadonlyMap<string, string> = new Map()): SecurityOptions {
  let seccomp: SeccompChoice = { kind: 'default' };
  let noNewPrivileges = false;
  let systemPathsUnconfined = false;
  let writableCgroups = false;
  let apparmorProfile: string | undefined;
  const labels: string[] = [];
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') {
      labels.push('disable');
      continue;
    }
    const [key, value] = split(opt);
    switch (key) {
      case 'seccomp':
        if (value === 'unconfined') seccomp = { kind: 'unconfined' };
        else if (value === 'builtin' || value === '') seccomp = { kind: 'default' };
        else if (value.trimStart().startsWith('{')) seccomp = { kind: 'custom', template: parseSeccompProfile(value) };
        else {
          const content = profiles.get(value);
          if (content === undefined) throw new BerthError('invalid_argument', `seccomp profile ${value}: pass the profile JSON, or an absolute path the engine can read`);
          seccomp = { kind: 'custom', template: parseSeccompProfile(content) };
        }
        break;
      case 'no-new-privileges':
        noNewPrivileges = parseBool(value, opt);
        break;
      case 'writable-cgroups':
        writableCgroups = parseBool(value, opt);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw new BerthError('invalid_argument', `invalid --security-opt: ${JSON.stringify(opt)} (only systempaths=unconfined is known)`);
        systemPathsUnconfined = true;
        break;
      case 'apparmor':
        apparmorProfile = value;
        break;
      case 'label':
        labels.push(value);
        break;
      default:
        throw new BerthError('invalid_argument', `invalid --security-opt: ${JSON.stringify(opt)}`);
    }
  }
  return { seccomp, noNewPrivileges, systemPathsUnconfined, writableCgroups, labels, ...(apparmorProfile !== undefined ? { apparmorProfile } : {}) };
}

/** Like parseSecurityOptions, reading `seccomp=<absolute path>` profiles from the engine's filesystem (1 MiB at most). */
export async function loadSecurityOptions(opts: readonly string[] = [], options: { signal?: AbortSignal } = {}): Promise<SecurityOptions> {
  const profiles = new Map<string, string>();
  for (const opt of opts) {
    if (!opt.startsWith('seccomp=') && !opt.startsWith('seccomp:')) continue;
    const file = opt.slice('seccomp='.length);
    if (!path.isAbsolute(file)) continue;
    options.signal?.throwIfAborted();
    const handle = await open(file, 'r').catch((err: unknown) => {
      throw new BerthError('invalid_argument', `seccomp profile ${file}: ${(err as Error).message}`, { cause: err });
    });
    try {
      const { size } = await handle.stat();
      if (size > MAX_PROFILE) throw new BerthError('invalid_argument', `seccomp profile ${file} is larger than 1 MiB`);
      profiles.set(file, await handle.readFile({ encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) }));
    } finally {
      await handle.close();
    }
  }
  return parseSecurityOptions(opts, profiles);
}
