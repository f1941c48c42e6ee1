/**
 * Dotfiles: the user's dotfiles repository, cloned on the host with the
 * host's git and credentials (the container needs no git), mounted
 * read-only into a new dev container, copied to the target path (default
 * ~/dotfiles) as the remote user and installed once per container: the
 * install command, else the first of install.sh, install, bootstrap.sh,
 * bootstrap, script/bootstrap, setup.sh, setup, script/setup, else the
 * repository's dot files linked into the home directory.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { run } from '../common/process/spawn';
import { execIn, MARKER_DIR, type ExecContext } from './lifecycle';

export const DOTFILES_MOUNT_TARGET = '/tmp/berth-dotfiles';

export interface DotfilesOptions {
  readonly repository: string;
  /** Where the repository goes in the container (default ~/dotfiles). */
  readonly targetPath?: string;
  readonly installCommand?: string;
}

/** Clones (or fast-forwards) the repository into Berth's cache on the host; answers the folder. */
export async function fetchDotfiles(repository: string, env: NodeJS.ProcessEnv, logger: Logger, signal?: AbortSignal): Promise<string> {
  const cache = path.join(env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache'), 'berth', 'dotfiles');
  const dir = path.join(cache, createHash('sha256').update(repository).digest('hex').slice(0, 16));
  const s = { env: { ...env, GIT_TERMINAL_PROMPT: '0' }, ...(signal ? { signal } : {}) };
  if (existsSync(path.join(dir, '.git'))) {
    const r = await run(['git', '-C', dir, 'pull', '--ff-only', '-q'], s);
    if (r.code !== 0) logger.warn(`dotfiles: could not update ${repository} (${r.stderr.trim().split('\n').at(-1) ?? ''}); using the copy from before`);
    return dir;
  }
  await mkdir(cache, { recursive: true });
  logger.info(`dotfiles: cloning ${repository}`);
  const r = await run(['git', 'clone', '-q', '--depth', '1', '--', repository, dir], s);
  if (r.code !== 0) throw new BerthError('failed_precondition', `dotfiles: git clone of ${repository} failed: ${r.stderr.trim().split('\n').slice(-3).join('\n')}`);
  return dir;
}

export function dotfilesMount(hostDir: string): string {
  return `type=bind,source=${hostDir},target=${DOTFILES_MOUNT_TARGET},readonly`;
}

const SCRIPT = [
  'src=$1; target=$2; cmd=$3; marker=$4',
  '[ -e "$marker" ] && { echo BERTH_DOTFILES_SKIPPED; exit 0; }',
  '[ -d "$src" ] || { echo BERTH_DOTFILES_SKIPPED; exit 0; }',
  'case "$target" in "~"|"~/"*) target="$HOME${target#\\~}";; esac',
  'mkdir -p "$target" && cp -a "$src/." "$target/" && cd "$target" || exit 1',
  'if [ -n "$cmd" ]; then',
  '  if [ -f "$cmd" ]; then chmod +x "$cmd" && "./$cmd" || exit $?; else sh -c "$cmd" || exit $?; fi',
  'else',
  '  found=',
  '  for f in install.sh install bootstrap.sh bootstrap script/bootstrap setup.sh setup script/setup; do',
  '    if [ -f "$f" ]; then chmod +x "$f"; "./$f" || exit $?; found=1; break; fi',
  '  done',
  '  if [ -z "$found" ]; then for f in .[!.]*; do [ -e "$f" ] && [ "$f" != .git ] && ln -sf "$target/$f" "$HOME/$f"; done; fi',
  'fi',
  'touch "$marker"',
].join('\n');

/** Installs the mounted dotfiles once per container (and user); 'skipped' when done before or not mounted. */
export async function installDotfiles(ctx: ExecContext, options: DotfilesOptions): Promise<'ran' | 'skipped'> {
  ctx.logger.info(`dotfiles: installing ${options.repository}`);
  const marker = `${MARKER_DIR}/dotfiles-${createHash('sha256').update(options.repository).digest('hex').slice(0, 12)}`;
  const r = await execIn(ctx, ['/bin/sh', '-c', SCRIPT, '-', DOTFILES_MOUNT_TARGET, options.targetPath ?? '~/dotfiles', options.installCommand ?? '', marker]);
  if (r.exitCode !== 0) throw new BerthError('failed_precondition', `dotfiles: installing ${options.repository} failed with exit code ${r.exitCode}\n${r.output.trim()}`, { details: { exitCode: r.exitCode } });
  return r.output.includes('BERTH_DOTFILES_SKIPPED') ? 'skipped' : 'ran';
}
