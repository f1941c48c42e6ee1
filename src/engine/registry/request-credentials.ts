/**
 * Credentials that come with one API request (Docker's X-Registry-Auth),
 * for the pulls and pushes it makes; other requests fall back to the
 * configured lookup (a Docker config.json).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Credentials } from './auth';

export interface RequestCredentials extends Credentials {
  /** The registry they are for; empty: whichever the request talks to. */
  readonly serverAddress?: string;
}

function sameRegistry(address: string, host: string): boolean {
  const bare = address.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const normal = (h: string): string => (h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h);
  return normal(bare) === normal(host);
}

export class RequestCredentialScope {
  private readonly storage = new AsyncLocalStorage<RequestCredentials>();

  /** Runs `fn` with `credentials` in force for the registry calls it makes. */
  run<T>(credentials: RequestCredentials, fn: () => Promise<T>): Promise<T> {
    return this.storage.run(credentials, fn);
  }

  /** A credentials lookup: the request's own for its registry, else `fallback`'s. */
  lookup(fallback?: (host: string) => Promise<Credentials | undefined>): (host: string) => Promise<Credentials | undefined> {
    return async (host) => {
      const mine = this.storage.getStore();
      if (mine && (!mine.serverAddress || sameRegistry(mine.serverAddress, host))) return { username: mine.username, password: mine.password };
      return fallback?.(host);
    };
  }
}
