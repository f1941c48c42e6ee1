/**
 * `berth ssh CONTAINER [-- CMD...]`: a shell (with a PTY) or a command in a
 * container, through its agent. `--stdio` only carries the SSH stream on
 * stdin/stdout, for OpenSSH's ProxyCommand (see `berth ssh-config`).
 * Unlike other commands, stdout is the session's, not a JSON result.
 */
import { pipeline } from 'node:stream/promises';
import { openAgentStream } from '../../api/agent-stream';
import { BerthError } from '../../common/errors';
import type { Command, CommandContext, ParsedOptions } from '../command';
import { ENGINE_OPTIONS, engineClient } from '../engine-client';
import { connectAgent } from '../../api/agent-ssh';

/** POSIX shell quoting of argv for SSH's one command string. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

async function stdio(values: ParsedOptions, container: string, ctx: CommandContext): Promise<number> {
  const api = engineClient(values, ctx.env);
  const stream = await openAgentStream(api, (await api.call('containerInspect', { params: { id: container }, signal: ctx.signal })).id, { signal: ctx.signal });
  void pipeline(process.stdin, stream).catch(() => undefined);
  await pipeline(stream, process.stdout).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  });
  // The agent is gone: stop reading stdin so that the process ends.
  process.stdin.destroy();
  return 0;
}

async function session(values: ParsedOptions, container: string, cmd: readonly string[], ctx: CommandContext): Promise<number> {
  const { client } = await connectAgent(engineClient(values, ctx.env), container, { signal: ctx.signal });
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  const wantTty = values['tty'] === true || (values['no-tty'] !== true && interactive && cmd.length === 0);
  const window = { term: ctx.env['TERM'] ?? 'xterm-256color', rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 };
  // The exit status and the close can come in the same read as the channel's confirmation, before an
  // `await` would resume: they are listened for in the callback itself.
  let closed!: Promise<number>;
  const channel = await new Promise<import('ssh2').ClientChannel>((resolve, reject) => {
    const done = (err: Error | undefined, ch: import('ssh2').ClientChannel): void => {
      if (err) return reject(err);
      closed = new Promise<number>((resolveCode) => {
        let exit = 255;
        ch.on('exit', (c: number | null, signal?: string) => (exit = c ?? (signal ? 128 + 1 : 255)));
        ch.on('close', () => resolveCode(exit));
      });
      resolve(ch);
    };
    if (cmd.length === 0) client.shell(wantTty ? window : false, done);
    else client.exec(shellJoin(cmd), wantTty ? { pty: window } : {}, done);
  });
  const raw = wantTty && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  const onResize = (): void => channel.setWindow(process.stdout.rows, process.stdout.columns, 0, 0);
  if (wantTty) process.stdout.on('resize', onResize);
  process.stdin.pipe(channel);
  process.stdin.on('end', () => channel.end());
  channel.pipe(process.stdout, { end: false });
  channel.stderr.pipe(process.stderr, { end: false });
  const code = await closed;
  if (raw) process.stdin.setRawMode(false);
  process.stdout.off('resize', onResize);
  process.stdin.unpipe(channel);
  process.stdin.pause();
  client.end();
  return code;
}

export const sshCommand: Command = {
  name: 'ssh',
  summary: 'Open a shell or run a command in a container through its agent (SSH).',
  usage: 'ssh [--stdio] [-t|-T] CONTAINER [-- CMD...]',
  allowPositionals: true,
  options: {
    ...ENGINE_OPTIONS,
    stdio: { type: 'boolean', description: 'Carry the raw SSH stream on stdin/stdout (for an OpenSSH ProxyCommand).' },
    tty: { type: 'boolean', short: 't', description: 'Ask for a terminal even for a command.' },
    'no-tty': { type: 'boolean', short: 'T', description: 'No terminal, even for a shell.' },
  },
  async run(values, positionals, ctx) {
    const [container, ...cmd] = positionals;
    if (!container) throw new BerthError('invalid_argument', `usage: berth ${this.usage}`);
    if (values['stdio'] === true) {
      if (cmd.length > 0) throw new BerthError('invalid_argument', '--stdio takes no command');
      return stdio(values, container, ctx);
    }
    return session(values, container, cmd, ctx);
  },
};
