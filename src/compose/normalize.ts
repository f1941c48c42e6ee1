/**
 * From the merged, interpolated YAML of a Compose project to its typed,
 * frozen model: short syntaxes expanded (ports, volumes, depends_on,
 * environment...), paths made absolute against the project folder, named
 * volumes and networks given their engine names.
 */
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../common/errors';
import { keyValues, namedMap } from './merge';
import { byteSize, durationMs, shellWords, text } from './scalars';
import type { ComposeProject, ComposeService, Dependency, DependsCondition, Healthcheck, ProjectNetwork, ProjectVolume, ServiceBuild, ServicePort, ServiceVolume } from './types';

type Raw = Record<string, unknown>;
const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : text(v));
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(text) : v === undefined || v === null ? [] : [text(v)]);

export interface NormalizeInput {
  readonly name: string;
  readonly workingDir: string;
  readonly configFiles: readonly string[];
  readonly profiles: readonly string[];
  /** Values of `environment: [NAME]` entries without `=` (the shell's, then .env's). */
  readonly lookup: (name: string) => string | undefined;
  /** env_file contents, already read and parsed, by absolute path. */
  readonly envFiles: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

function hostPath(p: string, workingDir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(workingDir, p);
}

function command(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v.map(text) : shellWords(text(v), where);
}

function ports(v: unknown, where: string): ServicePort[] {
  const out: ServicePort[] = [];
  for (const p of Array.isArray(v) ? v : []) {
    if (isMap(p)) {
      out.push({ target: Number(p['target']), published: str(p['published']) ?? '', hostIp: str(p['host_ip']) ?? '', protocol: p['protocol'] === 'udp' ? 'udp' : 'tcp' });
      continue;
    }
    const spec = text(p);
    const slash = spec.lastIndexOf('/');
    const protocol = slash >= 0 ? spec.slice(slash + 1) : 'tcp';
    if (protocol !== 'tcp' && protocol !== 'udp') throw new BerthError('invalid_argument', `${where}: unsupported protocol in "${spec}"`);
    const body = slash >= 0 ? spec.slice(0, slash) : spec;
    const parts = body.startsWith('[') ? [body.slice(1, body.indexOf(']')), ...body.slice(body.indexOf(']') + 2).split(':')] : body.split(':');
    const container = parts.at(-1) ?? '';
    const [cs = '', ce] = container.split('-');
    const published = parts.length >= 2 ? (parts.at(-2) ?? '') : '';
    const hostIp = parts.length === 3 ? (parts[0] ?? '') : '';
    if (parts.length > 3 || !/^\d+$/.test(cs)) throw new BerthError('invalid_argument', `${where}: invalid port "${spec}"`);
    // A container range maps one to one onto a host range.
    const [ps = '', pe] = published.split('-');
    for (let c = Number(cs), i = 0; c <= Number(ce ?? cs); c++, i++) {
      out.push({ target: c, published: ce && ps ? String(Number(ps) + i) : pe ? `${ps}-${pe}` : ps, hostIp, protocol });
    }
  }
  return out;
}

function volumes(svc: Raw, workingDir: string, where: string): ServiceVolume[] {
  const out: ServiceVolume[] = [];
  for (const v of Array.isArray(svc['volumes']) ? svc['volumes'] : []) {
    if (isMap(v)) {
      const type = str(v['type']) ?? 'volume';
      if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new BerthError('invalid_argument', `${where}.volumes: type ${type} is not supported`);
      const source = str(v['source']);
      const tmpfs = isMap(v['tmpfs']) ? v['tmpfs'] : {};
      out.push({
        type,
        ...(source ? { source: type === 'bind' ? hostPath(source, workingDir) : source } : {}),
        target: text(v['target']),
        readOnly: v['read_only'] === true,
        ...(isMap(v['volume']) && v['volume']['nocopy'] === true ? { noCopy: true } : {}),
        ...(tmpfs['size'] !== undefined ? { tmpfsSize: byteSize(tmpfs['size'], `${where}.volumes`) } : {}),
      });
      continue;
    }
    const parts = text(v).split(':');
    if (parts.length === 1) {
      out.push({ type: 'volume', target: parts[0] as string, readOnly: false });
      continue;
    }
    const [source = '', target = '', mode = ''] = parts;
    const isPath = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    out.push({ type: isPath ? 'bind' : 'volume', source: isPath ? hostPath(source, workingDir) : source, target, readOnly: mode.split(',').includes('ro') });
  }
  for (const t of strings(svc['tmpfs'])) {
    const [target = '', opts = ''] = t.split(':');
    const size = /(?:^|,)size=([^,]+)/.exec(opts)?.[1];
    out.push({ type: 'tmpfs', target, readOnly: false, ...(size ? { tmpfsSize: byteSize(size, `${where}.tmpfs`) } : {}) });
  }
  return out;
}

function healthcheck(v: unknown, where: string): Healthcheck | undefined {
  if (!isMap(v)) return undefined;
  if (v['disable'] === true) return { test: ['NONE'], intervalMs: 0, timeoutMs: 0, retries: 0, startPeriodMs: 0, startIntervalMs: 0 };
  const t = v['test'];
  const test = typeof t === 'string' ? ['CMD-SHELL', t] : strings(t);
  const ms = (key: string, dflt: number): number => (v[key] === undefined ? dflt : durationMs(v[key], `${where}.healthcheck.${key}`));
  return {
    test,
    intervalMs: ms('interval', 30_000),
    timeoutMs: ms('timeout', 30_000),
    retries: v['retries'] === undefined ? 3 : Number(v['retries']),
    startPeriodMs: ms('start_period', 0),
    startIntervalMs: ms('start_interval', 5_000),
  };
}

function dependsOn(v: unknown, where: string): Record<string, Dependency> {
  const out: Record<string, Dependency> = {};
  for (const [name, d] of Object.entries(namedMap(v))) {
    const condition = (isMap(d) ? str(d['condition']) : undefined) ?? 'service_started';
    if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) {
      throw new BerthError('invalid_argument', `${where}.depends_on.${name}: unknown condition ${condition}`);
    }
    out[name] = { condition: condition as DependsCondition, required: !(isMap(d) && d['required'] === false) };
  }
  return out;
}

function build(v: unknown, workingDir: string): ServiceBuild | undefined {
  if (v === undefined || v === null) return undefined;
  const b = isMap(v) ? v : { context: v };
  const context = hostPath(str(b['context']) ?? '.', workingDir);
  return {
    context,
    dockerfile: str(b['dockerfile']) ?? 'Dockerfile',
    args: Object.fromEntries(Object.entries(keyValues(b['args'])).filter(([, x]) => x !== null).map(([k, x]) => [k, text(x)])),
    ...(b['target'] !== undefined ? { target: text(b['target']) } : {}),
  };
}

function environment(svc: Raw, input: NormalizeInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const f of envFilePaths(svc, input.workingDir)) Object.assign(env, input.envFiles.get(f.path) ?? {});
  for (const [k, v] of Object.entries(keyValues(svc['environment']))) {
    if (v !== null) env[k] = text(v);
    else {
      const found = input.lookup(k);
      if (found !== undefined) env[k] = found;
    }
  }
  return env;
}

/** The env_file paths a raw service names (absolute), so that the loader can read them first. */
export function envFilePaths(svc: unknown, workingDir: string): { path: string; required: boolean }[] {
  if (!isMap(svc)) return [];
  const list = Array.isArray(svc['env_file']) ? svc['env_file'] : svc['env_file'] === undefined ? [] : [svc['env_file']];
  return list.map((f) => (isMap(f) ? { path: hostPath(text(f['path']), workingDir), required: f['required'] !== false } : { path: hostPath(text(f), workingDir), required: true }));
}

/** Service keys Berth applies (or that need nothing: container_name, pull_policy...). */
const KNOWN = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes', 'tmpfs', 'networks', 'network_mode',
  'depends_on', 'healthcheck', 'user', 'working_dir', 'hostname', 'container_name', 'labels', 'cap_add', 'cap_drop', 'security_opt',
  'privileged', 'init', 'tty', 'stdin_open', 'extra_hosts', 'restart', 'stop_signal', 'stop_grace_period', 'profiles',
  'mem_limit', 'cpus', 'pids_limit', 'pull_policy', 'platform',
]);

/** The keys of a service Berth does not apply. */
export function ignoredKeys(svc: unknown): string[] {
  return typeof svc === 'object' && svc !== null ? Object.keys(svc).filter((k) => !KNOWN.has(k) && !k.startsWith('x-')) : [];
}

function resources(svc: Raw, where: string): ComposeService['resources'] {
  const memory = svc['mem_limit'] === undefined ? undefined : byteSize(svc['mem_limit'], `${where}.mem_limit`);
  const cpus = svc['cpus'] === undefined ? undefined : Number(svc['cpus']);
  const pids = svc['pids_limit'] === undefined ? undefined : Number(svc['pids_limit']);
  if (memory === undefined && cpus === undefined && pids === undefined) return undefined;
  return { ...(memory !== undefined ? { memory } : {}), ...(cpus !== undefined ? { nanoCpus: Math.round(cpus * 1e9) } : {}), ...(pids !== undefined ? { pidsLimit: pids } : {}) };
}

function service(name: string, svc: Raw, input: NormalizeInput): ComposeService {
  const where = `services.${name}`;
  const networkMode = str(svc['network_mode']);
  const nets = networkMode ? {} : Object.keys(namedMap(svc['networks'])).length > 0 ? namedMap(svc['networks']) : { default: null };
  const image = str(svc['image']);
  const b = build(svc['build'], input.workingDir);
  if (!image && !b) throw new BerthError('invalid_argument', `${where}: neither "image" nor "build" is set`);
  const cmd = command(svc['command'], `${where}.command`);
  const entrypoint = command(svc['entrypoint'], `${where}.entrypoint`);
  const hc = healthcheck(svc['healthcheck'], where);
  const opt = <T>(key: string, value: T | undefined): Record<string, T> => (value === undefined ? {} : { [key]: value });
  return Object.freeze({
    name,
    ...opt('image', image),
    ...opt('build', b),
    ...opt('command', cmd),
    ...opt('entrypoint', entrypoint),
    environment: environment(svc, input),
    ports: ports(svc['ports'], `${where}.ports`),
    expose: strings(svc['expose']),
    volumes: volumes(svc, input.workingDir, where),
    networks: Object.fromEntries(Object.entries(nets).map(([k, v]) => [k, { aliases: isMap(v) ? strings(v['aliases']) : [] }])),
    ...opt('networkMode', networkMode),
    dependsOn: dependsOn(svc['depends_on'], where),
    ...opt('healthcheck', hc),
    ...opt('user', str(svc['user'])),
    ...opt('workingDir', str(svc['working_dir'])),
    ...opt('hostname', str(svc['hostname'])),
    ...opt('containerName', str(svc['container_name'])),
    labels: Object.fromEntries(Object.entries(keyValues(svc['labels'])).map(([k, v]) => [k, v === null ? '' : text(v)])),
    capAdd: strings(svc['cap_add']),
    capDrop: strings(svc['cap_drop']),
    securityOpt: strings(svc['security_opt']),
    privileged: svc['privileged'] === true,
    init: svc['init'] === true,
    tty: svc['tty'] === true,
    stdinOpen: svc['stdin_open'] === true,
    extraHosts: Object.entries(keyValues(svc['extra_hosts'])).map(([k, v]) => (v === null ? k : `${k}:${text(v)}`)),
    ...opt('restart', str(svc['restart'])),
    ...opt('stopSignal', str(svc['stop_signal'])),
    ...opt('stopGracePeriodS', svc['stop_grace_period'] === undefined ? undefined : durationMs(svc['stop_grace_period'], `${where}.stop_grace_period`) / 1000),
    profiles: strings(svc['profiles']),
    ...opt('resources', resources(svc, where)),
  });
}

function labelsOf(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(isMap(v) ? keyValues(v['labels']) : {}).map(([k, x]) => [k, x === null ? '' : text(x)]));
}

export function normalizeProject(raw: Raw, input: NormalizeInput): ComposeProject {
  const services = isMap(raw['services']) ? raw['services'] : {};
  const out: Record<string, ComposeService> = {};
  for (const [name, svc] of Object.entries(services)) out[name] = service(name, isMap(svc) ? svc : {}, input);
  for (const s of Object.values(out)) {
    for (const dep of Object.keys(s.dependsOn)) {
      if (!out[dep] && s.dependsOn[dep]?.required) throw new BerthError('invalid_argument', `services.${s.name}.depends_on: no service "${dep}"`);
    }
  }
  const volumes: Record<string, ProjectVolume> = {};
  for (const [key, v] of Object.entries(namedMap(raw['volumes']))) {
    const external = isMap(v) && (v['external'] === true || isMap(v['external']));
    const explicit = isMap(v) ? (str(v['name']) ?? (isMap(v['external']) ? str(v['external']['name']) : undefined)) : undefined;
    volumes[key] = { name: explicit ?? (external ? key : `${input.name}_${key}`), external, labels: labelsOf(v) };
  }
  const networks: Record<string, ProjectNetwork> = {};
  for (const [key, v] of Object.entries({ default: null, ...namedMap(raw['networks']) })) {
    const external = isMap(v) && (v['external'] === true || isMap(v['external']));
    const explicit = isMap(v) ? str(v['name']) : undefined;
    networks[key] = { name: explicit ?? (external ? key : `${input.name}_${key}`), external, internal: isMap(v) && v['internal'] === true, labels: labelsOf(v) };
  }
  for (const s of Object.values(out)) {
    for (const v of s.volumes) if (v.type === 'volume' && v.source && !volumes[v.source]) throw new BerthError('invalid_argument', `services.${s.name}.volumes: volume "${v.source}" is not declared in the top-level volumes`);
    for (const n of Object.keys(s.networks)) if (!networks[n]) throw new BerthError('invalid_argument', `services.${s.name}.networks: network "${n}" is not declared in the top-level networks`);
  }
  const warnings = Object.entries(services).flatMap(([name, svc]) => ignoredKeys(svc).map((k) => `services.${name}.${k} is not supported by Berth yet; ignored`));
  return Object.freeze({ name: input.name, workingDir: input.workingDir, configFiles: [...input.configFiles], services: out, volumes, networks, profiles: [...input.profiles], warnings });
}
