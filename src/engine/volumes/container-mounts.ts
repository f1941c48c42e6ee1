/**
 * A container's mounts, resolved at create: binds checked (or created, for
 * Docker's legacy Binds), tmpfs, named and anonymous volumes reserved in the
 * volume store (created when missing, the image's content copied up into
 * empty ones), and anonymous volumes for the image's VOLUMEs no mount covers.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerCreateRequest, ContainerRecord, MountPoint, MountRequest } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { OciMount } from '../oci/spec';
import { copyUp } from './copy-up';
import type { VolumeStore } from './store';

export interface ResolvedMounts {
  readonly oci: readonly OciMount[];
  readonly points: readonly MountPoint[];
  /** The container's record is saved: its references to volumes now live there. */
  done(): void;
  /** The create failed: drops the reservations and the anonymous volumes made for it. */
  rollback(): Promise<void>;
}

export interface MountInput {
  readonly containerId: string;
  readonly request: ContainerCreateRequest;
  /** The image's VOLUME paths (config.Volumes). */
  readonly imageVolumes?: Readonly<Record<string, unknown>> | null;
  /** The container's rootfs, mounted (copy-up reads the image's content from it). */
  readonly rootfs: string;
  readonly signal?: AbortSignal;
}

/** What the container manager needs from the volumes. */
export interface MountResolver {
  resolve(input: MountInput): Promise<ResolvedMounts>;
  /** After a container's record is gone; with `removeVolumes`, its anonymous volumes go too (`rm -v`, `--rm`). */
  removed(record: ContainerRecord, options: { removeVolumes: boolean }): Promise<void>;
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

export function normalizeTarget(target: string): string {
  if (!target.startsWith('/')) throw new BerthError('invalid_argument', `invalid mount config: mount path must be absolute: ${target}`);
  const normalized = path.posix.normalize(target).replace(/(.)\/+$/, '$1');
  if (normalized === '/') throw new BerthError('invalid_argument', 'invalid mount config: destination can\'t be "/"');
  return normalized;
}

function propagation(m: MountRequest): string {
  const p = m.propagation || 'rprivate';
  if (!PROPAGATIONS.includes(p)) throw new BerthError('invalid_argument', `invalid propagation mode: ${p}`);
  return p;
}

async function bindSource(m: MountRequest): Promise<string> {
  if (!m.source || !path.isAbsolute(m.source)) throw new BerthError('invalid_argument', `invalid mount config for type "bind": invalid mount path: '${m.source ?? ''}' mount path must be absolute`);
  const source = path.normalize(m.source);
  if (existsSync(source)) return source;
  if (!m.createSource) throw new BerthError('invalid_argument', `invalid mount config for type "bind": bind source path does not exist: ${source}`);
  await mkdir(source, { recursive: true, mode: 0o755 });
  return source;
}

export class ContainerMounts implements MountResolver {
  /** Without a volume store, volume mounts are refused. */
  constructor(
    private readonly volumes: VolumeStore | undefined,
    private readonly logger: Logger,
  ) {}

  async resolve(input: MountInput): Promise<ResolvedMounts> {
    const { containerId: holder } = input;
    const requested = (input.request.mounts ?? []).map((m) => ({ ...m, target: normalizeTarget(m.target) }));
    const seen = new Set<string>();
    for (const m of requested) {
      if (seen.has(m.target)) throw new BerthError('invalid_argument', `Duplicate mount point: ${m.target}`);
      seen.add(m.target);
    }
    // The image's VOLUMEs: anonymous volumes wherever no mount is given.
    for (const target of Object.keys(input.imageVolumes ?? {}).map(normalizeTarget)) {
      if (seen.has(target)) continue;
      seen.add(target);
      requested.push({ type: 'volume', target });
    }
    const oci: OciMount[] = [];
    const points: MountPoint[] = [];
    const anonymous: string[] = [];
    const rollback = async (): Promise<void> => {
      this.volumes?.release(holder);
      for (const name of anonymous) await this.volumes?.remove(name, { force: true }).catch((err: unknown) => this.logger.warn('cannot remove an anonymous volume', { name, error: String(err) }));
    };
    try {
      for (const m of requested) {
        const access = m.readOnly ? 'ro' : 'rw';
        if (m.type === 'tmpfs') {
          oci.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.readOnly ? ['ro'] : []), ...(m.options ?? [])] });
          points.push({ type: 'tmpfs', source: '', destination: m.target, readOnly: m.readOnly === true, mode: m.mode ?? '', propagation: '' });
        } else if (m.type === 'bind') {
          const source = await bindSource(m);
          const prop = propagation(m);
          oci.push({ destination: m.target, type: 'bind', source, options: ['rbind', access, prop, ...(m.options ?? [])] });
          points.push({ type: 'bind', source, destination: m.target, readOnly: m.readOnly === true, mode: m.mode ?? (m.readOnly ? 'ro' : ''), propagation: prop });
        } else if (m.type === 'volume') {
          if (!this.volumes) throw new BerthError('not_implemented', 'volumes are not available in this engine');
          const { volume, created, anonymous: isAnonymous } = await this.volumes.acquire(holder, m.source, {
            ...(m.volumeLabels ? { labels: m.volumeLabels } : {}),
            ...(m.noCopy ? {} : { populate: async (v) => void (await copyUp(input.rootfs, m.target, v.mountpoint, input.signal ? { signal: input.signal } : {})) }),
          });
          if (created && isAnonymous) anonymous.push(volume.name);
          oci.push({ destination: m.target, type: 'bind', source: volume.mountpoint, options: ['rbind', access, 'rprivate', ...(m.options ?? [])] });
          points.push({
            type: 'volume',
            name: volume.name,
            source: volume.mountpoint,
            destination: m.target,
            readOnly: m.readOnly === true,
            ...(isAnonymous ? { anonymous: true } : {}),
            driver: volume.driver,
            mode: m.mode ?? 'z',
            propagation: '',
          });
        } else {
          throw new BerthError('invalid_argument', `unknown mount type "${String((m as { type: unknown }).type)}"`);
        }
      }
    } catch (err) {
      await rollback();
      throw err;
    }
    return { oci, points, done: () => this.volumes?.release(holder), rollback };
  }

  async removed(record: ContainerRecord, options: { removeVolumes: boolean }): Promise<void> {
    if (!options.removeVolumes || !this.volumes) return;
    for (const m of record.mounts ?? []) {
      if (m.type !== 'volume' || !m.anonymous || !m.name) continue;
      // Docker: a volume another container still uses stays; that is not an error.
      await this.volumes.remove(m.name, { force: true }).catch((err: unknown) => {
        if (!BerthError.is(err, 'conflict')) throw err;
      });
    }
  }
}
