/**
 * One SSH connection (ssh2) to a container's agent, over the engine's
 * WebSocket GET /v1/containers/{id}/agent: authenticated with the
 * container's key, the agent's host key checked. Opened on first use,
 * opened again after it drops; one SFTP session shared by the file system.
 */
import type { Client, ClientChannel, ParsedKey, SFTPWrapper } from 'ssh2';
import type { ApiClient } from '../../../src/api/client';
import { openAgentStream } from '../../../src/api/agent-stream';
import type { AgentCredentials } from '../../../src/api/routes';
import { BerthError } from '../../../src/common/errors';

type Ssh2 = typeof import('ssh2');

async function loadSsh2(): Promise<Ssh2> {
  // CommonJS: a dynamic import gives its exports under `default`.
  const m = (await import('ssh2')) as Ssh2 & { default?: Ssh2 };
  return m.default ?? m;
}

function publicBlob(utils: Ssh2['utils'], line: string): Buffer {
  const parsed = utils.parseKey(line);
  if (parsed instanceof Error) throw new BerthError('internal', `the engine sent an invalid host key: ${parsed.message}`);
  return (Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed).getPublicSSH();
}

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
      const credentials = await this.api.call('containerAgentCredentials', { params: { id: this.containerId } });
      const stream = await openAgentStream(this.api, credentials.id);
      const ssh2 = await loadSsh2();
      const expected = publicBlob(ssh2.utils, credentials.hostPublicKey);
      const client = new ssh2.Client();
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve());
        client.once('error', (err) => reject(new BerthError('unavailable', `SSH to ${credentials.name} failed: ${err.message}`, { cause: err })));
        client.connect({
          sock: stream,
          username: credentials.user,
          privateKey: credentials.clientKey,
          hostVerifier: (key: Buffer) => key.equals(expected),
          readyTimeout: 30_000,
          keepaliveInterval: 15_000,
        });
      });
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
