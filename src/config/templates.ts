/**
 * Dev container templates (containers.dev/implementors/templates): read
 * their metadata, resolve options, and apply one to a workspace with
 * ${templateOption:x} substituted. Applying never overwrites a user's file
 * unless asked.
 */
import { copyFile, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../common/errors';
import { arrayOf, bool, objectOf, oneOfStrings, recordOf, str, union, type Issue, type Schema } from '../common/schema';
import { substituteTemplateOptions } from './substitute';

export interface TemplateOption {
  readonly type: 'string' | 'boolean';
  readonly description?: string;
  readonly default: string | boolean;
  /** Closed set of values. */
  readonly enum?: readonly string[];
  /** Suggestions only. */
  readonly proposals?: readonly string[];
}

export interface TemplateMetadata {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  readonly description?: string;
  readonly documentationURL?: string;
  readonly licenseURL?: string;
  readonly publisher?: string;
  readonly platforms?: readonly string[];
  readonly keywords?: readonly string[];
  readonly options?: Readonly<Record<string, TemplateOption>>;
  /** Folder of the template (set when read). */
  readonly dir: string;
}

export const TEMPLATE_METADATA_FILE = 'devcontainer-template.json';
/** Files of a template folder that describe it and are not copied. */
const NOT_COPIED = new Set([TEMPLATE_METADATA_FILE, 'README.md', 'NOTES.md']);

function metadataSchema(): Schema {
  const option = objectOf(
    {
      type: oneOfStrings(['string', 'boolean']),
      description: str(),
      default: union(str(), bool()),
      enum: arrayOf(str()),
      proposals: arrayOf(str()),
    },
    { required: ['type', 'default'], unknown: 'warning' },
  );
  return objectOf(
    {
      id: str({ pattern: /^[a-z0-9][a-z0-9._-]*$/, patternText: 'a lowercase id ([a-z0-9._-])' }),
      version: str({ pattern: /^\d+\.\d+\.\d+/, patternText: 'a semantic version' }),
      name: str({ nonEmpty: true }),
      description: str(),
      documentationURL: str(),
      licenseURL: str(),
      publisher: str(),
      platforms: arrayOf(str()),
      keywords: arrayOf(str()),
      options: recordOf(option),
      optionalPaths: arrayOf(str()),
    },
    { required: ['id', 'version', 'name'], unknown: 'warning' },
  );
}

export async function readTemplate(dir: string, options: { signal?: AbortSignal } = {}): Promise<TemplateMetadata> {
  const file = path.join(dir, TEMPLATE_METADATA_FILE);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, { encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'invalid_argument';
    throw new BerthError(code, `cannot read template metadata ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
  const issues: Issue[] = [];
  const errors = metadataSchema().check(value, [], issues) ? [] : issues.filter((i) => i.severity === 'error');
  const meta = value as Omit<TemplateMetadata, 'dir'>;
  for (const [name, opt] of Object.entries(errors.length === 0 ? (meta.options ?? {}) : {})) {
    if (typeof opt.default !== opt.type) errors.push({ severity: 'error', path: ['options', name, 'default'], message: `default must be a ${opt.type}` });
    if (opt.enum && !opt.enum.includes(String(opt.default))) {
      errors.push({ severity: 'error', path: ['options', name, 'default'], message: `default "${String(opt.default)}" is not in enum` });
    }
  }
  if (errors.length === 0 && meta.id !== path.basename(dir)) {
    errors.push({ severity: 'error', path: ['id'], message: `id "${meta.id}" must match the folder name "${path.basename(dir)}"` });
  }
  if (errors.length > 0) {
    const text = errors.map((e) => `${e.path.join('.') || '(root)'}: ${e.message}`).join('; ');
    throw new BerthError('invalid_argument', `invalid template metadata ${file}: ${text}`, { details: { file } });
  }
  return Object.freeze({ ...meta, dir });
}

/** Every template folder under `templatesDir`, sorted by id. */
export async function listTemplates(templatesDir: string, options: { signal?: AbortSignal } = {}): Promise<TemplateMetadata[]> {
  const entries = await readdir(templatesDir, { withFileTypes: true });
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => path.join(templatesDir, e.name));
  const templates = await Promise.all(dirs.map((d) => readTemplate(d, options)));
  return templates.sort((a, b) => a.id.localeCompare(b.id));
}

/** Defaults filled in, values checked against `enum`, booleans as "true"/"false". */
export function resolveTemplateOptions(meta: TemplateMetadata, given: Readonly<Record<string, string | boolean>>): Record<string, string> {
  const declared = meta.options ?? {};
  for (const name of Object.keys(given)) {
    if (!(name in declared)) {
      const known = Object.keys(declared);
      throw new BerthError('invalid_argument', `template ${meta.id} has no option "${name}"${known.length ? ` (options: ${known.join(', ')})` : ''}`);
    }
  }
  const out: Record<string, string> = {};
  for (const [name, opt] of Object.entries(declared)) {
    const raw = given[name] ?? opt.default;
    let value: string;
    if (opt.type === 'boolean') {
      if (raw === true || raw === 'true') value = 'true';
      else if (raw === false || raw === 'false') value = 'false';
      else throw new BerthError('invalid_argument', `template option ${name} must be true or false (got "${String(raw)}")`);
    } else {
      value = String(raw);
      if (opt.enum && !opt.enum.includes(value)) {
        throw new BerthError('invalid_argument', `template option ${name} must be one of ${opt.enum.join(', ')} (got "${value}")`);
      }
    }
    out[name] = value;
  }
  return out;
}

async function filesOf(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) out.push(...(await filesOf(dir, child)));
    else if (entry.isFile() && !(rel === '' && NOT_COPIED.has(entry.name))) out.push(child);
  }
  return out.sort();
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

function isText(buf: Buffer): boolean {
  return !buf.subarray(0, 8000).includes(0);
}

export interface ApplyOptions {
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Copies the template's files into `workspace` with its options substituted
 * in text files. Refuses (already_exists, nothing written) if any target
 * exists, unless `overwrite`. Returns the written paths, relative.
 */
export async function applyTemplate(
  meta: TemplateMetadata,
  workspace: string,
  given: Readonly<Record<string, string | boolean>>,
  options: ApplyOptions = {},
): Promise<string[]> {
  const values = resolveTemplateOptions(meta, given);
  const files = await filesOf(meta.dir);
  if (!options.overwrite) {
    const clashes: string[] = [];
    for (const rel of files) if (await exists(path.join(workspace, rel))) clashes.push(rel);
    if (clashes.length > 0) {
      throw new BerthError('already_exists', `${workspace} already has ${clashes.join(', ')}; nothing was written (use overwrite to replace)`, {
        details: { files: clashes },
      });
    }
  }
  for (const rel of files) {
    options.signal?.throwIfAborted();
    const source = path.join(meta.dir, rel);
    const target = path.join(workspace, rel);
    await mkdir(path.dirname(target), { recursive: true });
    const content = await readFile(source);
    if (isText(content)) await writeFile(target, substituteTemplateOptions(content.toString('utf8'), values));
    else await copyFile(source, target);
  }
  return files;
}
