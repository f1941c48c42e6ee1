/**
 * Loads a Compose project: reads the files (YAML, `<<` merge keys), the
 * project's `.env`, interpolates variables (the shell's environment over
 * `.env`), merges the files in order, names the project and normalizes it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../common/errors';
import { readEnvFile } from './env-file';
import { interpolateTree } from './interpolate';
import { mergeFiles } from './merge';
import { envFilePaths, normalizeProject } from './normalize';
import { projectName } from './project-name';
import type { ComposeProject } from './types';

export interface LoadOptions {
  /** Compose files in order (absolute or relative to cwd). */
  readonly files: readonly string[];
  readonly cwd: string;
  /** `-p`: overrides every other source of the name; a function picks it from the candidates (the Dev Containers CLI's rules). */
  readonly projectName?: string | ((candidates: NameCandidates) => string);
  /** Enabled profiles (default: COMPOSE_PROFILES). */
  readonly profiles?: readonly string[];
  /** `--env-file` (default: .env in the project folder, if there). */
  readonly envFile?: string;
  /** `--project-directory` (default: the first file's folder). */
  readonly projectDir?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

type Raw = Record<string, unknown>;

export interface NameCandidates {
  /** COMPOSE_PROJECT_NAME from the environment. */
  readonly env?: string | undefined;
  /** The `name:` one of the files sets. */
  readonly fileName?: string | undefined;
  readonly workingDir: string;
}

/** Parses one file's YAML; errors name the file, line and column. */
export function parseComposeYaml(text: string, file: string): Raw {
  // yaml is loaded on first use: `berth up` without compose starts faster.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parseDocument } = require('yaml') as typeof import('yaml');
  const doc = parseDocument(text, { merge: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    throw new BerthError('invalid_argument', `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${err.message.split('\n')[0] ?? ''}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new BerthError('invalid_argument', `${file}: a Compose file is a mapping at the top`);
  return value as Raw;
}

export async function loadProject(o: LoadOptions): Promise<ComposeProject> {
  if (o.files.length === 0) throw new BerthError('invalid_argument', 'no Compose file given');
  const s = o.signal ? { signal: o.signal } : {};
  const files = o.files.map((f) => path.resolve(o.cwd, f));
  const workingDir = path.resolve(o.cwd, o.projectDir ?? path.dirname(files[0] as string));
  const dotEnv = await readEnvFile(o.envFile ? path.resolve(o.cwd, o.envFile) : path.join(workingDir, '.env'), { optional: !o.envFile, ...s });
  const lookup = (name: string): string | undefined => o.env[name] ?? dotEnv[name];
  const parsed: Raw[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, { encoding: 'utf8', ...s });
    } catch (err) {
      throw new BerthError('not_found', `Compose file ${file} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    parsed.push(interpolateTree(parseComposeYaml(text, file), lookup, path.basename(file)) as Raw);
  }
  const raw = mergeFiles(parsed);
  const candidates = { env: lookup('COMPOSE_PROJECT_NAME'), fileName: typeof raw['name'] === 'string' ? raw['name'] : undefined, workingDir };
  const name = typeof o.projectName === 'function' ? o.projectName(candidates) : projectName({ flag: o.projectName, ...candidates });
  const envFiles = new Map<string, Record<string, string>>();
  for (const svc of Object.values((raw['services'] ?? {}) as Raw)) {
    for (const f of envFilePaths(svc, workingDir)) if (!envFiles.has(f.path)) envFiles.set(f.path, await readEnvFile(f.path, { optional: !f.required, ...s }));
  }
  const profiles = o.profiles ?? (lookup('COMPOSE_PROFILES') ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return normalizeProject(raw, { name, workingDir, configFiles: files, profiles, lookup, envFiles });
}
