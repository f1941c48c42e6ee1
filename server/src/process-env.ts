/** The environment and shell of commands the agent runs. */
import { existsSync, readFileSync } from 'node:fs';

export interface UserContext {
  readonly shell: string;
  readonly home: string;
  readonly user: string;
  /** Base environment every command gets (before the client's env requests). */
  readonly env: Readonly<Record<string, string>>;
}

const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The user's shell from /etc/passwd when it exists, else /bin/sh, else none. */
export function userContext(env: NodeJS.ProcessEnv, uid: number = process.getuid?.() ?? 0): UserContext {
  let shell = '';
  let home = env['HOME'] ?? '/';
  let user = env['USER'] ?? (uid === 0 ? 'root' : String(uid));
  try {
    const passwd = readFileSync('/etc/passwd', 'utf8');
    for (const line of passwd.split('\n')) {
      const [name, , id, , , dir, sh] = line.split(':');
      if (Number(id) === uid && name) {
        user = name;
        home = dir || home;
        shell = sh ?? '';
        break;
      }
    }
  } catch {
    /* an image without /etc/passwd */
  }
  if (!shell || !existsSync(shell) || shell.endsWith('/nologin') || shell.endsWith('/false')) shell = existsSync('/bin/sh') ? '/bin/sh' : '';
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('BERTH_AGENT_')) base[k] = v;
  base['PATH'] ??= FALLBACK_PATH;
  base['HOME'] = home;
  base['USER'] = user;
  if (shell) base['SHELL'] = shell;
  return { shell, home, user, env: base };
}
