/** Which verbs a container's state allows; each refusal is a typed error. */
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';

const refuse = (c: ContainerRecord, what: string): BerthError =>
  new BerthError('failed_precondition', `cannot ${what} container ${c.name}: it is ${c.state.status}`);

export function assertCanStart(c: ContainerRecord): void {
  if (c.state.status === 'running') throw new BerthError('conflict', `container ${c.name} is already running`);
  if (c.state.status === 'removing') throw refuse(c, 'start');
}

export function assertCanStop(c: ContainerRecord): boolean {
  return c.state.status === 'running';
}

export function assertCanKill(c: ContainerRecord): void {
  if (c.state.status !== 'running') throw new BerthError('conflict', `container ${c.name} is not running`);
}

export function assertCanRemove(c: ContainerRecord, force: boolean): void {
  if (c.state.status === 'running' && !force) {
    throw new BerthError('conflict', `cannot remove running container ${c.name}: stop it first or use force`);
  }
}

export function assertCanExec(c: ContainerRecord): void {
  if (c.state.status !== 'running') throw new BerthError('conflict', `container ${c.name} is not running`);
}
