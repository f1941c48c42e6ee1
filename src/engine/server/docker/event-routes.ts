/**
 * `docker events`: the engine's events as Docker's JSON messages, replayed
 * from `since` out of the bus's recent ones, then live until `until` (or the
 * client goes); filters type, container, image, event, label.
 */
import type { EngineEvent } from '../../../api/types/containers';
import { BerthError } from '../../../common/errors';
import type { EventSource } from '../services';
import type { Route } from './docker-server';
import { parseFilterJson } from '../../volumes/filters';

const FILTERS = ['type', 'container', 'image', 'event', 'label'];

/** Docker's time arguments: Unix seconds with an optional fraction ("1700000000.5"), as nanoseconds. */
export function parseEventTime(value: string | null, name: string): bigint | undefined {
  if (value === null || value === '') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (!m) throw new BerthError('invalid_argument', `${name} must be a Unix timestamp (got "${value}")`);
  return BigInt(m[1] ?? '0') * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export function eventMatches(e: EngineEvent, f: Readonly<Record<string, readonly string[]>>): boolean {
  const any = (key: string, test: (v: string) => boolean): boolean => !f[key]?.length || f[key].some(test);
  const name = e.attributes['name'] ?? '';
  return (
    any('type', (t) => t === e.type) &&
    // Docker: health_status, exec_create and exec_start also match their "name: detail" forms.
    any('event', (a) => a === e.action || (['health_status', 'exec_create', 'exec_start'].includes(a) && e.action.startsWith(`${a}:`))) &&
    any('container', (c) => e.type === 'container' && (e.id.startsWith(c) || name === c.replace(/^\//, ''))) &&
    any('image', (i) => (e.type === 'image' ? e.id === i || e.id.startsWith(`sha256:${i}`) || name === i : e.attributes['image'] === i)) &&
    any('label', (l) => {
      const eq = l.indexOf('=');
      const k = eq < 0 ? l : l.slice(0, eq);
      return e.attributes[k] !== undefined && (eq < 0 || e.attributes[k] === l.slice(eq + 1));
    })
  );
}

/** Docker's event message as JSON; timeNano is written with all its digits (past a double's precision). */
export function dockerEventJson(e: EngineEvent): string {
  const ns = BigInt(e.timeNano);
  const message = {
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    scope: 'local',
    time: Number(ns / 1_000_000_000n),
    timeNano: 0,
    ...(e.type === 'container' ? { status: e.action, id: e.id, from: e.attributes['image'] ?? '' } : {}),
  };
  return JSON.stringify(message).replace('"timeNano":0', `"timeNano":${ns.toString()}`);
}

export function eventRoutes(events: EventSource): Route[] {
  return [
    [
      'GET',
      /^\/events$/,
      async ({ res, query, signal }) => {
        const since = parseEventTime(query.get('since'), 'since');
        const until = parseEventTime(query.get('until'), 'until');
        const filters = parseFilterJson(query.get('filters'), FILTERS);
        const inWindow = (e: EngineEvent): boolean => (since === undefined || BigInt(e.timeNano) >= since) && (until === undefined || BigInt(e.timeNano) <= until);
        const write = (e: EngineEvent): void => {
          if (inWindow(e) && eventMatches(e, filters)) res.write(`${dockerEventJson(e)}\n`);
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        // The past ones (from `since`) first, then live.
        const unsubscribe = events.subscribe(write, { since });
        try {
          const nowNs = BigInt(Date.now()) * 1_000_000n;
          const wait = until === undefined ? undefined : Number((until - nowNs) / 1_000_000n);
          if (wait === undefined || wait > 0) {
            await new Promise<void>((resolve) => {
              const timer = wait === undefined ? undefined : setTimeout(resolve, wait);
              signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
            });
          }
        } finally {
          unsubscribe();
        }
        res.end();
      },
    ],
  ];
}
