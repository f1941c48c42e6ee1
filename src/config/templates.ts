/**
 * Dev container templates (containers.dev/implementors/templates): read and
 * check their metadata, resolve options, and apply one to a workspace with
 * ${templateOption:x} substituted in every text file. Applying never
 * overwrites a user's file unless asked, and writes nothing when it refuses.
 */
import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, type ErrorCode } from '../common/errors';
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
  readonly optionalPaths?: readonly string[];
  /** Folder of the template (set when read). */
  readonly dir: string;
}

export interface ApplyOptions {
  /** Replace files that already exist (default: refuse and write nothing). */
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
}

export type TemplateOptionValues = Readonly<Record<string, string | boolean>>;

export const TEMPLATE_METADATA_FILE = 'devcontainer-template.json';
/** Files at the root of a template that describe it and are not copied. */
const NOT_COPIED = new Set([TEMPLATE_METADATA_FILE, 'README.md', 'NOTES.md']);
/** Option names as the reference implementation matches them in ${templateOption:name}. */
const OPTION_NAME = /^\w+$/;
const OPTION_REFERENCE = /\$\{templateOption:([^}]*)\}/g;

/** Values are written into JSON and YAML as they are: quotes, backslashes and control characters would break the files. */
function isUnsafeValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function metadataSchema(): Schema {
  const option = objectOf(
    {
      type: oneOfStrings(['string', 'boolean']),
      description: str(),
      default: union(str(), bool()),
      enum: arrayOf(str()),
      proposals: arrayOf(str()),
    },
    { required: ['type', 'default'] },
  );
  const optionName = (key: string): string | undefined =>
    OPTION_NAME.test(key) ? undefined : `option name "${key}" must be letters, digits and "_"`;
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
      options: recordOf(option, { key: optionName }),
      optionalPaths: arrayOf(str()),
    },
    { required: ['id', 'version', 'name'] },
  );
}

function checkOptionDefaults(options: Readonly<Record<string, TemplateOption>>): Issue[] {
  const issues: Issue[] = [];
  for (const [name, opt] of Object.entries(options)) {
    const at = ['options', name, 'default'];
    if (typeof opt.default !== opt.type) issues.push({ severity: 'error', path: at, message: `default must be a ${opt.type}` });
    else if (opt.enum && !opt.enum.includes(String(opt.default))) {
      issues.push({ severity: 'error', path: at, message: `default "${String(opt.default)}" is not in enum` });
    } else if (typeof opt.default === 'string' && isUnsafeValue(opt.default)) {
      issues.push({ severity: 'error', path: at, message: 'default must not contain quotes, backslashes or control characters' });
    }
  }
  return issues;
}

/**
 * Every problem in a parsed devcontainer-template.json: errors, and warnings
 * such as unknown properties. `folderName` is the template's folder, which
 * the id must match.
 */
export function checkTemplateMetadata(value: unknown, folderName: string): Issue[] {
  const issues: Issue[] = [];
  if (!metadataSchema().check(value, [], issues)) return issues;
  const meta = value as Omit<TemplateMetadata, 'dir'>;
  issues.push(...checkOptionDefaults(meta.options ?? {}));
  if (meta.id !== folderName) issues.push({ severity: 'error', path: ['id'], message: `id "${meta.id}" must match the folder name "${folderName}"` });
  return issues;
}

function errorCodeOf(err: unknown): ErrorCode {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'not_found';
    case 'EEXIST':
      return 'already_exists';
    case 'ABORT_ERR':
      return 'cancelled';
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'failed_precondition';
    default:
      return 'internal';
  }
}

function fsError(err: unknown, what: string, file: string): BerthError {
  if (err instanceof BerthError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError(errorCodeOf(err), `${what} ${file}: ${message}`, { cause: err, details: { file } });
}

/** Reads and checks `dir`/devcontainer-template.json. */
export async function readTemplate(dir: string, opts: { signal?: AbortSignal } = {}): Promise<TemplateMetadata> {
  const file = path.join(dir, TEMPLATE_METADATA_FILE);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, { encoding: 'utf8', ...(opts.signal ? { signal: opts.signal } : {}) }));
  } catch (err) {
    const code = err instanceof SyntaxError ? 'invalid_argument' : errorCodeOf(err);
    throw new BerthError(code, `cannot read template metadata ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
  const errors = checkTemplateMetadata(value, path.basename(dir)).filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    const text = errors.map((e) => `${e.path.join('.') || '(root)'}: ${e.message}`).join('; ');
    throw new BerthError('invalid_argument', `invalid template metadata ${file}: ${text}`, { details: { file, path: errors[0]?.path.join('.') } });
  }
  return Object.freeze({ ...(value as Omit<TemplateMetadata, 'dir'>), dir });
}

/** Every template folder under `templatesDir` (hidden folders aside), sorted by id. */
export async function listTemplates(templatesDir: string, opts: { signal?: AbortSignal } = {}): Promise<TemplateMetadata[]> {
  let entries;
  try {
    entries = await readdir(templatesDir, { withFileTypes: true });
  } catch (err) {
    throw fsError(err, 'cannot list templates in', templatesDir);
  }
  opts.signal?.throwIfAborted();
  const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => path.join(templatesDir, e.name));
  const templates = await Promise.all(dirs.map((d) => readTemplate(d, opts)));
  return templates.sort((a, b) => a.id.localeCompare(b.id));
}

function unknownOption(meta: TemplateMetadata, name: string): BerthError {
  const known = Object.keys(meta.options ?? {});
  const list = known.length > 0 ? ` (options: ${known.join(', ')})` : ' (it has no options)';
  return new BerthError('invalid_argument', `template ${meta.id} has no option "${name}"${list}`, { details: { path: name } });
}

function resolveOne(name: string, opt: TemplateOption, raw: string | boolean): string {
  const bad = (why: string): BerthError =>
    new BerthError('invalid_argument', `template option ${name} ${why} (got ${JSON.stringify(raw)})`, { details: { path: name } });
  if (opt.type === 'boolean') {
    if (raw === true || raw === 'true') return 'true';
    if (raw === false || raw === 'false') return 'false';
    throw bad('must be true or false');
  }
  const value = String(raw);
  if (opt.enum && !opt.enum.includes(value)) throw bad(`must be one of ${opt.enum.join(', ')}`);
  if (isUnsafeValue(value)) throw bad('must not contain quotes, backslashes or control characters');
  return value;
}

/**
 * Every declared option with a value: the given one or the default. Unknown
 * options and values outside `enum` are refused; `proposals` are only
 * suggestions. Booleans become "true"/"false".
 */
export function resolveTemplateOptions(meta: TemplateMetadata, given: TemplateOptionValues): Record<string, string> {
  const declared = meta.options ?? {};
  for (const name of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(declared, name)) throw unknownOption(meta, name);
  }
  const out: Record<string, string> = {};
  for (const [name, opt] of Object.entries(declared)) {
    out[name] = resolveOne(name, opt, Object.prototype.hasOwnProperty.call(given, name) ? (given[name] ?? opt.default) : opt.default);
  }
  return out;
}

/** The option names a text refers to with ${templateOption:name}, in order, without repeats. */
export function templateOptionReferences(text: string): string[] {
  return [...new Set([...text.matchAll(OPTION_REFERENCE)].map((m) => (m[1] ?? '').trim()))];
}

/** The files a template copies, relative to its folder, sorted. Links and special files are skipped. */
export async function templateFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) out.push(...(await templateFiles(dir, child)));
    else if (entry.isFile() && !(rel === '' && NOT_COPIED.has(entry.name))) out.push(child);
  }
  return out.sort();
}

interface RenderedFile {
  readonly rel: string;
  readonly content: Buffer;
  readonly mode: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of a file, or undefined for a binary one (a NUL byte, or not UTF-8). */
function textOf(content: Buffer): string | undefined {
  if (content.includes(0)) return undefined;
  try {
    return UTF8.decode(content);
  } catch {
    return undefined;
  }
}

async function renderFile(meta: TemplateMetadata, rel: string, values: Readonly<Record<string, string>>): Promise<RenderedFile> {
  const source = path.join(meta.dir, rel);
  const [content, info] = await Promise.all([readFile(source), stat(source)]);
  const mode = info.mode & 0o777;
  const text = textOf(content);
  if (text === undefined) return { rel, content, mode };
  const undeclared = templateOptionReferences(text).filter((name) => !Object.prototype.hasOwnProperty.call(values, name));
  if (undeclared.length > 0) {
    throw new BerthError('invalid_argument', `template ${meta.id}: ${rel} refers to undeclared option(s) ${undeclared.join(', ')}`, {
      details: { file: source },
    });
  }
  return { rel, content: Buffer.from(substituteTemplateOptions(text, values), 'utf8'), mode };
}

type TargetState = 'absent' | 'file' | { readonly problem: string };

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, 'cannot inspect', p);
  }
}

/** Whether a folder on the way to a target is usable: absent (to be made) or a folder (a link to one is fine). */
async function parentProblem(dir: string): Promise<string | undefined> {
  const info = await lstatOrUndefined(dir);
  if (info === undefined || info.isDirectory()) return undefined;
  const target = info.isSymbolicLink() ? await stat(dir).catch(() => undefined) : undefined;
  return target?.isDirectory() ? undefined : `${dir} is in the way of a folder`;
}

/** What is at a target path now; a folder there (or in the way) is a problem even with overwrite. */
async function targetState(workspace: string, rel: string): Promise<TargetState> {
  const parts = rel.split(path.sep);
  for (let i = 1; i < parts.length; i++) {
    const problem = await parentProblem(path.join(workspace, ...parts.slice(0, i)));
    if (problem !== undefined) return { problem };
  }
  const target = path.join(workspace, rel);
  const info = await lstatOrUndefined(target);
  if (info === undefined) return 'absent';
  return info.isDirectory() ? { problem: `${target} is a folder` } : 'file';
}

async function checkWorkspace(workspace: string): Promise<void> {
  const info = await stat(workspace).catch((err: unknown) => {
    throw fsError(err, 'cannot apply a template to', workspace);
  });
  if (!info.isDirectory()) throw new BerthError('invalid_argument', `${workspace} is not a folder`, { details: { file: workspace } });
}

/** What one apply created, so that a failure can take it back without touching anything else. */
interface Created {
  readonly files: string[];
  readonly dirs: string[];
}

async function rollBack(created: Created): Promise<void> {
  for (const file of created.files.reverse()) await rm(file, { force: true }).catch(() => undefined);
  // Deepest first; a folder someone else put something in meanwhile stays.
  const dirs = created.dirs.sort((a, b) => b.length - a.length);
  for (const dir of dirs) await rmdir(dir).catch(() => undefined);
}

async function makeParents(workspace: string, target: string, created: Created): Promise<void> {
  const first = await mkdir(path.dirname(target), { recursive: true });
  if (first === undefined) return;
  for (let dir = path.dirname(target); dir.length >= first.length && dir !== workspace; dir = path.dirname(dir)) created.dirs.push(dir);
}

async function writeOne(workspace: string, file: RenderedFile, existed: boolean, opts: ApplyOptions, created: Created): Promise<void> {
  const target = path.join(workspace, file.rel);
  try {
    await makeParents(workspace, target, created);
    // Replace a link itself rather than write through it to a file elsewhere.
    if (existed && (await lstat(target)).isSymbolicLink()) await rm(target);
    // 'wx' fails instead of replacing a file that appeared since the check.
    await writeFile(target, file.content, { flag: opts.overwrite ? 'w' : 'wx', mode: file.mode });
    if (!existed) created.files.push(target);
    if (existed) await chmod(target, file.mode);
  } catch (err) {
    throw fsError(err, 'cannot write', target);
  }
}

/** The targets that exist already; refuses when any cannot be written at all, or exists and `overwrite` is off. */
async function checkTargets(workspace: string, files: readonly RenderedFile[], overwrite: boolean): Promise<Set<string>> {
  const states = await Promise.all(files.map(async (f) => [f.rel, await targetState(workspace, f.rel)] as const));
  const problems = states.flatMap(([, state]) => (typeof state === 'object' ? [state.problem] : []));
  if (problems.length > 0) {
    throw new BerthError('failed_precondition', `cannot apply the template: ${problems.join('; ')}; nothing was written`, {
      details: { file: workspace },
    });
  }
  const clashes = states.filter(([, state]) => state === 'file').map(([rel]) => rel);
  if (clashes.length > 0 && !overwrite) {
    throw new BerthError('already_exists', `${workspace} already has ${clashes.join(', ')}; nothing was written (overwrite to replace)`, {
      details: { file: workspace, files: clashes },
    });
  }
  return new Set(clashes);
}

/**
 * Copies a template's files (all but its metadata, README.md and NOTES.md)
 * into `workspace`, with ${templateOption:x} replaced in every text file.
 * `template` is the template's folder or its metadata. If any target exists,
 * refuses (already_exists) and writes nothing, unless `overwrite`; a folder
 * where a file goes (or a file where a folder goes) is always refused
 * (failed_precondition). If writing fails midway, removes what it created.
 * Returns the written paths, relative to `workspace`.
 */
export async function applyTemplate(
  template: string | TemplateMetadata,
  workspace: string,
  given: TemplateOptionValues,
  opts: ApplyOptions = {},
): Promise<string[]> {
  const meta = typeof template === 'string' ? await readTemplate(template, opts) : template;
  const values = resolveTemplateOptions(meta, given);
  const root = path.resolve(workspace);
  await checkWorkspace(root);
  const files = await templateFiles(meta.dir).catch((err: unknown) => {
    throw fsError(err, 'cannot read template', meta.dir);
  });
  const rendered: RenderedFile[] = [];
  for (const rel of files) {
    opts.signal?.throwIfAborted();
    rendered.push(await renderFile(meta, rel, values));
  }
  const clashes = await checkTargets(root, rendered, opts.overwrite === true);
  const created: Created = { files: [], dirs: [] };
  try {
    for (const file of rendered) {
      opts.signal?.throwIfAborted();
      await writeOne(root, file, clashes.has(file.rel), opts, created);
    }
  } catch (err) {
    await rollBack(created);
    throw err;
  }
  return rendered.map((f) => f.rel);
}
