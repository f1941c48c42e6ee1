/**
 * One SSH connection (ssh2) to a container's agent, over the engine's
 * WebSocket GET /v1/containers/{id}/agent: authenticated with the
 * container's key, the agent's host key checked. Opened on first use,
 * opened again after it drops; one SFTP session shared by the file system.
 */
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import type { ApiClient } from '../../../src/api/client';
import { connectAgent } from '../../../src/api/agent-ssh';
import type { AgentCredentials } from '../../../src/api/routes';
import { BerthError } from '../../../src/common/errors';

interface Open {
  readonly client: Client;
  readonly credentials: AgentCredentials;
  sftp?: Promise<SFTPWrapper>;
}

export class AgentConnection {
  private open: Promise<Open> | undefined;
  private disposed = false;

  constructor(
    private readonly api: ApiClient,
    readonly containerId: string,
  ) {}

  private connect(): Promise<Open> {
    if (this.disposed) return Promise.reject(new BerthError('cancelled', 'the container connection is closed'));
    this.open ??= (async () => {
      const { client, credentials } = await connectAgent(this.api, this.containerId);
      client.on('error', () => undefined);
      client.once('close', () => {
        this.open = undefined;
      });
      return { client, credentials };
    })().catch((err: unknown) => {
      this.open = undefined;
      throw err;
    });
    return this.open;
  }

  async credentials(): Promise<AgentCredentials> {
    return (await this.connect()).credentials;
  }

  async sftp(): Promise<SFTPWrapper> {
    const open = await this.connect();
    open.sftp ??= new Promise<SFTPWrapper>((resolve, reject) => open.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp)))).catch((err: unknown) => {
      open.sftp = undefined;
      throw err;
    });
    return open.sftp;
  }

  /** A login shell with a PTY, in `cwd`. */
  async shell(window: { rows: number; cols: number; term: string }, cwd?: string): Promise<ClientChannel> {
    const { client } = await this.connect();
    return new Promise((resolve, reject) =>
      client.shell(window, cwd ? { env: { BERTH_CWD: cwd } } : {}, (err, ch) => (err ? reject(err) : resolve(ch))),
    );
  }

  /** A command (sh -c) without a PTY. */
  async exec(command: string, cwd?: string): Promise<ClientChannel> {
    const { client } = await this.connect();
    return new Promise((resolve, reject) => client.exec(command, cwd ? { env: { BERTH_CWD: cwd } } : {}, (err, ch) => (err ? reject(err) : resolve(ch))));
  }

  /** A command (sh -c) with a PTY, in `cwd`, with more environment variables: a task. */
  async execPty(command: string, window: { rows: number; cols: number; term: string }, options: { cwd?: string; env?: Readonly<Record<string, string>> } = {}): Promise<ClientChannel> {
    const { client } = await this.connect();
    const env = { ...options.env, ...(options.cwd ? { BERTH_CWD: options.cwd } : {}) };
    return new Promise((resolve, reject) => client.exec(command, { pty: { rows: window.rows, cols: window.cols, height: 0, width: 0, term: window.term }, env }, (err, ch) => (err ? reject(err) : resolve(ch))));
  }

  /** One of the agent's subsystems: berth-ports, berth-watch. */
  async subsystem(name: 'berth-ports' | 'berth-watch'): Promise<ClientChannel> {
    const { client } = await this.connect();
    return new Promise((resolve, reject) => client.subsys(name, (err, ch) => (err ? reject(err) : resolve(ch))));
  }

  /** A TCP connection to host:port as seen from inside the container. */
  async forwardOut(port: number, host = '127.0.0.1'): Promise<ClientChannel> {
    const { client } = await this.connect();
    return new Promise((resolve, reject) => client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch))));
  }

  dispose(): void {
    this.disposed = true;
    void this.open?.then((o) => o.client.end()).catch(() => undefined);
    this.open = undefined;
  }
}
