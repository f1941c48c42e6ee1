/**
 * Finding devcontainer.json files in a workspace folder:
 * `.devcontainer/devcontainer.json`, `.devcontainer.json` and
 * `.devcontainer/<name>/devcontainer.json`.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../common/errors';

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export function defaultConfigPath(workspaceFolder: string): string {
  return path.join(workspaceFolder, '.devcontainer', 'devcontainer.json');
}

/** Every configuration in the folder, the well-known ones first, then named ones sorted by name. */
export async function findConfigFiles(workspaceFolder: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
  options.signal?.throwIfAborted();
  const found: string[] = [];
  for (const candidate of [defaultConfigPath(workspaceFolder), path.join(workspaceFolder, '.devcontainer.json')]) {
    if (await isFile(candidate)) found.push(candidate);
  }
  let entries: string[] = [];
  try {
    entries = (await readdir(path.join(workspaceFolder, '.devcontainer'), { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    /* no .devcontainer folder */
  }
  for (const name of entries) {
    options.signal?.throwIfAborted();
    const candidate = path.join(workspaceFolder, '.devcontainer', name, 'devcontainer.json');
    if (await isFile(candidate)) found.push(candidate);
  }
  return found;
}

/**
 * The configuration to use: `configFile` if given (it must exist), else the
 * well-known locations, else the only named one. Several named ones and none
 * chosen is an error that lists them.
 */
export async function chooseConfigFile(
  workspaceFolder: string,
  configFile: string | undefined,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  if (configFile !== undefined) {
    if (!(await isFile(configFile))) {
      throw new BerthError('not_found', `Dev container config (${configFile}) not found.`, { details: { file: configFile } });
    }
    return configFile;
  }
  const found = await findConfigFiles(workspaceFolder, options);
  const primary = found.find((f) => path.dirname(f) === workspaceFolder || path.dirname(f) === path.join(workspaceFolder, '.devcontainer'));
  if (primary) return primary;
  const [only, ...others] = found;
  if (only && others.length === 0) return only;
  if (only) {
    const list = found.map((f) => `  ${path.relative(workspaceFolder, f)}`).join('\n');
    throw new BerthError('failed_precondition', `${workspaceFolder} has ${found.length} dev container configurations; choose one with --config:\n${list}`, {
      details: { configs: found },
    });
  }
  const missing = defaultConfigPath(workspaceFolder);
  throw new BerthError('not_found', `Dev container config (${missing}) not found.`, { details: { file: missing } });
}
