/**
 * `userEnvProbe`: the environment the remote user's login and/or
 * interactive shell sets up (PATH additions from /etc/profile, ~/.bashrc,
 * version managers), probed once per container and user and cached in the
 * container, then used for lifecycle hooks and `berth exec` (remoteEnv wins).
 */
import type { UserEnvProbe } from '../config/types';
import { execIn, MARKER_DIR, type ExecContext } from './lifecycle';

const FLAGS: Record<Exclude<UserEnvProbe, 'none'>, string> = { loginInteractiveShell: '-lic', interactiveShell: '-ic', loginShell: '-lc' };
const BEGIN = 'BERTH_ENV_BEGIN';
const END = 'BERTH_ENV_END';
/** Variables that describe the probing shell, not the user's environment. */
const DROPPED = new Set(['_', 'PWD', 'OLDPWD', 'SHLVL']);

/** The shell script that prints (and caches) the probed environment between markers. */
export function probeScript(probe: Exclude<UserEnvProbe, 'none'>): string {
  return [
    `d=${MARKER_DIR}; f=$d/userenv-$(id -u)-${probe}`,
    'if [ -s "$f" ]; then cat "$f"; exit 0; fi',
    `shell=$(awk -F: -v u="$(id -un 2>/dev/null)" '$1==u{print $7}' /etc/passwd 2>/dev/null)`,
    'case "$shell" in */nologin|*/false|"") shell=/bin/sh;; esac',
    '[ -x "$shell" ] || shell=/bin/sh',
    't=; command -v timeout >/dev/null 2>&1 && t="timeout 10"',
    'tmp=${TMPDIR:-/tmp}/.berth-env.$$',
    `$t "$shell" ${FLAGS[probe]} 'printf ${BEGIN}; cat /proc/self/environ; printf ${END}' </dev/null 2>/dev/null > "$tmp" || { rm -f "$tmp"; exit 1; }`,
    // Cached where the marker directory exists (it may not yet in a new container: then not cached this once).
    'if [ -d "$d" ] && [ -w "$d" ] && mv "$tmp" "$f" 2>/dev/null; then cat "$f"; else cat "$tmp"; rm -f "$tmp"; fi',
  ].join('\n');
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

/** The probed environment, or {} (with a warning) when the probe is off or fails. */
export async function probeUserEnv(ctx: ExecContext, probe: UserEnvProbe = 'loginInteractiveShell'): Promise<Record<string, string>> {
  if (probe === 'none') return {};
  const r = await execIn(ctx, ['/bin/sh', '-c', probeScript(probe)], { quiet: true, env: [], raw: true });
  const env = r.exitCode === 0 ? parseProbeOutput(r.output) : undefined;
  if (!env) {
    ctx.logger.warn(`userEnvProbe (${probe}) found no environment (exit code ${r.exitCode}); commands run with the container's environment`);
    return {};
  }
  return env;
}
