/**
 * The dashboard's terminal: a WebSocket from the browser bridged to a shell
 * with a PTY in the container, through its agent (an ssh2 client over the
 * engine's agent WebSocket, with the container's key, checking the agent's
 * host key). Binary messages carry the terminal's bytes both ways; a text
 * message {"type":"resize","cols":C,"rows":R} resizes it. The socket closes
 * with "exit N" when the shell ends.
 */
import type { Client, ClientChannel } from 'ssh2';
import type { RawData, WebSocket } from 'ws';
import type { ApiClient } from '../api/client';
import type { Logger } from '../common/log';
import { agentClient } from './agent-client';

function size(v: string | null, fallback: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n < 1000 ? n : fallback;
}

const toBuffer = (data: RawData): Buffer => (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));

export async function runTerminal(ws: WebSocket, engine: ApiClient, id: string, query: URLSearchParams, logger: Logger): Promise<void> {
  const controller = new AbortController();
  ws.once('close', () => controller.abort());
  let client: Client | undefined;
  try {
    client = await agentClient(engine, id, controller.signal);
    const window = { term: 'xterm-256color', cols: size(query.get('cols'), 80), rows: size(query.get('rows'), 24) };
    const c = client;
    const channel = await new Promise<ClientChannel>((resolve, reject) => c.shell(window, (err, ch) => (err ? reject(err) : resolve(ch))));
    let exit = 0;
    channel.on('exit', (code: number | null) => (exit = code ?? 0));
    channel.on('data', (d: Buffer) => ws.send(d, { binary: true }));
    channel.stderr.on('data', (d: Buffer) => ws.send(d, { binary: true }));
    channel.on('close', () => ws.close(1000, `exit ${exit}`));
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        channel.write(toBuffer(data));
        return;
      }
      try {
        const m = JSON.parse(toBuffer(data).toString('utf8')) as { type?: string; cols?: number; rows?: number; data?: string };
        if (m.type === 'resize') channel.setWindow(size(String(m.rows), 24), size(String(m.cols), 80), 0, 0);
        else if (m.type === 'input' && typeof m.data === 'string') channel.write(m.data);
      } catch {
        /* not a control message: ignored */
      }
    });
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
    channel.close();
  } catch (err) {
    logger.debug('terminal failed', { container: id, error: String(err) });
    if (ws.readyState === ws.OPEN) ws.close(1011, (err instanceof Error ? err.message : String(err)).slice(0, 120));
  } finally {
    client?.end();
  }
}
