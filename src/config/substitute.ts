/**
 * Variable substitution in devcontainer.json values, as the Dev Containers
 * spec (and its reference implementation) defines it. Keys are never
 * substituted, only string values, recursively.
 *
 * Phases:
 * - local:     ${localEnv:X[:default]} (alias ${env:X}), ${localWorkspaceFolder},
 *              ${localWorkspaceFolderBasename}, ${containerWorkspaceFolder},
 *              ${containerWorkspaceFolderBasename}
 * - id:        ${devcontainerId}, once the container's id labels are known
 * - container: ${containerEnv:X[:default]}, against the running container's env
 * - template:  ${templateOption:x}, when a template is applied
 * Unknown variables are left as written.
 */
import path from 'node:path';
import { createHash } from 'node:crypto';
import { BerthError } from '../common/errors';

export type Replacer = (match: string, name: string, args: readonly string[]) => string;

const VARIABLE = /\$\{(.*?)\}/g;

export function substituteString(value: string, replace: Replacer): string {
  return value.replace(VARIABLE, (match: string, inner: string) => {
    const [name = '', ...args] = inner.split(':');
    return replace(match, name, args);
  });
}

/** Substitutes every string value inside `value` (arrays and objects recursively). */
export function substituteValue<T>(value: T, replace: Replacer): T {
  if (typeof value === 'string') return substituteString(value, replace) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => substituteValue(v, replace)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = substituteValue(v, replace);
    return out as T;
  }
  return value;
}

function lookupEnv(env: NodeJS.ProcessEnv, args: readonly string[], match: string, file: string | undefined): string {
  const [name, fallback] = args;
  if (name === undefined) {
    throw new BerthError(
      'invalid_argument',
      `'${match}'${file ? ` in ${path.basename(file)}` : ''} can not be resolved because no environment variable name is given.`,
      file ? { details: { file } } : {},
    );
  }
  const found = env[name];
  if (typeof found === 'string') return found;
  // A missing variable is empty, like in a shell, unless a default is given.
  return fallback ?? '';
}

export interface LocalContext {
  readonly env: NodeJS.ProcessEnv;
  readonly localWorkspaceFolder?: string;
  readonly containerWorkspaceFolder?: string;
  readonly configFile?: string;
}

export function localReplacer(context: LocalContext): Replacer {
  let containerFolder = context.containerWorkspaceFolder;
  const replace: Replacer = (match, name, args) => {
    switch (name) {
      case 'env':
      case 'localEnv':
        return lookupEnv(context.env, args, match, context.configFile);
      case 'localWorkspaceFolder':
        return context.localWorkspaceFolder ?? match;
      case 'localWorkspaceFolderBasename':
        return context.localWorkspaceFolder !== undefined ? path.basename(context.localWorkspaceFolder) : match;
      case 'containerWorkspaceFolder':
        return containerFolder ?? match;
      case 'containerWorkspaceFolderBasename':
        return containerFolder !== undefined ? path.posix.basename(containerFolder) : match;
      default:
        return match;
    }
  };
  // The container folder may itself contain local variables (e.g. its basename).
  if (containerFolder !== undefined) containerFolder = substituteString(containerFolder, replace);
  return replace;
}

/** Local-phase substitution of a whole configuration value. */
export function substituteLocal<T>(value: T, context: LocalContext): T {
  return substituteValue(value, localReplacer(context));
}

/**
 * ${devcontainerId}: SHA-256 of the JSON of the id labels with sorted keys,
 * as an unsigned integer in base 32, left-padded with zeros to 52 characters.
 */
export function devcontainerId(idLabels: Readonly<Record<string, string>>): string {
  const json = JSON.stringify(idLabels, Object.keys(idLabels).sort());
  const hash = createHash('sha256').update(json, 'utf8').digest('hex');
  return BigInt(`0x${hash}`).toString(32).padStart(52, '0');
}

export function substituteDevcontainerId<T>(value: T, idLabels: Readonly<Record<string, string>>): T {
  let id: string | undefined;
  return substituteValue(value, (match, name) => (name === 'devcontainerId' ? (id ??= devcontainerId(idLabels)) : match));
}

/** ${containerEnv:X[:default]} against the container's environment (remoteEnv and later phases). */
export function substituteContainerEnv<T>(value: T, containerEnv: NodeJS.ProcessEnv, configFile?: string): T {
  return substituteValue(value, (match, name, args) =>
    name === 'containerEnv' ? lookupEnv(containerEnv, args, match, configFile) : match,
  );
}

/** ${templateOption:x} with the resolved template options; unknown options are left as written. */
export function substituteTemplateOptions(text: string, options: Readonly<Record<string, string>>): string {
  return substituteString(text, (match, name, args) => {
    if (name !== 'templateOption') return match;
    const key = args[0]?.trim();
    return key !== undefined && Object.prototype.hasOwnProperty.call(options, key) ? (options[key] ?? match) : match;
  });
}

/** Parses a "KEY=VALUE" list (such as a container's Env) into an object. */
export function envListToObject(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
