/**
 * Healthchecks between Docker's API and Berth's records: Config.Healthcheck
 * in and out, State.Health, and `docker ps`'s Status text ("Up 3 seconds
 * (healthy)"). Pure functions.
 */
import type { ContainerRecord, HealthcheckConfig, HealthState } from '../../../api/types/containers';
import { fromDockerCased } from '../../containers/health-config';
import { healthText } from '../../containers/health-state';

export interface DockerHealthcheck {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export function healthcheckFromDocker(h: DockerHealthcheck | null | undefined): HealthcheckConfig | undefined {
  return fromDockerCased(h, true);
}

/** Config.Healthcheck as Docker writes it (empty fields left out). */
export function dockerHealthcheck(h: HealthcheckConfig | undefined): { Healthcheck?: DockerHealthcheck } {
  if (!h) return {};
  return {
    Healthcheck: {
      ...(h.test ? { Test: [...h.test] } : {}),
      ...(h.interval ? { Interval: h.interval } : {}),
      ...(h.timeout ? { Timeout: h.timeout } : {}),
      ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}),
      ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
      ...(h.retries ? { Retries: h.retries } : {}),
    },
  };
}

/** State.Health. */
export function dockerHealthState(h: HealthState | undefined): { Health?: Record<string, unknown> } {
  if (!h) return {};
  return { Health: { Status: h.status, FailingStreak: h.failingStreak, Log: h.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })) } };
}

/** go-units' HumanDuration, as `docker ps` shows ages. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

const STATUS_TEXT: Readonly<Record<string, string>> = { created: 'Created', running: 'Up', exited: 'Exited', dead: 'Dead', paused: 'Paused', restarting: 'Restarting', removing: 'Removing' };

/** The list's Status: Docker's State.String() ("Up 5 minutes (healthy)", "Exited (0) 2 seconds ago"). */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  const since = (iso: string): string => humanDuration(Math.max(0, now - Date.parse(iso)));
  if ((s.status === 'running' || s.status === 'paused') && s.startedAt) {
    const up = `Up ${since(s.startedAt)}`;
    if (s.status === 'paused') return `${up} (Paused)`;
    return s.health ? `${up} (${healthText(s.health.status)})` : up;
  }
  if (s.status === 'exited' && s.finishedAt) return `Exited (${s.exitCode}) ${since(s.finishedAt)} ago`;
  return `${STATUS_TEXT[s.status] ?? s.status}${s.status === 'exited' ? ` (${s.exitCode})` : ''}`;
}
