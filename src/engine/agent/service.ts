/**
 * The agent as the engine serves it: the bundle that containers created with
 * `agent: true` get read-only at /.berth, per-container keys, and agent
 * processes started on demand through an exec (as the container's user),
 * whose stdio carries the SSH protocol.
 */
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { AgentCredentials } from '../../api/routes';
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { ExecSession } from '../containers/exec';
import { AGENT_MOUNT_POINT, AGENT_NODE_FLAGS, prepareAgentBundle, type AgentBundleSources } from './bundle';
import { ensureAgentKeys, type AgentKeys } from './keys';

/** What the agent service needs of the containers. */
export interface AgentContainers {
  inspect(idOrName: string): Promise<ContainerRecord>;
  exec(idOrName: string, request: { cmd: readonly string[]; env?: readonly string[]; attachStdin?: boolean }, options?: { signal?: AbortSignal; stdio?: Socket }): Promise<ExecSession>;
}

/** A client's connection whose WebSocket upgrade request was read (and nothing after it): the agent answers it. */
export interface AgentConnection {
  readonly socket: Socket;
  /** Sec-WebSocket-Accept for the client's key. */
  readonly accept: string;
  readonly protocol?: string;
}


/** The agent bundle, assembled on first use (and reused while its sources do not change). */
export class AgentBundle {
  private bundle: Promise<string> | undefined;

  constructor(
    private readonly dir: string,
    private readonly sources: AgentBundleSources | undefined,
  ) {}

  path(options: { signal?: AbortSignal } = {}): Promise<string> {
    const sources = this.sources;
    if (!sources) return Promise.reject(new BerthError('failed_precondition', 'this engine has no agent bundle (dist/berth-agent.js and node_modules beside berthd)'));
    this.bundle ??= prepareAgentBundle(this.dir, sources, options).catch((err: unknown) => {
      this.bundle = undefined;
      throw err;
    });
    return this.bundle;
  }
}

export class AgentService {
  constructor(
    private readonly containers: AgentContainers,
    private readonly bundle: AgentBundle,
    private readonly logger: Logger,
  ) {}

  private async keys(record: ContainerRecord, options: { signal?: AbortSignal } = {}): Promise<AgentKeys> {
    if (!record.request.agent) {
      throw new BerthError('failed_precondition', `container ${record.name} was created without the Berth agent (create it with agent: true, e.g. berth container run --agent)`);
    }
    return ensureAgentKeys(path.join(path.dirname(record.bundle), 'agent-keys'), record.name, options);
  }

  async credentials(idOrName: string, options: { signal?: AbortSignal } = {}): Promise<AgentCredentials> {
    const record = await this.containers.inspect(idOrName);
    const keys = await this.keys(record, options);
    return { id: record.id, name: record.name, user: record.request.user ?? 'root', clientKey: keys.clientKey, hostPublicKey: keys.hostPublicKey };
  }

  /**
   * Starts an agent in the running container; its stdin/stdout carry SSH. With a
   * connection, they are that connection: the agent completes its WebSocket upgrade.
   */
  async open(idOrName: string, options: { signal?: AbortSignal; connection?: AgentConnection } = {}): Promise<ExecSession> {
    const record = await this.containers.inspect(idOrName);
    const keys = await this.keys(record, options);
    const bundle = await this.bundle.path(options);
    const loader = (await readFile(path.join(bundle, 'loader'), 'utf8')).trim();
    const m = AGENT_MOUNT_POINT;
    const cmd = [`${m}/lib/${loader}`, '--library-path', `${m}/lib`, `${m}/bin/node`, ...AGENT_NODE_FLAGS, `${m}/agent/berth-agent.js`];
    this.logger.debug('starting agent', { id: record.id });
    const env = [`BERTH_AGENT_HOST_KEY=${keys.hostKey}`, `BERTH_AGENT_AUTHORIZED_KEYS=${keys.authorizedKeys}`];
    const c = options.connection;
    if (!c) return this.containers.exec(record.id, { cmd, env, attachStdin: true }, options.signal ? { signal: options.signal } : {});
    env.push(`BERTH_AGENT_WEBSOCKET_ACCEPT=${c.accept}`, ...(c.protocol ? [`BERTH_AGENT_WEBSOCKET_PROTOCOL=${c.protocol}`] : []));
    return this.containers.exec(record.id, { cmd, env }, { ...(options.signal ? { signal: options.signal } : {}), stdio: c.socket });
  }
}
