/**
 * Seccomp profiles: Docker's profile format (archMap, includes/excludes by
 * capability, architecture and kernel) compiled into the OCI form runc and
 * crun read, for one architecture and one capability set. The default
 * profile is data (seccomp-default.ts); custom profiles (`--security-opt
 * seccomp=<json>`) go through the same compiler after validation.
 */
import { release } from 'node:os';
import { BerthError } from '../../common/errors';
import { DEFAULT_SECCOMP_TEMPLATE } from './seccomp-default';
import type { OciSeccomp, OciSeccompAction, OciSeccompArg, OciSeccompOperator, OciSyscall } from './spec-types';

export interface SeccompFilter {
  readonly caps?: readonly string[];
  /** Go architecture names (amd64, x86, x32, arm64, arm, s390x, ...). */
  readonly arches?: readonly string[];
  readonly minKernel?: string;
}

export interface SeccompTemplateRule {
  readonly names: readonly string[];
  readonly action: OciSeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly OciSeccompArg[];
  readonly includes?: SeccompFilter;
  readonly excludes?: SeccompFilter;
}

/** Docker's profile format. */
export interface SeccompTemplate {
  readonly defaultAction: OciSeccompAction;
  readonly defaultErrnoRet?: number;
  readonly architectures?: readonly string[];
  readonly archMap?: readonly { readonly architecture: string; readonly subArchitectures: readonly string[] }[];
  readonly flags?: readonly string[];
  readonly syscalls: readonly SeccompTemplateRule[];
}

export interface SeccompTarget {
  /** Node's process.arch name (x64, arm64, ...) of the containers; default: this process's. */
  readonly arch?: string;
  /** The container's bounding set: capability-gated rules follow it (as in Docker). */
  readonly capabilities: readonly string[];
  /** Kernel release ("6.1.0-18-amd64"); default: this host's. */
  readonly kernel?: string;
}

const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64le' };
const NATIVE_ARCH: Readonly<Record<string, string>> = {
  amd64: 'SCMP_ARCH_X86_64',
  x86: 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
  mips64le: 'SCMP_ARCH_MIPSEL64',
};

function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string): [number, number] => {
    const m = /^(\d+)\.(\d+)/.exec(v);
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  };
  const [a, b] = parse(kernel);
  const [x, y] = parse(min);
  return a > x || (a === x && b >= y);
}

/** Compiles a Docker-format profile for one architecture, capability set and kernel. */
export function compileSeccomp(template: SeccompTemplate, target: SeccompTarget): OciSeccomp {
  if (template.architectures?.length && template.archMap?.length) {
    throw new BerthError('invalid_argument', "seccomp profile: use either 'architectures' or 'archMap', not both");
  }
  const goArch = GO_ARCH[target.arch ?? process.arch] ?? target.arch ?? process.arch;
  const native = NATIVE_ARCH[goArch];
  const kernel = target.kernel ?? release();
  const caps = new Set(target.capabilities);
  const architectures = [...(template.architectures ?? [])];
  for (const entry of template.archMap ?? []) {
    if (entry.architecture === native) architectures.push(entry.architecture, ...entry.subArchitectures);
  }
  const applies = (rule: SeccompTemplateRule): boolean => {
    const { includes: inc = {}, excludes: exc = {} } = rule;
    if (exc.arches?.includes(goArch)) return false;
    if (exc.caps?.some((c) => caps.has(c))) return false;
    if (exc.minKernel && kernelAtLeast(kernel, exc.minKernel)) return false;
    if (inc.arches?.length && !inc.arches.includes(goArch)) return false;
    if (inc.caps?.some((c) => !caps.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
    return true;
  };
  const syscalls: OciSyscall[] = template.syscalls.filter(applies).map((r) => ({
    names: [...r.names],
    action: r.action,
    ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
    ...(r.args?.length ? { args: r.args.map((a) => ({ ...a })) } : {}),
  }));
  return {
    defaultAction: template.defaultAction,
    ...(template.defaultErrnoRet !== undefined ? { defaultErrnoRet: template.defaultErrnoRet } : {}),
    architectures,
    ...(template.flags?.length ? { flags: [...template.flags] } : {}),
    syscalls,
  };
}

/** Docker's default profile for `target` (capability-gated syscalls come back with their capability). */
export function defaultSeccompProfile(target: SeccompTarget): OciSeccomp {
  return compileSeccomp(DEFAULT_SECCOMP_TEMPLATE, target);
}

const ACTIONS: readonly string[] = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG'];
const OPERATORS: readonly string[] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
function fail(at: string, what: string): never {
  throw new BerthError('invalid_argument', `seccomp profile: ${at} ${what}`, { details: { path: at } });
}
function strings(v: unknown, at: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(at, 'must be an array of strings');
  return v;
}
function uint(v: unknown, at: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(at, 'must be a non-negative integer');
  return v;
}
function action(v: unknown, at: string): OciSeccompAction {
  if (typeof v !== 'string' || !ACTIONS.includes(v)) fail(at, `must be one of ${ACTIONS.join(', ')}`);
  return v as OciSeccompAction;
}
function filter(v: unknown, at: string): SeccompFilter | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) fail(at, 'must be an object');
  const minKernel = v['minKernel'];
  if (minKernel !== undefined && minKernel !== null && (typeof minKernel !== 'string' || !/^\d+\.\d+/.test(minKernel))) fail(`${at}.minKernel`, 'must look like "4.8"');
  const caps = strings(v['caps'], `${at}.caps`);
  const arches = strings(v['arches'], `${at}.arches`);
  return { ...(caps ? { caps } : {}), ...(arches ? { arches } : {}), ...(typeof minKernel === 'string' ? { minKernel } : {}) };
}

function rule(v: unknown, at: string): SeccompTemplateRule {
  if (!isObj(v)) fail(at, 'must be an object');
  const names = strings(v['names'], `${at}.names`) ?? [];
  if (typeof v['name'] === 'string') {
    if (names.length) fail(at, "has both 'name' and 'names'");
    names.push(v['name']);
  }
  if (names.length === 0) fail(at, 'names no syscall');
  const args = v['args'] === undefined || v['args'] === null ? [] : v['args'];
  if (!Array.isArray(args)) fail(`${at}.args`, 'must be an array');
  const errnoRet = uint(v['errnoRet'], `${at}.errnoRet`);
  const includes = filter(v['includes'], `${at}.includes`);
  const excludes = filter(v['excludes'], `${at}.excludes`);
  return {
    names,
    action: action(v['action'], `${at}.action`),
    ...(errnoRet !== undefined ? { errnoRet } : {}),
    args: args.map((a: unknown, i): OciSeccompArg => {
      const ap = `${at}.args[${i}]`;
      if (!isObj(a)) fail(ap, 'must be an object');
      if (typeof a['op'] !== 'string' || !OPERATORS.includes(a['op'])) fail(`${ap}.op`, `must be one of ${OPERATORS.join(', ')}`);
      const valueTwo = uint(a['valueTwo'], `${ap}.valueTwo`);
      return { index: uint(a['index'], `${ap}.index`) ?? 0, value: uint(a['value'], `${ap}.value`) ?? 0, ...(valueTwo ? { valueTwo } : {}), op: a['op'] as OciSeccompOperator };
    }),
    ...(includes ? { includes } : {}),
    ...(excludes ? { excludes } : {}),
  };
}

/** Parses and validates a profile in Docker's format (the OCI form is a subset of it). */
export function parseSeccompProfile(json: string): SeccompTemplate {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new BerthError('invalid_argument', `seccomp profile is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObj(value)) fail('(root)', 'must be an object');
  const archMap = value['archMap'] === undefined || value['archMap'] === null ? [] : value['archMap'];
  if (!Array.isArray(archMap)) fail('archMap', 'must be an array');
  const syscalls = value['syscalls'] === undefined || value['syscalls'] === null ? [] : value['syscalls'];
  if (!Array.isArray(syscalls)) fail('syscalls', 'must be an array');
  const defaultErrnoRet = uint(value['defaultErrnoRet'], 'defaultErrnoRet');
  const flags = strings(value['flags'], 'flags');
  return {
    defaultAction: action(value['defaultAction'], 'defaultAction'),
    ...(defaultErrnoRet !== undefined ? { defaultErrnoRet } : {}),
    architectures: strings(value['architectures'], 'architectures') ?? [],
    archMap: archMap.map((e: unknown, i) => {
      if (!isObj(e) || typeof e['architecture'] !== 'string') fail(`archMap[${i}]`, 'needs an architecture');
      return { architecture: e['architecture'], subArchitectures: strings(e['subArchitectures'], `archMap[${i}].subArchitectures`) ?? [] };
    }),
    ...(flags ? { flags } : {}),
    syscalls: syscalls.map((r: unknown, i) => rule(r, `syscalls[${i}]`)),
  };
}
