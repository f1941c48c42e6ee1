/**
 * The `devcontainer.metadata` image label and the spec's merge rules
 * (containers.dev/implementors/spec/#merge-logic): base images and features
 * contribute entries, the local devcontainer.json comes last.
 */
import { BerthError } from '../common/errors';
import type { DevContainerConfig, HostGpuRequirements, HostRequirements, LifecycleCommand, Mount, PortAttributes, UserEnvProbe } from './types';

export const IMAGE_METADATA_LABEL = 'devcontainer.metadata';

export interface ImageMetadataEntry {
  readonly id?: string;
  readonly init?: boolean;
  readonly privileged?: boolean;
  readonly capAdd?: readonly string[];
  readonly securityOpt?: readonly string[];
  readonly entrypoint?: string;
  readonly mounts?: readonly Mount[];
  readonly customizations?: Readonly<Record<string, unknown>>;
  readonly onCreateCommand?: LifecycleCommand;
  readonly updateContentCommand?: LifecycleCommand;
  readonly postCreateCommand?: LifecycleCommand;
  readonly postStartCommand?: LifecycleCommand;
  readonly postAttachCommand?: LifecycleCommand;
  readonly waitFor?: string;
  readonly remoteUser?: string;
  readonly containerUser?: string;
  readonly userEnvProbe?: UserEnvProbe;
  readonly remoteEnv?: Readonly<Record<string, string | null>>;
  readonly containerEnv?: Readonly<Record<string, string>>;
  readonly overrideCommand?: boolean;
  readonly portsAttributes?: Readonly<Record<string, PortAttributes>>;
  readonly otherPortsAttributes?: PortAttributes;
  readonly forwardPorts?: readonly (number | string)[];
  readonly shutdownAction?: 'none' | 'stopContainer' | 'stopCompose';
  readonly updateRemoteUserUID?: boolean;
  readonly hostRequirements?: HostRequirements;
}

/** The properties of a local configuration that take part in the merge. */
const PICKED = [
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
  'waitFor',
  'customizations',
  'mounts',
  'containerEnv',
  'containerUser',
  'init',
  'privileged',
  'capAdd',
  'securityOpt',
  'remoteUser',
  'userEnvProbe',
  'remoteEnv',
  'overrideCommand',
  'portsAttributes',
  'otherPortsAttributes',
  'forwardPorts',
  'shutdownAction',
  'updateRemoteUserUID',
  'hostRequirements',
] as const;

/** Properties replaced by their merged (plural) form. */
const REPLACED = ['customizations', 'entrypoint', 'onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand', 'shutdownAction'];

export type MergedDevContainerConfig = Record<string, unknown> & {
  readonly init: boolean;
  readonly privileged: boolean;
  readonly capAdd?: readonly string[];
  readonly securityOpt?: readonly string[];
  readonly entrypoints?: readonly string[];
  readonly mounts?: readonly Mount[];
  readonly customizations?: Readonly<Record<string, readonly unknown[]>>;
  readonly onCreateCommands: readonly LifecycleCommand[];
  readonly updateContentCommands: readonly LifecycleCommand[];
  readonly postCreateCommands: readonly LifecycleCommand[];
  readonly postStartCommands: readonly LifecycleCommand[];
  readonly postAttachCommands: readonly LifecycleCommand[];
  readonly remoteEnv: Readonly<Record<string, string | null>>;
  readonly containerEnv: Readonly<Record<string, string>>;
  readonly portsAttributes: Readonly<Record<string, PortAttributes>>;
  readonly forwardPorts?: readonly (number | string)[];
  readonly hostRequirements?: HostRequirements;
};

/** Parses the label: a JSON array of entries, or a single entry. */
export function parseImageMetadataLabel(value: string | undefined): ImageMetadataEntry[] {
  if (value === undefined || value.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new BerthError('invalid_argument', `the ${IMAGE_METADATA_LABEL} label is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const entries = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  return entries.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new BerthError('invalid_argument', `the ${IMAGE_METADATA_LABEL} label's entry ${i} is not an object`);
    }
    const record = entry as Record<string, unknown>;
    for (const [key, expected] of Object.entries(ENTRY_SHAPES)) {
      const value = record[key];
      if (value !== undefined && !expected.check(value)) {
        const id = typeof record['id'] === 'string' ? ` (id "${record['id']}")` : '';
        throw new BerthError('invalid_argument', `the ${IMAGE_METADATA_LABEL} label's entry ${i}${id}: ${key} must be ${expected.text}`);
      }
    }
    return entry;
  });
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
const OBJECT = { check: isObject, text: 'an object' };
const STRINGS = { check: isStringArray, text: 'an array of strings' };
const BOOLEAN = { check: (v: unknown) => typeof v === 'boolean', text: 'true or false' };
const STRING = { check: (v: unknown) => typeof v === 'string', text: 'a string' };
/** The shapes the merge relies on; anything else in an entry is carried along untouched. */
const ENTRY_SHAPES: Readonly<Record<string, { check: (v: unknown) => boolean; text: string }>> = {
  init: BOOLEAN,
  privileged: BOOLEAN,
  overrideCommand: BOOLEAN,
  updateRemoteUserUID: BOOLEAN,
  capAdd: STRINGS,
  securityOpt: STRINGS,
  entrypoint: STRING,
  remoteUser: STRING,
  containerUser: STRING,
  mounts: { check: (v) => Array.isArray(v) && v.every((m) => typeof m === 'string' || isObject(m)), text: 'an array of mount strings or objects' },
  customizations: OBJECT,
  remoteEnv: OBJECT,
  containerEnv: OBJECT,
  portsAttributes: OBJECT,
  otherPortsAttributes: OBJECT,
  hostRequirements: OBJECT,
  forwardPorts: { check: (v) => Array.isArray(v) && v.every((p) => typeof p === 'string' || typeof p === 'number'), text: 'an array of ports' },
};

/** The mergeable properties of a local configuration, as a metadata entry. */
export function configToMetadataEntry(config: DevContainerConfig): ImageMetadataEntry {
  const out: Record<string, unknown> = {};
  for (const key of PICKED) if (key in config) out[key] = (config as Record<string, unknown>)[key];
  return out;
}

const MOUNT_KEYS: Readonly<Record<string, string>> = { src: 'source', dst: 'target', destination: 'target' };

export function mountTarget(mount: Mount): string | undefined {
  if (typeof mount !== 'string') return mount.target;
  for (const part of mount.split(',')) {
    const [key = '', value] = part.split('=');
    if ((MOUNT_KEYS[key] ?? key) === 'target') return value;
  }
  return undefined;
}

/** Later entries win per target; the order of first appearance of the survivors is kept. */
function mergeMounts(entries: readonly ImageMetadataEntry[]): Mount[] | undefined {
  const all = entries.flatMap((e) => e.mounts ?? []);
  const seen = new Set<string | undefined>();
  const kept: Mount[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const mount = all[i] as Mount;
    const target = mountTarget(mount);
    if (seen.has(target)) continue;
    seen.add(target);
    kept.unshift(mount);
  }
  return kept.length ? kept : undefined;
}

function union<T>(lists: readonly (readonly T[] | undefined)[]): T[] | undefined {
  const values = [...new Set(lists.flatMap((l) => l ?? []))];
  return values.length ? values : undefined;
}

function mergeForwardPorts(entries: readonly ImageMetadataEntry[]): (number | string)[] | undefined {
  const keys = [...new Set(entries.flatMap((e) => e.forwardPorts ?? []).map((p) => (typeof p === 'number' ? `localhost:${p}` : p)))];
  const ports = keys.map((p) => (/^localhost:\d+$/.test(p) ? Number(p.slice('localhost:'.length)) : p));
  return ports.length ? ports : undefined;
}

/** "4gb" → bytes; the spec's units are powers of 1024. */
export function parseBytes(value: string): number {
  const m = /^(\d+)([tgmk]b)?$/.exec(value);
  if (!m) return 0;
  const unit = m[2] ? { t: 2 ** 40, g: 2 ** 30, m: 2 ** 20, k: 2 ** 10 }[m[2][0] as 't' | 'g' | 'm' | 'k'] : 1;
  return Number(m[1]) * unit;
}

type Gpu = HostRequirements['gpu'];

function mergeGpu(a: Gpu, b: Gpu): Gpu {
  if (a === undefined || a === false) return b;
  if (b === undefined || b === false) return a;
  if (a === 'optional' && b === 'optional') return 'optional';
  const ao: HostGpuRequirements = typeof a === 'object' ? a : {};
  const bo: HostGpuRequirements = typeof b === 'object' ? b : {};
  const cores = Math.max(ao.cores ?? 0, bo.cores ?? 0);
  const memory = Math.max(parseBytes(ao.memory ?? '0'), parseBytes(bo.memory ?? '0'));
  return { ...(cores ? { cores } : {}), ...(memory ? { memory: String(memory) } : {}) };
}

function mergeHostRequirements(entries: readonly ImageMetadataEntry[]): HostRequirements | undefined {
  const cpus = Math.max(0, ...entries.map((e) => e.hostRequirements?.cpus ?? 0));
  const memory = Math.max(0, ...entries.map((e) => parseBytes(e.hostRequirements?.memory ?? '0')));
  const storage = Math.max(0, ...entries.map((e) => parseBytes(e.hostRequirements?.storage ?? '0')));
  const gpu = entries.map((e) => e.hostRequirements?.gpu).reduce<Gpu>(mergeGpu, undefined);
  if (!cpus && !memory && !storage && !gpu) return undefined;
  return { cpus, ...(memory ? { memory: String(memory) } : {}), ...(storage ? { storage: String(storage) } : {}), ...(gpu !== undefined ? { gpu } : {}) };
}

function lastDefined<K extends keyof ImageMetadataEntry>(entries: readonly ImageMetadataEntry[], key: K, truthy = true): ImageMetadataEntry[K] {
  for (let i = entries.length - 1; i >= 0; i--) {
    const v = entries[i]?.[key];
    if (truthy ? v : typeof v === 'boolean') return v;
  }
  return undefined;
}

function collectCommands(entries: readonly ImageMetadataEntry[], key: 'onCreateCommand' | 'updateContentCommand' | 'postCreateCommand' | 'postStartCommand' | 'postAttachCommand'): LifecycleCommand[] {
  return entries.map((e) => e[key]).filter((c): c is LifecycleCommand => Boolean(c));
}

/**
 * Merges the configuration with the metadata entries. As in the reference
 * implementation, `entries` must already end with the local configuration's
 * own entry (configToMetadataEntry(config)); `config` supplies the rest.
 */
export function mergeConfiguration(config: DevContainerConfig, entries: readonly ImageMetadataEntry[]): MergedDevContainerConfig {
  const customizations: Record<string, unknown[]> = {};
  for (const entry of entries) {
    for (const [tool, value] of Object.entries(entry.customizations ?? {})) (customizations[tool] ??= []).push(value);
  }
  const rest: Record<string, unknown> = { ...config };
  for (const key of REPLACED) delete rest[key];
  const drop = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return drop({
    ...rest,
    init: entries.some((e) => e.init),
    privileged: entries.some((e) => e.privileged),
    capAdd: union(entries.map((e) => e.capAdd)),
    securityOpt: union(entries.map((e) => e.securityOpt)),
    entrypoints: ((v) => (v.length ? v : undefined))(entries.map((e) => e.entrypoint).filter((e): e is string => Boolean(e))),
    mounts: mergeMounts(entries),
    customizations: Object.keys(customizations).length ? customizations : undefined,
    onCreateCommands: collectCommands(entries, 'onCreateCommand'),
    updateContentCommands: collectCommands(entries, 'updateContentCommand'),
    postCreateCommands: collectCommands(entries, 'postCreateCommand'),
    postStartCommands: collectCommands(entries, 'postStartCommand'),
    postAttachCommands: collectCommands(entries, 'postAttachCommand'),
    waitFor: lastDefined(entries, 'waitFor'),
    remoteUser: lastDefined(entries, 'remoteUser'),
    containerUser: lastDefined(entries, 'containerUser'),
    userEnvProbe: lastDefined(entries, 'userEnvProbe'),
    remoteEnv: Object.assign({}, ...entries.map((e) => e.remoteEnv)) as Record<string, string | null>,
    containerEnv: Object.assign({}, ...entries.map((e) => e.containerEnv)) as Record<string, string>,
    overrideCommand: lastDefined(entries, 'overrideCommand', false),
    portsAttributes: Object.assign({}, ...entries.map((e) => e.portsAttributes)) as Record<string, PortAttributes>,
    otherPortsAttributes: lastDefined(entries, 'otherPortsAttributes'),
    forwardPorts: mergeForwardPorts(entries),
    shutdownAction: lastDefined(entries, 'shutdownAction'),
    updateRemoteUserUID: lastDefined(entries, 'updateRemoteUserUID', false),
    hostRequirements: mergeHostRequirements(entries),
  });
}

/** Merges a configuration with an image's label value (the common case). */
export function mergeWithImageMetadata(config: DevContainerConfig, labelValue: string | undefined): MergedDevContainerConfig {
  // Like the reference, entries without properties take no part (they would reset last-wins values).
  const entries = [...parseImageMetadataLabel(labelValue), configToMetadataEntry(config)].filter((e) => Object.keys(e).length > 0);
  return mergeConfiguration(config, entries);
}
