/**
 * devcontainer-feature.json: the parts Berth reads, option values to
 * environment variables (the spec's naming rule), and the metadata entry a
 * feature contributes to the devcontainer.metadata label.
 */
import { BerthError } from '../../common/errors';
import type { ImageMetadataEntry } from '../../config/image-metadata';

export interface FeatureOption {
  readonly type?: 'string' | 'boolean';
  readonly default?: string | boolean;
  readonly enum?: readonly string[];
  readonly proposals?: readonly string[];
}

export interface FeatureJson {
  readonly id: string;
  readonly version?: string;
  readonly name?: string;
  readonly options?: Readonly<Record<string, FeatureOption>>;
  readonly containerEnv?: Readonly<Record<string, string>>;
  readonly dependsOn?: Readonly<Record<string, FeatureValue>>;
  readonly installsAfter?: readonly string[];
  readonly [key: string]: unknown;
}

export type FeatureValue = string | boolean | Readonly<Record<string, string | boolean>>;

/** The properties of devcontainer-feature.json that go into the image's metadata entry. */
const METADATA_KEYS = ['init', 'privileged', 'capAdd', 'securityOpt', 'entrypoint', 'mounts', 'customizations', 'onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand'] as const;

export function parseFeatureJson(text: string, where: string): FeatureJson {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new BerthError('invalid_argument', `${where}: devcontainer-feature.json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as { id?: unknown }).id !== 'string') {
    throw new BerthError('invalid_argument', `${where}: devcontainer-feature.json needs an "id"`);
  }
  return v as FeatureJson;
}

/** The spec's rule: non-word characters to "_", a leading digit or "_" run to one "_", upper case. */
export function optionEnvName(option: string): string {
  return option.replace(/[^\w_]/g, '_').replace(/^[\d_]+/g, '_').toUpperCase();
}

/** The option values for an install: the user's (a bare string sets `version`), else the defaults. */
export function optionValues(feature: FeatureJson, value: FeatureValue): Record<string, string> {
  const user: Record<string, string | boolean> = typeof value === 'string' ? { version: value } : typeof value === 'boolean' ? {} : { ...value };
  const out: Record<string, string> = {};
  for (const [name, option] of Object.entries(feature.options ?? {})) {
    const v = user[name] ?? option.default;
    if (v !== undefined) out[optionEnvName(name)] = String(v);
  }
  for (const [name, v] of Object.entries(user)) if (!(name in (feature.options ?? {}))) out[optionEnvName(name)] = String(v);
  return out;
}

export function metadataEntry(feature: FeatureJson, id: string): ImageMetadataEntry {
  const entry: Record<string, unknown> = { id };
  for (const key of METADATA_KEYS) if (feature[key] !== undefined) entry[key] = feature[key];
  return entry;
}
