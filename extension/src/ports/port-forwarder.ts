/**
 * Forwarded ports: a listener on the host (127.0.0.1, the same port number
 * when it is free, else any) whose connections go through the agent
 * (SSH direct-tcpip) to host:port inside the container.
 */
import net from 'node:net';
import * as vscode from 'vscode';
import type { AgentConnection } from '../agent/agent-connection';
import type { ForwardTarget } from './port-attributes';

export interface ForwardedPort {
  readonly containerId: string;
  readonly target: ForwardTarget;
  readonly localPort: number;
  readonly label?: string;
  readonly source: 'forwardPorts' | 'auto' | 'user';
}

function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export class PortForwarder implements vscode.Disposable {
  private readonly servers = new Map<string, { server: net.Server; port: ForwardedPort }>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  private key(containerId: string, t: ForwardTarget): string {
    return `${containerId}|${t.host}|${t.port}`;
  }

  list(): ForwardedPort[] {
    return [...this.servers.values()].map((s) => s.port);
  }

  find(containerId: string, t: ForwardTarget): ForwardedPort | undefined {
    return this.servers.get(this.key(containerId, t))?.port;
  }

  async forward(connection: AgentConnection, target: ForwardTarget, options: { label?: string; requireLocalPort?: boolean; source: ForwardedPort['source'] }): Promise<ForwardedPort> {
    const existing = this.find(connection.containerId, target);
    if (existing) return existing;
    const server = net.createServer((socket) => {
      socket.pause();
      connection.forwardOut(target.port, target.host).then(
        (channel) => {
          socket.pipe(channel).pipe(socket);
          socket.resume();
          socket.on('error', () => channel.close());
          channel.on('error', () => socket.destroy());
          socket.on('close', () => channel.close());
        },
        (err: unknown) => {
          this.log.warn(`port ${target.port}: ${(err as Error).message}`);
          socket.destroy();
        },
      );
    });
    let localPort: number;
    try {
      localPort = await listen(server, target.port);
    } catch (err) {
      if (options.requireLocalPort) throw err;
      localPort = await listen(server, 0);
    }
    const port: ForwardedPort = { containerId: connection.containerId, target, localPort, source: options.source, ...(options.label ? { label: options.label } : {}) };
    this.servers.set(this.key(connection.containerId, target), { server, port });
    this.log.info(`forwarding 127.0.0.1:${localPort} -> ${target.host}:${target.port} in the container`);
    this.changed.fire();
    return port;
  }

  stop(port: ForwardedPort): void {
    const k = this.key(port.containerId, port.target);
    this.servers.get(k)?.server.close();
    this.servers.delete(k);
    this.changed.fire();
  }

  dispose(): void {
    for (const { server } of this.servers.values()) server.close();
    this.servers.clear();
    this.changed.dispose();
  }
}
