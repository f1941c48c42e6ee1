/**
 * Project names. Compose's own rule: `-p`, else COMPOSE_PROJECT_NAME, else
 * the top-level `name:`, else the project folder's name; lowercased, with
 * everything but [a-z0-9_-] dropped. The Dev Containers CLI picks the
 * name itself and passes it with `-p`: see devContainerProjectName.
 */
import path from 'node:path';
import { BerthError } from '../common/errors';

/** Compose v2's NormalizeProjectName. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[-_]+/, '');
}

export function projectName(candidates: { flag?: string | undefined; env?: string | undefined; fileName?: string | undefined; workingDir: string }): string {
  const raw = candidates.flag || candidates.env || candidates.fileName || path.basename(candidates.workingDir);
  const name = normalizeProjectName(raw);
  if (!name) throw new BerthError('invalid_argument', `"${raw}" gives no valid project name: use lowercase letters, digits, "-" and "_"`);
  return name;
}

/**
 * The name the reference Dev Containers CLI gives a dev container's compose
 * project: COMPOSE_PROJECT_NAME (environment, then the workspace's .env), then
 * a `name:` written in one of the files, then "<workspace>_devcontainer" for
 * files in <workspace>/.devcontainer, else the first file's folder name.
 */
export function devContainerProjectName(o: {
  readonly env?: string | undefined;
  readonly dotEnv?: string | undefined;
  /** The merged project's `name:` when one of the files sets it. */
  readonly fileName?: string | undefined;
  readonly workspaceFolder: string;
  readonly composeFiles: readonly string[];
}): string {
  for (const candidate of [o.env, o.dotEnv, o.fileName]) {
    const name = candidate ? normalizeProjectName(candidate) : '';
    if (name) return name;
  }
  const dir = path.dirname(o.composeFiles[0] ?? path.join(o.workspaceFolder, 'x'));
  const base = path.resolve(dir) === path.resolve(o.workspaceFolder, '.devcontainer') ? `${path.basename(o.workspaceFolder)}_devcontainer` : path.basename(dir);
  return projectName({ workingDir: base });
}
