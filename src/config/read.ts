/**
 * Reading a dev container configuration end to end: choose the file, parse
 * and validate it, move deprecated properties, compute the workspace
 * defaults and substitute the local variables.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { chooseConfigFile } from './discover';
import { formatDiagnostic, parseConfigText, type ConfigDiagnostic } from './parse';
import { substituteLocal } from './substitute';
import type { DevContainerConfig } from './types';
import { workspaceConfiguration, type WorkspaceConfig } from './workspace';

export interface ReadConfigurationOptions {
  /** Absolute path of the workspace folder. */
  readonly workspaceFolder: string;
  /** Absolute path of the chosen devcontainer.json; found in the workspace when absent. */
  readonly configFile?: string;
  /** Environment for ${localEnv:...}. */
  readonly env: NodeJS.ProcessEnv;
  readonly mountGitRoot?: boolean;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

export interface ReadConfigurationResult {
  readonly configFile: string;
  /** As written, after moving deprecated properties; no variables substituted. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** After local substitution. ${devcontainerId} and ${containerEnv:...} remain. */
  readonly config: DevContainerConfig;
  readonly workspace: WorkspaceConfig;
  readonly diagnostics: readonly ConfigDiagnostic[];
}

/**
 * Moves the deprecated top-level `extensions`, `settings` and `devPort` into
 * `customizations.vscode`, as the spec's reference implementation does.
 */
export function moveDeprecatedProperties(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!(config['extensions'] || config['settings'] || config['devPort'] !== undefined)) return { ...config };
  const copy: Record<string, unknown> = { ...config };
  const customizations = { ...((copy['customizations'] as Record<string, unknown> | undefined) ?? {}) };
  const vscode = { ...((customizations['vscode'] as Record<string, unknown> | undefined) ?? {}) };
  if (copy['extensions']) {
    vscode['extensions'] = [...((vscode['extensions'] as unknown[] | undefined) ?? []), ...(copy['extensions'] as unknown[])];
    delete copy['extensions'];
  }
  if (copy['settings']) {
    vscode['settings'] = { ...(copy['settings']), ...((vscode['settings']) ?? {}) };
    delete copy['settings'];
  }
  if (copy['devPort'] !== undefined && vscode['devPort'] === undefined) {
    vscode['devPort'] = copy['devPort'];
    delete copy['devPort'];
  }
  customizations['vscode'] = vscode;
  copy['customizations'] = customizations;
  return copy;
}

async function readText(file: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    return await readFile(file, { encoding: 'utf8', ...(signal ? { signal } : {}) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BerthError('not_found', `Dev container config (${file}) not found.`, { cause: err, details: { file } });
    if (code === 'EISDIR') throw new BerthError('invalid_argument', `Dev container config (${file}) is a directory.`, { cause: err, details: { file } });
    throw new BerthError('unavailable', `cannot read ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
}

export async function readConfiguration(options: ReadConfigurationOptions): Promise<ReadConfigurationResult> {
  const { signal, logger } = options;
  const configFile = await chooseConfigFile(options.workspaceFolder, options.configFile, signal ? { signal } : {});
  logger?.debug('reading configuration', { file: configFile });
  const text = await readText(configFile, signal);
  const parsed = parseConfigText(text, configFile);
  for (const d of parsed.diagnostics) logger?.warn(formatDiagnostic(d));
  const raw = moveDeprecatedProperties(parsed.raw);
  const defaults = await workspaceConfiguration(raw, options.workspaceFolder, {
    ...(options.mountGitRoot === undefined ? {} : { mountGitRoot: options.mountGitRoot }),
    ...(signal ? { signal } : {}),
  });
  const config = substituteLocal(raw, {
    env: options.env,
    localWorkspaceFolder: options.workspaceFolder,
    ...(defaults.workspaceFolder === undefined ? {} : { containerWorkspaceFolder: defaults.workspaceFolder }),
    configFile,
  });
  const workspace: { workspaceFolder?: string; workspaceMount?: string } = { ...defaults };
  // Set properties win over the defaults, as substituted.
  if (typeof config['workspaceFolder'] === 'string') workspace.workspaceFolder = config['workspaceFolder'];
  if (typeof config['workspaceMount'] === 'string') workspace.workspaceMount = config['workspaceMount'];
  return {
    configFile,
    raw: Object.freeze(raw),
    config: Object.freeze(config) as DevContainerConfig,
    workspace: Object.freeze(workspace),
    diagnostics: parsed.diagnostics,
  };
}

/** The absolute path for a user-given path, relative to `cwd`. */
export function resolveUserPath(cwd: string, p: string): string {
  return path.resolve(cwd, p);
}
