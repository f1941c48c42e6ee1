/**
 * The devcontainer.json model, as the Dev Containers specification defines it
 * (containers.dev/implementors/json_reference). Values are produced only by
 * parse.ts after validation, and are frozen.
 */

export const LIFECYCLE_COMMANDS = [
  'initializeCommand',
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
] as const;
export type LifecycleCommandName = (typeof LIFECYCLE_COMMANDS)[number];

/** A command run through a shell (string), directly (array), or several in parallel (object). */
export type LifecycleCommand = string | readonly string[] | { readonly [name: string]: string | readonly string[] };

export const ON_AUTO_FORWARD = ['notify', 'openBrowser', 'openBrowserOnce', 'openPreview', 'silent', 'ignore'] as const;
export type OnAutoForward = (typeof ON_AUTO_FORWARD)[number];

export interface PortAttributes {
  readonly label?: string;
  readonly onAutoForward?: OnAutoForward;
  readonly elevateIfNeeded?: boolean;
  readonly requireLocalPort?: boolean;
  readonly protocol?: 'http' | 'https';
}

export const USER_ENV_PROBES = ['none', 'loginInteractiveShell', 'interactiveShell', 'loginShell'] as const;
export type UserEnvProbe = (typeof USER_ENV_PROBES)[number];

export interface MountObject {
  readonly type: 'bind' | 'volume';
  readonly source?: string;
  readonly target: string;
}
export type Mount = string | MountObject;

export interface HostGpuRequirements {
  readonly cores?: number;
  readonly memory?: string;
}

export interface HostRequirements {
  readonly cpus?: number;
  readonly memory?: string;
  readonly storage?: string;
  readonly gpu?: boolean | 'optional' | HostGpuRequirements;
}

export type FeatureOptions = string | boolean | { readonly [option: string]: string | boolean };

export interface BuildOptions {
  readonly dockerfile?: string;
  readonly context?: string;
  readonly target?: string;
  readonly args?: { readonly [name: string]: string };
  readonly cacheFrom?: string | readonly string[];
  readonly options?: readonly string[];
}

export interface VSCodeCustomizations {
  readonly extensions?: readonly string[];
  readonly settings?: { readonly [key: string]: unknown };
  readonly devPort?: number;
  readonly [key: string]: unknown;
}

export interface Customizations {
  readonly vscode?: VSCodeCustomizations;
  readonly [tool: string]: unknown;
}

export interface SecretMetadata {
  readonly description?: string;
  readonly documentationUrl?: string;
}

/** Properties that every kind of configuration shares. */
export interface CommonConfig {
  readonly $schema?: string;
  readonly name?: string;
  readonly forwardPorts?: readonly (number | string)[];
  readonly portsAttributes?: { readonly [portOrRangeOrRegex: string]: PortAttributes };
  readonly otherPortsAttributes?: PortAttributes;
  readonly updateRemoteUserUID?: boolean;
  readonly containerEnv?: { readonly [name: string]: string };
  readonly containerUser?: string;
  readonly mounts?: readonly Mount[];
  readonly init?: boolean;
  readonly privileged?: boolean;
  readonly capAdd?: readonly string[];
  readonly securityOpt?: readonly string[];
  readonly remoteEnv?: { readonly [name: string]: string | null };
  readonly remoteUser?: string;
  readonly initializeCommand?: LifecycleCommand;
  readonly onCreateCommand?: LifecycleCommand;
  readonly updateContentCommand?: LifecycleCommand;
  readonly postCreateCommand?: LifecycleCommand;
  readonly postStartCommand?: LifecycleCommand;
  readonly postAttachCommand?: LifecycleCommand;
  readonly waitFor?: LifecycleCommandName;
  readonly userEnvProbe?: UserEnvProbe;
  readonly features?: { readonly [id: string]: FeatureOptions };
  readonly overrideFeatureInstallOrder?: readonly string[];
  readonly hostRequirements?: HostRequirements;
  readonly customizations?: Customizations;
  readonly secrets?: { readonly [name: string]: SecretMetadata };
  readonly overrideCommand?: boolean;
  readonly workspaceFolder?: string;
  /** Deprecated top-level forms, moved into customizations.vscode when read. */
  readonly extensions?: readonly string[];
  readonly settings?: { readonly [key: string]: unknown };
  readonly devPort?: number;
}

/** image- or Dockerfile-based configuration. */
export interface SingleContainerConfig extends CommonConfig {
  readonly image?: string;
  readonly build?: BuildOptions;
  /** Deprecated: build.dockerfile. */
  readonly dockerFile?: string;
  /** Deprecated: build.context. */
  readonly context?: string;
  readonly appPort?: number | string | readonly (number | string)[];
  readonly runArgs?: readonly string[];
  readonly shutdownAction?: 'none' | 'stopContainer';
  readonly workspaceMount?: string;
}

export interface ComposeConfig extends CommonConfig {
  readonly dockerComposeFile: string | readonly string[];
  readonly service: string;
  readonly runServices?: readonly string[];
  readonly shutdownAction?: 'none' | 'stopCompose';
}

export type DevContainerConfig = SingleContainerConfig | ComposeConfig;

export type ConfigKind = 'image' | 'dockerfile' | 'compose' | 'none';

export function isComposeConfig(config: DevContainerConfig): config is ComposeConfig {
  return 'dockerComposeFile' in config;
}

export function configKind(config: DevContainerConfig): ConfigKind {
  if (isComposeConfig(config)) return 'compose';
  if (config.dockerFile !== undefined || config.build?.dockerfile !== undefined) return 'dockerfile';
  if (config.image !== undefined) return 'image';
  return 'none';
}
