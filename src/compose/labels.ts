/** The labels Docker Compose puts on what it makes; Berth puts the same, so that other tools recognise a project. */
export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const NUMBER_LABEL = 'com.docker.compose.container-number';
export const ONEOFF_LABEL = 'com.docker.compose.oneoff';
export const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';
export const CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files';
export const CONFIG_HASH_LABEL = 'com.docker.compose.config-hash';
export const DEPENDS_ON_LABEL = 'com.docker.compose.depends_on';
export const IMAGE_LABEL = 'com.docker.compose.image';
export const VERSION_LABEL = 'com.docker.compose.version';
export const NETWORK_LABEL = 'com.docker.compose.network';
export const VOLUME_LABEL = 'com.docker.compose.volume';

/** The Compose version Berth's labels claim to follow (the label layout of Compose v2). */
export const COMPOSE_VERSION = '2.29.0';

/** A filter for the engine's list calls: the project's things (and the service's, when given). */
export function projectFilter(project: string, service?: string): string {
  return JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`, ...(service ? [`${SERVICE_LABEL}=${service}`] : []), `${ONEOFF_LABEL}=False`] });
}
