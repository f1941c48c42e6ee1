/**
 * Validation of a parsed devcontainer.json: the property schema plus the
 * rules that involve several properties.
 */
import { devcontainerSchema } from './devcontainer-schema';
import type { Issue } from '../common/schema';

const SINGLE_ONLY = ['image', 'build', 'dockerFile', 'context', 'appPort', 'runArgs', 'workspaceMount'] as const;
const COMPOSE_ONLY = ['service', 'runServices'] as const;

function crossPropertyIssues(config: Record<string, unknown>): Issue[] {
  const out: Issue[] = [];
  const has = (key: string): boolean => config[key] !== undefined;
  const build = config['build'];
  const hasDockerfile =
    has('dockerFile') || (typeof build === 'object' && build !== null && (build as Record<string, unknown>)['dockerfile'] !== undefined);
  if (has('dockerComposeFile')) {
    if (!has('service')) {
      out.push({ severity: 'error', path: ['service'], message: '"service" is required when "dockerComposeFile" is set' });
    }
    for (const key of SINGLE_ONLY) {
      if (has(key)) {
        out.push({
          severity: key === 'image' || (key === 'build' && hasDockerfile) || key === 'dockerFile' ? 'error' : 'warning',
          path: [key],
          message: `"${key}" cannot be combined with "dockerComposeFile" (set it on the compose service instead)`,
          atKey: true,
        });
      }
    }
    if (config['shutdownAction'] === 'stopContainer') {
      out.push({ severity: 'error', path: ['shutdownAction'], message: 'use "stopCompose" or "none" with a compose configuration' });
    }
    return out;
  }
  for (const key of COMPOSE_ONLY) {
    if (has(key)) out.push({ severity: 'warning', path: [key], message: `"${key}" is only used with "dockerComposeFile"`, atKey: true });
  }
  if (config['shutdownAction'] === 'stopCompose') {
    out.push({ severity: 'error', path: ['shutdownAction'], message: '"stopCompose" needs a compose configuration; use "stopContainer" or "none"' });
  }
  if (has('image') && hasDockerfile) {
    out.push({
      severity: 'error',
      path: ['image'],
      message: '"image" and a Dockerfile ("build.dockerfile") are mutually exclusive: choose one',
      atKey: true,
    });
  }
  if (typeof build === 'object' && build !== null && !Array.isArray(build) && !hasDockerfile && !has('image')) {
    out.push({ severity: 'error', path: ['build'], message: '"build" needs "dockerfile"', atKey: true });
  }
  if (!has('image') && !hasDockerfile) {
    out.push({
      severity: 'warning',
      path: [],
      message: 'no "image", "build.dockerfile" or "dockerComposeFile": the container must already exist to use this configuration',
    });
  }
  return out;
}

/** All issues of a parsed configuration (the value of the whole document). */
export function validateConfigValue(value: unknown): Issue[] {
  const out: Issue[] = [];
  if (!devcontainerSchema().check(value, [], out)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  }
  out.push(...crossPropertyIssues(value as Record<string, unknown>));
  return out;
}
