import { notYet } from '../../common/errors';
import type { Command } from '../command';

/** A command whose engine part does not exist yet: it says so, and which issue tracks it. */
function pending(name: string, summary: string, issue: number): Command {
  return {
    name,
    summary: `${summary} (not available yet: issue #${issue})`,
    usage: `${name} [options]`,
    options: {},
    allowPositionals: true,
    strict: false,
    run() {
      return Promise.reject(notYet(`berth ${name}`, issue));
    },
  };
}

export const pendingCommands: readonly Command[] = [
  pending('serve', 'Serve Berth to remote clients over HTTPS', 11),
];
