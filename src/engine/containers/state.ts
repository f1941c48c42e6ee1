/**
 * The container state machine: which transitions exist, and which verbs a
 * state allows. Each guard answers undefined (allowed) or the typed error to
 * throw; the assert* forms throw it.
 */
import type { ContainerRecord, ContainerStatus } from '../../api/types/containers';
import { BerthError } from '../../common/errors';

const TRANSITIONS: Readonly<Record<ContainerStatus, readonly ContainerStatus[]>> = {
  created: ['running', 'exited', 'removing', 'dead'],
  running: ['exited', 'paused', 'restarting', 'removing', 'dead'],
  paused: ['running', 'exited', 'removing', 'dead'],
  restarting: ['running', 'exited', 'removing', 'dead'],
  exited: ['running', 'removing', 'dead', 'exited'],
  removing: ['dead', 'exited'],
  dead: ['removing'],
};

export function canTransition(from: ContainerStatus, to: ContainerStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws internal when a transition is not in the table (a bug, not a user error). */
export function assertTransition(c: ContainerRecord, to: ContainerStatus): void {
  if (!canTransition(c.state.status, to)) throw new BerthError('internal', `container ${c.name}: invalid transition ${c.state.status} -> ${to}`);
}

const notRunning = (c: ContainerRecord): BerthError =>
  new BerthError('failed_precondition', `container ${c.name} is not running`, { details: { status: c.state.status } });

export function canStart(c: ContainerRecord): BerthError | undefined {
  const s = c.state.status;
  if (s === 'running' || s === 'paused' || s === 'restarting') {
    return new BerthError('failed_precondition', `container ${c.name} is already running`, { details: { status: s } });
  }
  if (s === 'removing' || s === 'dead') {
    return new BerthError('failed_precondition', `cannot start container ${c.name}: it is ${s}`, { details: { status: s } });
  }
  return undefined;
}

/** Stopping a container that is not running is allowed and does nothing (as in Docker). */
export function canStop(c: ContainerRecord): BerthError | undefined {
  return c.state.status === 'removing' ? new BerthError('failed_precondition', `container ${c.name} is being removed`) : undefined;
}

export function canKill(c: ContainerRecord): BerthError | undefined {
  return c.state.status === 'running' || c.state.status === 'paused' ? undefined : notRunning(c);
}

export function canRemove(c: ContainerRecord, force: boolean): BerthError | undefined {
  const s = c.state.status;
  if (s === 'removing') return new BerthError('failed_precondition', `removal of container ${c.name} is already in progress`);
  if ((s === 'running' || s === 'paused' || s === 'restarting') && !force) {
    return new BerthError('failed_precondition', `cannot remove a running container ${c.name}: stop it first or use force`, { details: { status: s } });
  }
  return undefined;
}

export function canExec(c: ContainerRecord): BerthError | undefined {
  if (c.state.status === 'paused') return new BerthError('failed_precondition', `container ${c.name} is paused, unpause it first`);
  return c.state.status === 'running' ? undefined : notRunning(c);
}

export function canAttach(c: ContainerRecord): BerthError | undefined {
  return c.state.status === 'running' ? undefined : notRunning(c);
}

export function canPause(c: ContainerRecord): BerthError | undefined {
  return c.state.status === 'running' ? undefined : notRunning(c);
}

export function canResume(c: ContainerRecord): BerthError | undefined {
  return c.state.status === 'paused' ? undefined : new BerthError('failed_precondition', `container ${c.name} is not paused`);
}

const check = (err: BerthError | undefined): void => {
  if (err) throw err;
};

export const assertCanStart = (c: ContainerRecord): void => check(canStart(c));
export const assertCanStop = (c: ContainerRecord): void => check(canStop(c));
export const assertCanKill = (c: ContainerRecord): void => check(canKill(c));
export const assertCanRemove = (c: ContainerRecord, force: boolean): void => check(canRemove(c, force));
export const assertCanExec = (c: ContainerRecord): void => check(canExec(c));
export const assertCanAttach = (c: ContainerRecord): void => check(canAttach(c));
