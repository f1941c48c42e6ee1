/** Docker's X-Registry-Auth header (base64url JSON) to the credentials a pull or push uses. */
import type http from 'node:http';
import { BerthError } from '../../../common/errors';
import type { EngineServices } from '../services';
import type { Route } from './docker-server';
import { send } from './respond';

interface AuthConfig {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
}

export function registryAuthOf(req: http.IncomingMessage): { username: string; password: string; serverAddress?: string } | undefined {
  const header = req.headers['x-registry-auth'];
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  let config: AuthConfig;
  try {
    config = JSON.parse(Buffer.from(header.trim(), 'base64url').toString('utf8')) as AuthConfig;
  } catch (err) {
    throw new BerthError('invalid_argument', 'X-Registry-Auth is not base64-encoded JSON', { cause: err });
  }
  if (config.identitytoken) throw new BerthError('not_implemented', 'registry identity tokens are not supported; log in with a user name and password');
  if (!config.username || !config.password) return undefined;
  return { username: config.username, password: config.password, ...(config.serveraddress ? { serverAddress: config.serveraddress } : {}) };
}

/** Runs `fn` with the request's registry credentials in force (if it sent any). */
export function withRegistryAuth<T>(services: Pick<EngineServices, 'registryCredentials'>, req: http.IncomingMessage, fn: () => Promise<T>): Promise<T> {
  const auth = registryAuthOf(req);
  return auth && services.registryCredentials ? services.registryCredentials.run(auth, fn) : fn();
}

/** The registry host of a login's server address ("https://index.docker.io/v1/" is Docker Hub). */
export function loginHost(address: string | undefined): string {
  const bare = (address ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return bare === '' || bare === 'index.docker.io' || bare === 'registry-1.docker.io' ? 'docker.io' : bare;
}

/** POST /auth (`docker login`): checks the credentials against the registry; the client keeps them. */
export function authRoutes(services: Pick<EngineServices, 'registryLogin'>): Route[] {
  return [
    [
      'POST',
      /^\/auth$/,
      async ({ res, body, signal }) => {
        const b = (await body()) as AuthConfig;
        if (!services.registryLogin) throw new BerthError('not_implemented', 'this engine cannot check registry credentials');
        if (b.identitytoken) throw new BerthError('not_implemented', 'registry identity tokens are not supported; log in with a user name and password');
        if (!b.username || !b.password) throw new BerthError('invalid_argument', 'username and password are required');
        await services.registryLogin(loginHost(b.serveraddress), { username: b.username, password: b.password }, { signal });
        send(res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
      },
    ],
  ];
}
