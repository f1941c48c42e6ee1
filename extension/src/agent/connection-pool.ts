/** One agent connection per container, shared by files, terminals and ports; disposed with the extension. */
import type { ApiClient } from '../../../src/api/client';
import { AgentConnection } from './agent-connection';

export class ConnectionPool {
  private readonly connections = new Map<string, AgentConnection>();

  constructor(private readonly api: () => ApiClient) {}

  get(containerId: string): AgentConnection {
    let c = this.connections.get(containerId);
    if (!c) {
      c = new AgentConnection(this.api(), containerId);
      this.connections.set(containerId, c);
    }
    return c;
  }

  drop(containerId: string): void {
    this.connections.get(containerId)?.dispose();
    this.connections.delete(containerId);
  }

  dispose(): void {
    for (const c of this.connections.values()) c.dispose();
    this.connections.clear();
  }
}
