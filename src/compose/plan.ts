/**
 * Which services an `up` starts and in which order: the requested ones (or
 * every service of an active profile) plus what they depend on, dependencies
 * first; a dependency cycle is an error.
 */
import { BerthError } from '../common/errors';
import type { ComposeProject, ComposeService } from './types';

/** A service without profiles is always active; one with profiles when one of them is enabled. */
export function isActive(service: ComposeService, profiles: readonly string[]): boolean {
  return service.profiles.length === 0 || service.profiles.some((p) => profiles.includes(p) || p === '*') || profiles.includes('*');
}

/** The services to start, in dependency order. Named services start whatever their profiles (as Compose does). */
export function servicesToStart(project: ComposeProject, requested: readonly string[] = []): string[] {
  for (const name of requested) if (!project.services[name]) throw new BerthError('not_found', `no service "${name}" in project ${project.name}`);
  const roots = requested.length > 0 ? requested : Object.values(project.services).filter((s) => isActive(s, project.profiles)).map((s) => s.name);
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: readonly string[]): void => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new BerthError('invalid_argument', `dependency cycle: ${[...path, name].join(' -> ')}`);
    const svc = project.services[name];
    if (!svc) return;
    state.set(name, 'visiting');
    for (const dep of Object.keys(svc.dependsOn)) visit(dep, [...path, name]);
    if (svc.networkMode?.startsWith('service:')) visit(svc.networkMode.slice('service:'.length), [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of [...roots].sort()) visit(name, []);
  return order;
}
