/**
 * Named volumes: what a create request carries and what the engine records.
 * Only the "local" driver exists: a directory under the data root.
 */

/** Docker's label on volumes made for one container (`-v /path`, an image's VOLUME); prune removes only those by default. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface VolumeCreateRequest {
  /** Absent: an anonymous volume with a random 64-hex name. */
  readonly name?: string;
  /** Only "local". */
  readonly driver?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Driver options (the local driver's type/device/o are not supported yet). */
  readonly options?: Readonly<Record<string, string>>;
}

export interface VolumeRecord {
  readonly name: string;
  readonly driver: 'local';
  /** Host path of the data, <dataRoot>/volumes/<name>/_data. */
  readonly mountpoint: string;
  readonly createdAt: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string>>;
  /** Ids of the containers (any state) that mount it; filled by list and inspect. */
  readonly usedBy?: readonly string[];
}

export interface VolumeListFilters {
  /** Substrings of the name. */
  readonly name?: readonly string[];
  /** "key" or "key=value". */
  readonly label?: readonly string[];
  readonly driver?: readonly string[];
  /** true: only volumes no container uses; false: only used ones. */
  readonly dangling?: boolean;
}

export interface VolumePruneFilters {
  /** Named volumes too (default: anonymous ones only, as Docker 23+). */
  readonly all?: boolean;
  /** "key" or "key=value": only volumes with the label. */
  readonly label?: readonly string[];
  /** "key" or "key=value": only volumes without it. */
  readonly labelNot?: readonly string[];
}

export interface VolumePruneResult {
  readonly deleted: readonly string[];
  readonly spaceReclaimed: number;
}
