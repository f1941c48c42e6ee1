/**
 * `userEnvProbe`: the environment the remote user's login and/or
 * interactive shell sets up (PATH additions from /etc/profile, ~/.bashrc,
 * version managers), probed once per container and user and cached in the
 * container's marker directory (written and read by the engine, without an
 * exec), then used for lifecycle hooks and `berth exec` (remoteEnv wins).
 */
import { createHash } from 'node:crypto';
import type { UserEnvProbe } from '../config/types';
import { execIn, readMarkerFiles, writeMarkerFile, type ExecContext } from './lifecycle';

const FLAGS: Record<Exclude<UserEnvProbe, 'none'>, string> = { loginInteractiveShell: '-lic', interactiveShell: '-ic', loginShell: '-lc' };
const BEGIN = 'BERTH_ENV_BEGIN';
const END = 'BERTH_ENV_END';
/** Variables that describe the probing shell, not the user's environment. */
const DROPPED = new Set(['_', 'PWD', 'OLDPWD', 'SHLVL']);

/** The shell script that prints the probed environment between markers. */
export function probeScript(probe: Exclude<UserEnvProbe, 'none'>): string {
  return [
    `shell=$(awk -F: -v u="$(id -un 2>/dev/null)" '$1==u{print $7}' /etc/passwd 2>/dev/null)`,
    'case "$shell" in */nologin|*/false|"") shell=/bin/sh;; esac',
    '[ -x "$shell" ] || shell=/bin/sh',
    't=; command -v timeout >/dev/null 2>&1 && t="timeout 10"',
    `exec $t "$shell" ${FLAGS[probe]} 'printf ${BEGIN}; cat /proc/self/environ; printf ${END}' </dev/null 2>/dev/null`,
  ].join('\n');
}

/** The marker directory's file that caches the probe's result for a user (root's, mode 0600: only the engine's API reads it). */
export function envCacheName(user: string, probe: Exclude<UserEnvProbe, 'none'>): string {
  const safe = /^[A-Za-z0-9._-]{1,64}$/.test(user) ? user : createHash('sha256').update(user).digest('hex').slice(0, 16);
  return `userenv-${safe}-${probe}.json`;
}

function cachedEnv(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) return undefined;
    return v as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** Parses the probe's output: NUL-separated K=V between the markers. */
export function parseProbeOutput(output: string): Record<string, string> | undefined {
  const start = output.indexOf(BEGIN);
  const end = output.lastIndexOf(END);
  if (start < 0 || end < start) return undefined;
  const env: Record<string, string> = {};
  for (const entry of output.slice(start + BEGIN.length, end).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    if (!DROPPED.has(key)) env[key] = entry.slice(eq + 1);
  }
  return env;
}

export interface ProbeOptions {
  /** The marker directory's files, read already (else read here). */
  readonly files?: ReadonlyMap<string, string>;
  /** The cache write goes here, to overlap with what comes next; the caller awaits it. */
  readonly pending?: Promise<void>[];
}

/**
 * The probed environment: cached in the container after the first probe,
 * or {} (with a warning) when the probe is off or fails.
 */
export async function probeUserEnv(ctx: ExecContext, probe: UserEnvProbe = 'loginInteractiveShell', options: ProbeOptions = {}): Promise<Record<string, string>> {
  if (probe === 'none') return {};
  const name = envCacheName(ctx.user, probe);
  const hit = cachedEnv((options.files ?? (await readMarkerFiles(ctx))).get(name));
  if (hit) return hit;
  const r = await execIn(ctx, ['/bin/sh', '-c', probeScript(probe)], { quiet: true, env: [], raw: true });
  const env = r.exitCode === 0 ? parseProbeOutput(r.output) : undefined;
  if (!env) {
    ctx.logger.warn(`userEnvProbe (${probe}) found no environment (exit code ${r.exitCode}); commands run with the container's environment`);
    return {};
  }
  // Not cached (a read-only root filesystem, say): the next command probes again.
  const write = writeMarkerFile(ctx, name, JSON.stringify(env), 0o600).catch((err: unknown) => ctx.logger.debug(`userEnvProbe: not cached: ${(err as Error).message}`));
  if (options.pending) options.pending.push(write);
  else await write;
  return env;
}
