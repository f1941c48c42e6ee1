/**
 * Docker's mount specs into Berth's mount requests: HostConfig.Binds
 * ("src:dst[:mode]", a src that is not an absolute path names a volume),
 * HostConfig.Mounts, HostConfig.Tmpfs and Config.Volumes; and mount points
 * back into inspect's "Mounts". Pure functions.
 */
import path from 'node:path';
import type { MountPoint, MountRequest } from '../../../api/types/containers';
import { BerthError } from '../../../common/errors';
import { validateVolumeName } from '../../volumes/names';

export interface DockerMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
const CONSISTENCY = ['consistent', 'cached', 'delegated'];
/** Docker's tmpfs defaults; a later "exec" (etc.) wins. */
const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev'];

const invalidSpec = (raw: string, why?: string): BerthError => new BerthError('invalid_argument', `invalid volume specification: '${raw}'${why ? `: ${why}` : ''}`);

function absoluteTarget(raw: string, target: string, type: string): string {
  if (!path.posix.isAbsolute(target)) throw invalidSpec(raw, `invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
  return target;
}

interface BindMode {
  readOnly: boolean;
  noCopy: boolean;
  propagation?: string;
}

function parseMode(raw: string, mode: string): BindMode {
  const out: BindMode = { readOnly: false, noCopy: false };
  let rw = 0;
  let label = 0;
  let copy = 0;
  let consistency = 0;
  for (const part of mode ? mode.split(',') : []) {
    if (part === 'ro' || part === 'rw') {
      rw++;
      out.readOnly = part === 'ro';
    } else if (part === 'z' || part === 'Z') label++;
    else if (part === 'nocopy') {
      copy++;
      out.noCopy = true;
    } else if (PROPAGATIONS.includes(part)) {
      if (out.propagation) throw new BerthError('invalid_argument', `invalid mode: ${mode}`);
      out.propagation = part;
    } else if (CONSISTENCY.includes(part)) consistency++;
    else throw new BerthError('invalid_argument', `invalid mode: ${mode}`);
  }
  if (rw > 1 || label > 1 || copy > 1 || consistency > 1) throw invalidSpec(raw, `invalid mode: ${mode}`);
  return out;
}

/** One HostConfig.Binds entry: "dst" (anonymous volume), "src:dst" or "src:dst:mode". */
export function parseBind(raw: string): MountRequest {
  const parts = raw.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw invalidSpec(raw);
  if (parts.length === 1) return { type: 'volume', target: absoluteTarget(raw, parts[0] ?? '', 'volume'), mode: 'z' };
  const [source = '', target = '', mode = ''] = parts;
  // "/dst:ro" is a destination with a mode: volumes need a source then.
  if (parts.length === 2 && /^(ro|rw|z|Z|nocopy)(,|$)/.test(target)) throw invalidSpec(raw);
  const parsed = parseMode(raw, mode);
  if (path.posix.isAbsolute(source)) {
    if (parsed.noCopy) throw new BerthError('invalid_argument', `invalid mode: ${mode}: nocopy is only for volumes`);
    return {
      type: 'bind',
      source,
      target: absoluteTarget(raw, target, 'bind'),
      readOnly: parsed.readOnly,
      createSource: true,
      mode,
      ...(parsed.propagation ? { propagation: parsed.propagation } : {}),
    };
  }
  if (parsed.propagation) throw new BerthError('invalid_argument', `invalid mode: ${mode}: propagation is only for bind mounts`);
  return {
    type: 'volume',
    source: validateVolumeName(source),
    target: absoluteTarget(raw, target, 'volume'),
    readOnly: parsed.readOnly,
    ...(parsed.noCopy ? { noCopy: true } : {}),
    mode: mode || 'z',
  };
}

function notFor(type: string, field: string): BerthError {
  return new BerthError('invalid_argument', `invalid mount config for type "${type}": ${field} must not be specified`);
}

/** One HostConfig.Mounts entry. */
export function parseDockerMount(m: DockerMount): MountRequest {
  const type = m.Type ?? '';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new BerthError(type === 'npipe' || type === 'cluster' || type === 'image' ? 'not_implemented' : 'invalid_argument', `mount type "${type}" is not supported`);
  if (!m.Target) throw new BerthError('invalid_argument', `invalid mount config for type "${type}": field Target must not be empty`);
  const target = m.Target;
  if (!path.posix.isAbsolute(target)) throw new BerthError('invalid_argument', `invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
  const readOnly = m.ReadOnly === true;
  if (type === 'bind') {
    if (m.VolumeOptions) throw notFor(type, 'VolumeOptions');
    if (m.TmpfsOptions) throw notFor(type, 'TmpfsOptions');
    if (!m.Source) throw new BerthError('invalid_argument', 'invalid mount config for type "bind": field Source must not be empty');
    const b = m.BindOptions ?? {};
    if (b.NonRecursive) throw new BerthError('not_implemented', 'non-recursive bind mounts are not supported yet');
    if (b.Propagation && !PROPAGATIONS.includes(b.Propagation)) throw new BerthError('invalid_argument', `invalid propagation mode: ${b.Propagation}`);
    return {
      type,
      source: m.Source,
      target,
      readOnly,
      ...(b.CreateMountpoint ? { createSource: true } : {}),
      ...(b.Propagation ? { propagation: b.Propagation } : {}),
      mode: '',
    };
  }
  if (type === 'volume') {
    if (m.BindOptions) throw notFor(type, 'BindOptions');
    if (m.TmpfsOptions) throw notFor(type, 'TmpfsOptions');
    const v = m.VolumeOptions ?? {};
    const driver = v.DriverConfig?.Name;
    if (driver && driver !== 'local') throw new BerthError('not_implemented', `volume driver "${driver}" is not supported (only "local")`);
    if (Object.keys(v.DriverConfig?.Options ?? {}).length > 0) throw new BerthError('not_implemented', "the local driver's mount options are not supported yet (issue #5)");
    if (v.Subpath) throw new BerthError('not_implemented', 'volume subpaths are not supported yet');
    return {
      type,
      ...(m.Source ? { source: validateVolumeName(m.Source) } : {}),
      target,
      readOnly,
      ...(v.NoCopy ? { noCopy: true } : {}),
      ...(v.Labels && Object.keys(v.Labels).length > 0 ? { volumeLabels: v.Labels } : {}),
      mode: 'z',
    };
  }
  if (m.Source) throw new BerthError('invalid_argument', 'invalid mount config for type "tmpfs": field Source must not be specified');
  if (m.BindOptions) throw notFor(type, 'BindOptions');
  if (m.VolumeOptions) throw notFor(type, 'VolumeOptions');
  const t = m.TmpfsOptions ?? {};
  if (t.SizeBytes !== undefined && t.SizeBytes < 0) throw new BerthError('invalid_argument', 'invalid tmpfs size: must not be negative');
  const options = [
    ...TMPFS_DEFAULTS,
    ...(t.SizeBytes ? [`size=${t.SizeBytes}`] : []),
    ...(t.Mode ? [`mode=${(t.Mode & 0o7777).toString(8)}`] : []),
    ...(t.Options ?? []).map((o) => o.join('=')),
  ];
  return { type, target, readOnly, options, mode: '' };
}

/** HostConfig.Tmpfs: {"/t": "size=1m,mode=1777"}. */
export function tmpfsMounts(tmpfs: Readonly<Record<string, string>> | null | undefined): MountRequest[] {
  return Object.entries(tmpfs ?? {}).map(([target, options]) => {
    if (!path.posix.isAbsolute(target)) throw new BerthError('invalid_argument', `invalid tmpfs mount path: '${target}' mount path must be absolute`);
    return { type: 'tmpfs', target, options: [...TMPFS_DEFAULTS, ...options.split(',').filter(Boolean)], mode: '' };
  });
}

const clean = (p: string): string => path.posix.normalize(p).replace(/(.)\/+$/, '$1');

/** All of a create body's mounts; Config.Volumes paths that nothing else covers become anonymous volumes. */
export function dockerMounts(
  hc: { Binds?: string[] | null; Mounts?: DockerMount[] | null; Tmpfs?: Record<string, string> | null },
  volumes: Readonly<Record<string, unknown>> | null | undefined,
): MountRequest[] {
  const mounts = [...(hc.Binds ?? []).map(parseBind), ...(hc.Mounts ?? []).map(parseDockerMount), ...tmpfsMounts(hc.Tmpfs)];
  const taken = new Set(mounts.map((m) => clean(m.target)));
  for (const target of Object.keys(volumes ?? {})) {
    if (taken.has(clean(absoluteTarget(target, target, 'volume')))) continue;
    taken.add(clean(target));
    mounts.push({ type: 'volume', target, mode: '' });
  }
  return mounts;
}

/** A mount point as inspect's "Mounts" shows it. */
export function dockerMountPoint(m: MountPoint): Record<string, unknown> {
  return {
    Type: m.type,
    ...(m.name ? { Name: m.name } : {}),
    Source: m.source,
    Destination: m.destination,
    ...(m.driver ? { Driver: m.driver } : {}),
    Mode: m.mode,
    RW: !m.readOnly,
    Propagation: m.propagation,
  };
}
