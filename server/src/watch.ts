/**
 * The watch channel: the client writes one JSON line
 * {"path": "/workspace", "recursive": true, "exclude": ["node_modules"]}
 * and gets file changes as JSON lines {"type":"change"|"rename","path":"..."}.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { ServerChannel } from 'ssh2';
import type { Logger } from '../../src/common/log';

interface WatchRequest {
  readonly path: string;
  readonly recursive?: boolean;
  readonly exclude?: readonly string[];
}

function parseRequest(line: string): WatchRequest {
  const value = JSON.parse(line) as unknown;
  if (typeof value !== 'object' || value === null || typeof (value as WatchRequest).path !== 'string') {
    throw new Error('expected {"path": string, "recursive"?: boolean, "exclude"?: string[]}');
  }
  return value as WatchRequest;
}

export function serveWatch(stream: ServerChannel, logger: Logger): void {
  const watchers: FSWatcher[] = [];
  let buffered = '';
  const start = (req: WatchRequest): void => {
    const excluded = (rel: string): boolean => (req.exclude ?? []).some((e) => rel === e || rel.startsWith(`${e}/`) || rel.split('/').includes(e));
    const watcher = watch(req.path, { recursive: req.recursive ?? true }, (type, filename) => {
      if (filename === null) return;
      const rel = filename.toString();
      if (excluded(rel)) return;
      stream.write(`${JSON.stringify({ type, path: path.join(req.path, rel) })}\n`);
    });
    watcher.on('error', (err) => {
      logger.warn('watch failed', { path: req.path, error: err.message });
      stream.write(`${JSON.stringify({ type: 'error', path: req.path, message: err.message })}\n`);
    });
    watchers.push(watcher);
    stream.write(`${JSON.stringify({ type: 'ready', path: req.path })}\n`);
  };
  stream.on('data', (data: Buffer) => {
    buffered += data.toString('utf8');
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === '') continue;
      try {
        start(parseRequest(line));
      } catch (err) {
        stream.write(`${JSON.stringify({ type: 'error', message: (err as Error).message })}\n`);
      }
    }
  });
  stream.on('close', () => watchers.forEach((w) => w.close()));
}
