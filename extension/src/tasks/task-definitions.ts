/**
 * Tasks in a container: the `berth` task type's definition, the command
 * line the agent runs for it (`sh -c`), and the `shell`/`process` tasks of a
 * workspace's `.vscode/tasks.json` turned into `berth` tasks with the same
 * label (VS Code drops those two types in a virtual workspace such as
 * berth-container://). Pure: no vscode import, unit-tested.
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { BerthError } from '../../../src/common/errors';

export const BERTH_TASK_TYPE = 'berth';

/** A shell argument as tasks.json writes it: a string, or a value with its quoting. */
export type TaskArg = string | { readonly value: string | readonly string[]; readonly quoting?: 'escape' | 'strong' | 'weak' };

export interface BerthTaskDefinition {
  readonly type: typeof BERTH_TASK_TYPE;
  readonly command: string;
  readonly args?: readonly TaskArg[];
  /** true: `command` and `args` are one process, run without a shell's word splitting (tasks.json `process`). */
  readonly process?: boolean;
  /** Working directory in the container; default: the workspace folder. `${workspaceFolder}` is replaced. */
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** A tasks.json task ready to offer as a `berth` task. */
export interface JsonTask {
  readonly label: string;
  readonly definition: BerthTaskDefinition;
  readonly group?: 'build' | 'test';
  readonly isBackground?: boolean;
  readonly problemMatchers: readonly string[];
  readonly detail?: string;
}

/** The variables a task's strings may use, as the container sees them. */
export interface TaskVariables {
  readonly workspaceFolder: string;
}

const SAFE = /^[\w@%+=:,./-]+$/;

function strong(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes one argument for `sh -c` as VS Code's tasks do: plain words stay, others are quoted. */
export function quoteArg(arg: TaskArg): string {
  if (typeof arg === 'string') return arg === '' ? "''" : SAFE.test(arg) ? arg : strong(arg);
  const value = Array.isArray(arg.value) ? arg.value.join(' ') : (arg.value as string);
  if (arg.quoting === 'escape') return value.replace(/([^\w@%+=:,./-])/g, '\\$1');
  if (arg.quoting === 'weak') return `"${value.replace(/(["\\$`])/g, '\\$1')}"`;
  return value === '' ? "''" : SAFE.test(value) ? value : strong(value);
}

export function substitute(text: string, vars: TaskVariables): string {
  const base = vars.workspaceFolder.split('/').filter(Boolean).pop() ?? '';
  return text.replace(/\$\{workspaceFolder\}/g, vars.workspaceFolder).replace(/\$\{workspaceFolderBasename\}/g, base).replace(/\$\{workspaceRoot\}/g, vars.workspaceFolder);
}

/** The `sh -c` command line of a task: a shell task's line as written, a process as quoted words run with exec. */
export function commandLine(def: BerthTaskDefinition, vars: TaskVariables): string {
  const command = substitute(def.command, vars);
  const args = (def.args ?? []).map((a) => quoteArg(typeof a === 'string' ? substitute(a, vars) : { ...a, value: Array.isArray(a.value) ? a.value.map((v: string) => substitute(v, vars)) : substitute(a.value as string, vars) }));
  if (def.process) return ['exec', quoteArg(command), ...args].join(' ');
  return [command, ...args].join(' ');
}

/** The working directory of a task in the container: its cwd (variables replaced) or the workspace folder. */
export function taskCwd(def: BerthTaskDefinition, vars: TaskVariables): string {
  const cwd = def.cwd ? substitute(def.cwd, vars) : vars.workspaceFolder;
  return cwd.startsWith('/') ? cwd : `${vars.workspaceFolder}/${cwd}`;
}

export function taskEnv(def: BerthTaskDefinition, vars: TaskVariables): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(def.env ?? {})) env[k] = substitute(String(v), vars);
  return env;
}

/** Checks a definition from tasks.json or a provider; undefined when it is not a runnable `berth` task. */
export function asBerthDefinition(value: unknown): BerthTaskDefinition | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v['type'] !== BERTH_TASK_TYPE || typeof v['command'] !== 'string' || v['command'] === '') return undefined;
  const args = Array.isArray(v['args']) ? (v['args'] as unknown[]).filter(isArg) : undefined;
  const env = typeof v['env'] === 'object' && v['env'] !== null ? stringRecord(v['env']) : undefined;
  return Object.freeze({
    type: BERTH_TASK_TYPE,
    command: v['command'],
    ...(args && args.length > 0 ? { args } : {}),
    ...(v['process'] === true ? { process: true } : {}),
    ...(typeof v['cwd'] === 'string' ? { cwd: v['cwd'] } : {}),
    ...(env && Object.keys(env).length > 0 ? { env } : {}),
  });
}

function isArg(a: unknown): a is TaskArg {
  if (typeof a === 'string') return true;
  if (typeof a !== 'object' || a === null) return false;
  const value = (a as { value?: unknown }).value;
  return typeof value === 'string' || (Array.isArray(value) && value.every((x) => typeof x === 'string'));
}

function stringRecord(value: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  return out;
}

type Raw = Record<string, unknown>;

/** A task with its `linux` section merged in (the container is Linux), and the file's global options under it. */
function effective(task: Raw, globals: Raw): Raw {
  const linux = typeof task['linux'] === 'object' && task['linux'] !== null ? (task['linux'] as Raw) : {};
  const globalLinux = typeof globals['linux'] === 'object' && globals['linux'] !== null ? (globals['linux'] as Raw) : {};
  const options = (o: unknown): Raw => (typeof o === 'object' && o !== null ? (o as Raw) : {});
  const merged: Raw = { ...task, ...linux };
  const opts = { ...options(globals['options']), ...options(globalLinux['options']), ...options(task['options']), ...options(linux['options']) };
  const env = { ...options(options(globals['options'])['env']), ...options(options(globalLinux['options'])['env']), ...options(options(task['options'])['env']), ...options(options(linux['options'])['env']) };
  merged['options'] = { ...opts, env };
  return merged;
}

function group(value: unknown): { group?: 'build' | 'test' } {
  const kind = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as Raw)['kind'] : undefined;
  return kind === 'build' || kind === 'test' ? { group: kind } : {};
}

function matchers(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((m): m is string => typeof m === 'string') : [];
}

/**
 * The `shell` and `process` tasks of a tasks.json text (JSONC), as `berth`
 * tasks with the same label. Tasks without a command (dependsOn only) and
 * other types are left out.
 */
export function tasksFromJson(text: string): JsonTask[] {
  const errors: ParseError[] = [];
  const root = parse(text, errors, { allowTrailingComma: true, disallowComments: false }) as unknown;
  const first = errors[0];
  if (first && (typeof root !== 'object' || root === null)) throw new BerthError('invalid_argument', `tasks.json: ${printParseErrorCode(first.error)} at offset ${first.offset}`);
  if (typeof root !== 'object' || root === null || !Array.isArray((root as Raw)['tasks'])) return [];
  const globals = root as Raw;
  const out: JsonTask[] = [];
  for (const item of (root as Raw)['tasks'] as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const t = effective(item as Raw, globals);
    const type = t['type'] ?? globals['type'] ?? 'process';
    if (type !== 'shell' && type !== 'process') continue;
    const command = typeof t['command'] === 'string' ? t['command'] : Array.isArray(t['command']) ? (t['command'] as unknown[]).filter((c) => typeof c === 'string').join(' ') : undefined;
    if (!command) continue;
    const label = typeof t['label'] === 'string' ? t['label'] : typeof t['taskName'] === 'string' ? t['taskName'] : command;
    const options = t['options'] as Raw;
    const definition = asBerthDefinition({ type: BERTH_TASK_TYPE, command, args: t['args'], process: type === 'process', cwd: options['cwd'], env: options['env'] });
    if (!definition) continue;
    out.push({
      label,
      definition,
      ...group(t['group']),
      ...(t['isBackground'] === true ? { isBackground: true } : {}),
      problemMatchers: matchers(t['problemMatcher']),
      ...(typeof t['detail'] === 'string' ? { detail: t['detail'] } : {}),
    });
  }
  return out;
}
