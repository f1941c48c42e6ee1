/**
 * From a merged dev container configuration to the engine's create request:
 * the workspace mount, `mounts`, `containerEnv`, users, security options,
 * the keep-alive command, the id labels, and the Docker-run flags users put
 * in `runArgs` that Berth understands.
 */
import { parsePublish } from '../api/port-spec';
import type { ContainerCreateRequest, DeviceMapping, MountRequest } from '../api/types/containers';
import type { PortBindingRequest } from '../api/types/networks';
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { IMAGE_METADATA_LABEL, type MergedDevContainerConfig } from '../config/image-metadata';
import type { Mount } from '../config/types';

/** Parses Docker's `--mount` syntax: "type=bind,source=/a,target=/b,readonly". */
export function parseMountString(text: string): MountRequest {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    fields.set((eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase(), eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new BerthError('invalid_argument', `mount "${text}": type ${type} is not supported`);
  const target = fields.get('target') ?? fields.get('destination') ?? fields.get('dst');
  if (!target) throw new BerthError('invalid_argument', `mount "${text}" has no target`);
  const source = fields.get('source') ?? fields.get('src');
  const ro = fields.get('readonly') ?? fields.get('ro');
  return { type, target, ...(source ? { source } : {}), ...(ro !== undefined && ro !== 'false' && ro !== '0' ? { readOnly: true } : {}) };
}

export function mountRequest(m: Mount): MountRequest {
  if (typeof m === 'string') return parseMountString(m);
  return { type: m.type, target: m.target, ...(m.source ? { source: m.source } : {}) };
}

/** The reference CLI's keep-alive: the features' entrypoints, then wait for SIGTERM. */
export function keepAliveCommand(entrypoints: readonly string[]): { entrypoint: string[]; cmd: string[] } {
  const script = ['echo Container started', 'trap "exit 0" 15', ...entrypoints, 'exec "$@"', 'while sleep 1 & wait $!; do :; done'].join('\n');
  return { entrypoint: ['/bin/sh'], cmd: ['-c', script, '-'] };
}

interface RunArgsResult {
  readonly request: Partial<Record<keyof ContainerCreateRequest, unknown>>;
  readonly labels: Record<string, string>;
  readonly env: string[];
  readonly mounts: MountRequest[];
  readonly capAdd: string[];
  readonly securityOpt: string[];
}

/** The `docker run` flags in runArgs that map onto the create request; others are reported and skipped. */
export function parseRunArgs(args: readonly string[], logger?: Logger): RunArgsResult {
  const out: RunArgsResult = { request: {}, labels: {}, env: [], mounts: [], capAdd: [], securityOpt: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new BerthError('invalid_argument', `runArgs: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--network':
      case '--net':
        out.request.networkMode = value();
        break;
      case '-p':
      case '--publish':
        out.request.ports = [...((out.request.ports as PortBindingRequest[] | undefined) ?? []), ...parsePublish(value())];
        break;
      case '--network-alias':
        out.request.networkAliases = [...((out.request.networkAliases as string[] | undefined) ?? []), value()];
        break;
      case '--cap-add':
        out.capAdd.push(value());
        break;
      case '--security-opt':
        out.securityOpt.push(value());
        break;
      case '--privileged':
        out.request.privileged = true;
        break;
      case '--init':
        out.request.init = true;
        break;
      case '-e':
      case '--env':
        out.env.push(value());
        break;
      case '-l':
      case '--label': {
        const l = value();
        out.labels[l.split('=')[0] ?? l] = l.split('=').slice(1).join('=');
        break;
      }
      case '--name':
        out.request.name = value();
        break;
      case '-u':
      case '--user':
        out.request.user = value();
        break;
      case '-h':
      case '--hostname':
        out.request.hostname = value();
        break;
      case '--mount':
        out.mounts.push(parseMountString(value()));
        break;
      case '-v':
      case '--volume': {
        const [source = '', target = '', mode = ''] = value().split(':');
        out.mounts.push({ type: source.startsWith('/') ? 'bind' : 'volume', source, target, ...(mode.split(',').includes('ro') ? { readOnly: true } : {}) });
        break;
      }
      case '--device':
        out.request.devices = [...((out.request.devices as DeviceMapping[] | undefined) ?? []), parseDevice(value())];
        break;
      case '--gpus':
        logger?.warn(`runArgs: --gpus ${value()}: Berth has no GPU device driver yet, so the container gets no GPU; skipped (device nodes can be passed with --device)`);
        break;
      default:
        logger?.warn(`runArgs: ${arg} is not supported by Berth yet; skipped`);
    }
  }
  return out;
}

/** `--device HOST[:CONTAINER][:PERMISSIONS]`, as docker run reads it. */
export function parseDevice(text: string): DeviceMapping {
  const parts = text.split(':');
  const perms = (p: string | undefined): boolean => p !== undefined && /^[rwm]{1,3}$/.test(p);
  const [host = '', second, third] = parts;
  if (parts.length > 3 || host === '') throw new BerthError('invalid_argument', `invalid device specification: ${text}`);
  if (parts.length === 3 && !perms(third)) throw new BerthError('invalid_argument', `invalid device permissions in ${text}`);
  if (parts.length === 2 && perms(second)) return { pathOnHost: host, permissions: second };
  return { pathOnHost: host, ...(second ? { pathInContainer: second } : {}), ...(third ? { permissions: third } : {}) };
}

/** `appPort` as the reference CLI publishes it: a number on 127.0.0.1 (same port), a string as `-p` takes it. */
export function appPorts(appPort: unknown): PortBindingRequest[] {
  const list = Array.isArray(appPort) ? (appPort as unknown[]) : appPort === undefined ? [] : [appPort];
  return list.flatMap((p) => (typeof p === 'number' ? parsePublish(`127.0.0.1:${p}:${p}`) : parsePublish(String(p))));
}

export interface ContainerRequestInput {
  readonly image: string;
  readonly merged: MergedDevContainerConfig;
  /** Docker --mount syntax; undefined when the config says `workspaceMount: ""`. */
  readonly workspaceMount?: string;
  readonly idLabels: Readonly<Record<string, string>>;
  /** The metadata entries (image's, then the config's), for the devcontainer.metadata label. */
  readonly metadata: readonly unknown[];
  readonly extraMounts?: readonly string[];
  /** Keep the container alive with a shell loop instead of the image's command (default true). */
  readonly overrideCommand?: boolean;
  readonly logger?: Logger;
}

export function containerRequest(input: ContainerRequestInput): ContainerCreateRequest {
  const m = input.merged;
  const runArgs = parseRunArgs(Array.isArray(m['runArgs']) ? (m['runArgs'] as string[]) : [], input.logger);
  const mounts: MountRequest[] = [
    ...(input.workspaceMount ? [parseMountString(input.workspaceMount)] : []),
    ...(m.mounts ?? []).map(mountRequest),
    ...runArgs.mounts,
    ...(input.extraMounts ?? []).map(parseMountString),
  ];
  const override = input.overrideCommand !== false;
  const user = typeof m['containerUser'] === 'string' ? m['containerUser'] : undefined;
  const ports = [...appPorts(m['appPort']), ...((runArgs.request.ports as PortBindingRequest[] | undefined) ?? [])];
  return {
    image: input.image,
    ...(runArgs.request as Partial<ContainerCreateRequest>),
    labels: { ...runArgs.labels, ...input.idLabels, [IMAGE_METADATA_LABEL]: JSON.stringify(input.metadata) },
    env: [...Object.entries(m.containerEnv).map(([k, v]) => `${k}=${v}`), ...runArgs.env],
    ...(user ? { user } : {}),
    ...(m.init || runArgs.request.init === true ? { init: true } : {}),
    ...(m.privileged || runArgs.request.privileged === true ? { privileged: true } : {}),
    capAdd: [...(m.capAdd ?? []), ...runArgs.capAdd],
    securityOpt: [...(m.securityOpt ?? []), ...runArgs.securityOpt],
    mounts,
    ...(ports.length > 0 ? { ports } : {}),
    ...(override ? keepAliveCommand(m.entrypoints ?? []) : {}),
    agent: true,
  };
}
