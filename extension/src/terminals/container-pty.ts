/**
 * A terminal in the container: a Pseudoterminal on a login shell with a PTY
 * from the agent (SSH shell channel), resized with the editor's terminal.
 */
import type { ClientChannel } from 'ssh2';
import type { AgentConnection } from '../agent/agent-connection';
import { ChannelPty, type PtyWindow } from './channel-pty';

export class ContainerPty extends ChannelPty {
  protected readonly what = 'open a shell';

  constructor(
    private readonly connection: AgentConnection,
    private readonly cwd: string | undefined,
  ) {
    super();
  }

  protected openChannel(window: PtyWindow): Promise<ClientChannel> {
    return this.connection.shell(window, this.cwd);
  }
}
