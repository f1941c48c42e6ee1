/**
 * Where the workspace goes in the container: the `workspaceFolder` and the
 * `workspaceMount` defaults of the spec. By default the whole git repository
 * that holds the workspace is mounted, so that git works inside.
 */
import path from 'node:path';
import { pathExists } from '../common/path-exists';
import { run } from '../common/process/spawn';

export interface WorkspaceConfig {
  readonly workspaceFolder?: string;
  readonly workspaceMount?: string;
}

/** Whether `folder` or a folder above it has a `.git` (directory, or file of a linked work tree). */
async function gitAbove(folder: string): Promise<boolean> {
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    if (await pathExists(path.join(dir, '.git'))) return true;
    if (path.dirname(dir) === dir) return false;
  }
}

/** The top of the git work tree holding `folder` (symlinks kept), or undefined. */
export async function findGitRoot(folder: string, options: { signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {}): Promise<string | undefined> {
  // Without a .git above and no GIT_DIR, git finds no repository either: no need to ask it.
  const env = options.env ?? process.env;
  if (env['GIT_DIR'] === undefined && !(await gitAbove(folder))) return undefined;
  try {
    const result = await run(['git', 'rev-parse', '--show-cdup'], { cwd: folder, ...options });
    if (result.code !== 0) return undefined;
    return path.resolve(folder, result.stdout.toString('utf8').trim());
  } catch (err) {
    if (options.signal?.aborted) throw err;
    return undefined;
  }
}

function quoteIfComma(value: string): string {
  return value.includes(',') ? `"${value}"` : value;
}

export function bindMountString(source: string, target: string): string {
  return `type=bind,source=${quoteIfComma(source)},target=${quoteIfComma(target)}`;
}

export interface WorkspaceOptions {
  /** Mount the git root rather than the folder itself (default true). */
  readonly mountGitRoot?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Computes the defaults from the raw (unsubstituted) configuration; the caller
 * replaces them with the substituted values of the properties that are set.
 */
export async function workspaceConfiguration(
  raw: Readonly<Record<string, unknown>>,
  localWorkspaceFolder: string | undefined,
  options: WorkspaceOptions = {},
): Promise<WorkspaceConfig> {
  if (raw['dockerComposeFile'] !== undefined) {
    const folder = raw['workspaceFolder'];
    return { workspaceFolder: typeof folder === 'string' && folder !== '' ? folder : '/' };
  }
  let workspaceFolder = typeof raw['workspaceFolder'] === 'string' && raw['workspaceFolder'] !== '' ? raw['workspaceFolder'] : undefined;
  let workspaceMount = typeof raw['workspaceMount'] === 'string' ? raw['workspaceMount'] : undefined;
  const hasMount = 'workspaceMount' in raw;
  if (localWorkspaceFolder !== undefined && (workspaceFolder === undefined || !hasMount)) {
    const hostFolder =
      (options.mountGitRoot ?? true) ? ((await findGitRoot(localWorkspaceFolder, options)) ?? localWorkspaceFolder) : localWorkspaceFolder;
    const containerFolder = path.posix.join('/workspaces', path.basename(hostFolder));
    workspaceFolder ??= path.posix.join(containerFolder, path.relative(hostFolder, localWorkspaceFolder).split(path.sep).join('/'));
    if (!hasMount) workspaceMount = bindMountString(hostFolder, containerFolder);
  }
  const out: { workspaceFolder?: string; workspaceMount?: string } = {};
  if (workspaceFolder !== undefined) out.workspaceFolder = workspaceFolder;
  if (workspaceMount !== undefined) out.workspaceMount = workspaceMount;
  return out;
}
